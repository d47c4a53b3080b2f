import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../lib/api-client';
import { mockApi, problem } from './mock-api';

let clear: (() => void) | undefined;
afterEach(() => clear?.());

describe('the mock console is held to the route table', () => {
  it('refuses to mock a route the table does not have', () => {
    expect(() => mockApi({ 'GET /routing/latest': { body: {} } })).toThrow(
      /route table has no GET \/api\/v1\/routing\/latest/,
    );
    const mock = mockApi({});
    expect(() => mock.set('POST /service', { status: 202 })).toThrow(/route table has no/);
  });

  it('a request for a path outside the table fails the test', async () => {
    const mock = mockApi({});
    clear = () => mock.violations.splice(0);
    const err = await api.raw('GET', '/api/v1/service').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeUndefined();
    // The stand-in itself, called as the client would call it for a path the table lacks.
    const standIn = globalThis.fetch;
    await expect(standIn('/api/v1/routing/latest')).rejects.toThrow(
      /not a route of the console API/,
    );
    expect(mock.violations).toEqual([
      'GET /api/v1/routing/latest is not a route of the console API',
    ]);
  });

  it('an answer that does not match the route schema for its status fails the test', async () => {
    const mock = mockApi({
      'GET /service': { body: { savedVersion: 'one' } },
      'POST /service/restart': { status: 200, body: { version: 2 } },
      'GET /routing': problem(412, 'precondition-failed', 'The table does not list 412 here.'),
    });
    clear = () => mock.violations.splice(0);
    await expect(api.service.status()).rejects.toThrow();
    await expect(api.service.restart()).rejects.toThrow();
    await expect(api.routing.get()).rejects.toThrow();
    expect(mock.violations).toEqual([
      expect.stringMatching(/^mock for GET \/service \(200\) does not match the contract/),
      'mock for POST /service/restart answers 200, a status the route table does not list',
      'mock for GET /routing answers 412, a status the route table does not list',
    ]);
  });

  it('an answer that matches passes, problems included', async () => {
    const mock = mockApi({
      'POST /service/restart': {
        status: 202,
        body: { version: 2, coalesced: false, signalled: 1 },
      },
      'GET /service': problem(401, 'unauthenticated', 'Sign in.'),
    });
    expect(await api.service.restart()).toEqual({ version: 2, coalesced: false, signalled: 1 });
    await expect(api.service.status()).rejects.toMatchObject({ status: 401 });
    expect(mock.violations).toEqual([]);
  });
});
