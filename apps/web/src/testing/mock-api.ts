/**
 * A fetch stand-in for component tests, checked against the api-contract
 * route table: every mocked route must be a route of the table, every answer
 * must match that route's response schema for its status, and a request for
 * a method and path the table does not have fails the test. It routes by
 * method and path and records every request.
 */

import { matchRoute, ProblemSchema, type RouteDef } from '@ims/api-contract';
import { Value } from 'typebox/value';
import { onTestFinished, vi } from 'vitest';

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
  /** A server-sent event stream: these events, then open until the request is aborted. */
  events?: { type: string; data: unknown }[];
}

type Handler = (req: MockRequest) => MockAnswer | Promise<MockAnswer>;

/** The web's paths are the console API's, under this prefix. */
const API_PREFIX = '/api/v1';

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

/** `GET /routing` → the route of the table it names, or an error naming the key. */
function routeOf(key: string): RouteDef {
  const [method = '', path = ''] = key.split(' ');
  const match = matchRoute(method, `${API_PREFIX}${path}`);
  if (!match)
    throw new Error(`mock for ${key}: the route table has no ${method} ${API_PREFIX}${path}`);
  return match.route;
}

/** Why an answer does not match the table, or undefined when it does. */
function drift(key: string, route: RouteDef, status: number, body: unknown): string | undefined {
  const schema = route.responses[status] ?? (status >= 500 ? ProblemSchema : undefined);
  if (!schema) return `mock for ${key} answers ${status}, a status the route table does not list`;
  if (body === undefined || Value.Check(schema, body)) return undefined;
  const errors = [...Value.Errors(schema, body)].slice(0, 3);
  return `mock for ${key} (${status}) does not match the contract: ${JSON.stringify(errors)}`;
}

function eventStream(events: { type: string; data: unknown }[], signal?: AbortSignal | null) {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const e of events) {
        controller.enqueue(encoder.encode(`event: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`));
      }
      signal?.addEventListener('abort', () => controller.error(signal.reason), { once: true });
    },
  });
}

export function mockApi(routes: Record<string, Handler | MockAnswer>) {
  const requests: MockRequest[] = [];
  const handlers = new Map(Object.entries(routes));
  for (const key of handlers.keys()) routeOf(key);
  /** What broke the contract: reported as the test's failure even when the UI swallows the error. */
  const violations: string[] = [];
  onTestFinished(() => {
    if (violations.length > 0) throw new Error(violations.join('\n'));
  });
  /** Answers held back until a promise settles (a slow server). */
  const gates = new Map<string, Promise<void>>();
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://console.test');
    const method = (init.method ?? 'GET').toUpperCase();
    const match = matchRoute(method, url.pathname);
    if (!match) {
      const message = `${method} ${url.pathname} is not a route of the console API`;
      violations.push(message);
      throw new Error(message);
    }
    const path = url.pathname.replace(/^\/api\/v1/, '');
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
    const wrong = drift(key, match.route, status, answer.body);
    if (wrong) {
      violations.push(wrong);
      throw new Error(wrong);
    }
    if (answer.events) {
      return new Response(eventStream(answer.events, init.signal), {
        status,
        headers: { 'content-type': 'text/event-stream', ...answer.headers },
      });
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
    /** What broke the contract so far (the test fails with these when it ends). */
    violations,
    /** Requests for one route. */
    calls: (key: string) => requests.filter((r) => `${r.method} ${r.path}` === key),
    set: (key: string, handler: Handler | MockAnswer) => {
      routeOf(key);
      handlers.set(key, handler);
    },
    /** Holds every answer for one route until `until` settles. */
    delay: (key: string, until: Promise<void>) => gates.set(key, until),
  };
}
