import { afterEach, describe, expect, it } from 'vitest';
import { mockApi, problem } from '../testing/mock-api';
import { api, request, setCsrfToken, setUnauthenticatedHandler } from './api';
import { ApiProblem, fieldsUnder } from './problem';

afterEach(() => {
  setCsrfToken(undefined);
  setUnauthenticatedHandler(undefined);
});

describe('the fetch layer', () => {
  it('sends the CSRF token on writes only, and returns the ETag', async () => {
    const mock = mockApi({
      'GET /routing': { body: undefined, headers: { etag: '"v7"' } },
      'POST /service/restart': {
        status: 202,
        body: { version: 2, coalesced: false, signalled: 1 },
      },
    });
    setCsrfToken('t0ken');
    expect((await request('/routing')).etag).toBe('"v7"');
    await api('/service/restart', { method: 'POST' });
    expect(mock.calls('GET /routing')[0]!.headers['x-csrf-token']).toBeUndefined();
    expect(mock.calls('POST /service/restart')[0]!.headers['x-csrf-token']).toBe('t0ken');
  });

  it('throws problem+json as ApiProblem with per-field errors, and reports 401', async () => {
    let signedOut = false;
    setUnauthenticatedHandler(() => {
      signedOut = true;
    });
    mockApi({
      'PUT /routing': problem(422, 'policy-invalid', 'Bad.', {
        errors: [{ pointer: '/config/routes/0/sentTo', detail: 'Not a domain.' }],
      }),
      'GET /service': problem(401, 'unauthenticated', 'Sign in.'),
    });
    const err = await api('/routing', { method: 'PUT', body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiProblem);
    expect((err as ApiProblem).slug).toBe('policy-invalid');
    expect(fieldsUnder((err as ApiProblem).fieldErrors, '/config')).toEqual({
      '/routes/0/sentTo': 'Not a domain.',
    });
    await api('/service').catch(() => undefined);
    expect(signedOut).toBe(true);
  });

  it('a console that cannot be reached is a problem with status 0', async () => {
    const { vi } = await import('vitest');
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('fetch failed')));
    const err = (await api('/routing').catch((e: unknown) => e)) as ApiProblem;
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/cannot be reached/);
  });
});
