/**
 * The fetch layer: JSON in and out, the session's CSRF token on every write,
 * RFC 9457 problems thrown as ApiProblem, and a hook for "signed out" (401).
 * Every endpoint has its own file under features/<feature>/api that calls this.
 */

import { ApiProblem, type Problem } from './problem';

export const API_BASE = '/api/v1';

let csrfToken: string | undefined;
let onUnauthenticated: (() => void) | undefined;

/** Remembers the CSRF token of the browser session (from sign-in or GET /session). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the console answers 401 to anything but sign-in. */
export function setUnauthenticatedHandler(handler: (() => void) | undefined): void {
  onUnauthenticated = handler;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  data: T;
  etag: string | null;
  status: number;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function urlOf(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`;
}

async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (body && typeof body === 'object' && typeof body.title === 'string') {
      return { ...body, type: body.type ?? 'about:blank', status: res.status } as Problem;
    }
  } catch {
    // not JSON: fall through
  }
  return {
    type: 'about:blank',
    title: res.statusText || `HTTP ${res.status}`,
    status: res.status,
    detail: text ? text.slice(0, 300) : `The console answered ${res.status}.`,
  };
}

/** One request; resolves with the body and ETag, or throws ApiProblem. */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (WRITES.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(urlOf(path, opts.query), {
      method,
      headers,
      credentials: 'same-origin',
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiProblem({
      type: 'about:blank',
      title: 'The console cannot be reached',
      status: 0,
      detail: 'The console cannot be reached: check that it is running and try again.',
    });
  }
  if (!res.ok) {
    const problem = await problemOf(res);
    if (res.status === 401 && path !== '/session') onUnauthenticated?.();
    throw new ApiProblem(problem);
  }
  const text = res.status === 204 ? '' : await res.text();
  return {
    data: (text ? JSON.parse(text) : null) as T,
    etag: res.headers.get('etag'),
    status: res.status,
  };
}

/** The body only. */
export async function api<T>(path: string, opts?: RequestOptions): Promise<T> {
  return (await request<T>(path, opts)).data;
}
