/**
 * Fastify route options (method, url, schema) from an entry of the
 * api-contract route table, so a route file writes neither its path nor its
 * schemas: `app.route({ ...routeOptions(routes.getRouting), handler })`.
 */

import type { RouteDef } from '@ims/api-contract';

type Part<R, K extends string> = R extends { readonly [P in K]: infer S } ? S : undefined;

export interface RouteSchema<R extends RouteDef> {
  tags: string[];
  summary: string;
  security?: { [label: string]: string[] }[];
  produces?: string[];
  hide?: boolean;
  params: Part<R, 'params'>;
  querystring: Part<R, 'query'>;
  body: Part<R, 'body'>;
  headers: Part<R, 'headers'>;
  response: R['responses'];
}

export function routeOptions<const R extends RouteDef>(
  route: R,
): { method: R['method']; url: R['path']; schema: RouteSchema<R> } {
  const schema: Record<string, unknown> = {
    tags: [...route.tags],
    summary: route.summary,
    response: route.responses,
  };
  if (route.security) {
    schema.security = route.security.map((s) =>
      Object.fromEntries(Object.entries(s).map(([label, scopes]) => [label, [...scopes]])),
    );
  }
  if (route.produces) schema.produces = [...route.produces];
  if (route.hide) schema.hide = true;
  if (route.params) schema.params = route.params;
  if (route.query) schema.querystring = route.query;
  if (route.body) schema.body = route.body;
  if (route.headers) schema.headers = route.headers;
  return { method: route.method, url: route.path, schema: schema as unknown as RouteSchema<R> };
}
