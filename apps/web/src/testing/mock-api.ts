/**
 * A fetch stand-in for component tests: routes by method and path, records
 * every request, and checks every answer's body against the api-contract
 * schema named for the route, failing the test when a mock drifts.
 */

import * as Contract from '@ims/api-contract';
import { Value } from 'typebox/value';
import { vi } from 'vitest';

export interface MockRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

export interface MockAnswer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (req: MockRequest) => MockAnswer | Promise<MockAnswer>;

/** The schema of each route's 2xx body (problem bodies are checked against ProblemSchema). */
const SCHEMAS: Record<string, unknown> = {
  'GET /session': Contract.SessionSchema,
  'POST /session': Contract.SessionSchema,
  'GET /routing': Contract.RoutingStateSchema,
  'PUT /routing': Contract.RoutingStateSchema,
  'GET /routing/diff': Contract.DiffSchema,
  'GET /routing/versions': Contract.VersionListSchema,
  'POST /routing/evaluate': Contract.EvaluateResultSchema,
  'POST /routing/advice': Contract.AdviceSchema,
  'GET /service': Contract.ServiceSchema,
  'POST /service/restart': Contract.RestartResultSchema,
  'GET /audit': Contract.AuditPageSchema,
  'GET /directory/mailboxes': Contract.MailboxListSchema,
  'POST /directory/mailboxes': Contract.MailboxSchema,
};

export function problem(
  status: number,
  slug: string,
  detail: string,
  extra: Record<string, unknown> = {},
): MockAnswer {
  return {
    status,
    body: { type: `/problems/${slug}`, title: slug.replace(/-/g, ' '), status, detail, ...extra },
  };
}

export function mockApi(routes: Record<string, Handler | MockAnswer>) {
  const requests: MockRequest[] = [];
  const handlers = new Map(Object.entries(routes));
  /** Answers held back until a promise settles (a slow server). */
  const gates = new Map<string, Promise<void>>();
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://console.test');
    const path = url.pathname.replace(/^\/api\/v1/, '');
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(
      Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [
        k.toLowerCase(),
        v,
      ]),
    );
    const req: MockRequest = {
      method,
      path,
      query: url.searchParams,
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    requests.push(req);
    const key = `${method} ${path}`;
    await gates.get(key);
    const handler = handlers.get(key);
    if (!handler) {
      const p = problem(404, 'not-found', `No mock for ${key}`);
      return new Response(JSON.stringify(p.body), { status: 404 });
    }
    const answer = typeof handler === 'function' ? await handler(req) : handler;
    const status = answer.status ?? 200;
    if (answer.body !== undefined) {
      const schema = (status < 300 ? SCHEMAS[key] : Contract.ProblemSchema) as
        | Parameters<typeof Value.Check>[0]
        | undefined;
      if (schema && !Value.Check(schema, answer.body)) {
        const errors = [...Value.Errors(schema, answer.body)].slice(0, 3);
        throw new Error(
          `mock for ${key} (${status}) does not match the contract: ${JSON.stringify(errors)}`,
        );
      }
    }
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status,
      headers: {
        'content-type': status < 300 ? 'application/json' : 'application/problem+json',
        ...answer.headers,
      },
    });
  });
  vi.stubGlobal('fetch', fetchMock);
  return {
    requests,
    /** Requests for one route. */
    calls: (key: string) => requests.filter((r) => `${r.method} ${r.path}` === key),
    set: (key: string, handler: Handler | MockAnswer) => handlers.set(key, handler),
    /** Holds every answer for one route until `until` settles. */
    delay: (key: string, until: Promise<void>) => gates.set(key, until),
  };
}
