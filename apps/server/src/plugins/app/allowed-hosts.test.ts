import { describe, expect, it } from 'vitest';
import { build, problem } from '../../testing/helper';
import { consoleNames, hostAllowed, splitHost } from './allowed-hosts';

describe('the Host header check (DNS rebinding)', () => {
  it('refuses a name that is not the console’s with 421, health and metrics included', async () => {
    const app = await build();
    for (const url of ['/healthz', '/metrics', '/api/v1/session', '/api/openapi.json', '/nope']) {
      const res = await app.inject({ method: 'GET', url, headers: { host: 'evil.example:8080' } });
      const body = problem(res, 421, 'misdirected-request');
      expect(body.detail).toContain('"evil.example:8080"');
      expect(body.detail).toContain('IMS_ALLOWED_HOSTS');
    }
    // A rebinding page signing in: refused before the password is checked.
    const signIn = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      headers: { host: 'attacker.example' },
      payload: { username: 'admin', password: 'x' },
    });
    problem(signIn, 421, 'misdirected-request');
  });

  it('answers to localhost, 127.0.0.1 and [::1], with or without a port', async () => {
    const app = await build();
    for (const host of [
      'localhost',
      'localhost:8080',
      'LOCALHOST.',
      '127.0.0.1',
      '127.0.0.1:8080',
      '[::1]',
      '[::1]:8080',
    ]) {
      const res = await app.inject({ method: 'GET', url: '/healthz', headers: { host } });
      expect(res.statusCode, host).toBe(200);
    }
  });

  it('IMS_ALLOWED_HOSTS adds names; a port in an entry must match; * allows any', async () => {
    const app = await build(':memory:', {
      allowedHosts: ['console.example.com', 'proxy.example.com:8443', '.corp.example'],
    });
    const status = async (host: string) =>
      (await app.inject({ method: 'GET', url: '/healthz', headers: { host } })).statusCode;
    expect(await status('console.example.com')).toBe(200);
    expect(await status('console.example.com:443')).toBe(200);
    expect(await status('proxy.example.com:8443')).toBe(200);
    expect(await status('proxy.example.com')).toBe(421);
    expect(await status('a.corp.example')).toBe(200);
    expect(await status('corp.example')).toBe(200);
    expect(await status('evilcorp.example')).toBe(421);
    expect(await status('console.example.com.evil.example')).toBe(421);
    const any = await build(':memory:', { allowedHosts: ['*'] });
    const res = await any.inject({ method: 'GET', url: '/healthz', headers: { host: 'x.y' } });
    expect(res.statusCode).toBe(200);
  });

  it('the bind address is a name; a wildcard bind adds this machine’s addresses', () => {
    expect(hostAllowed('192.0.2.10:8080', consoleNames({ bindHost: '192.0.2.10' }))).toBe(true);
    expect(hostAllowed('192.0.2.11:8080', consoleNames({ bindHost: '192.0.2.10' }))).toBe(false);
    const everywhere = consoleNames({ bindHost: '0.0.0.0' });
    expect(hostAllowed('127.0.0.1', everywhere)).toBe(true);
    expect(hostAllowed('rebind.example', everywhere)).toBe(false);
    expect(hostAllowed(undefined, consoleNames({}))).toBe(false);
    expect(hostAllowed('', consoleNames({}))).toBe(false);
  });

  it('splits host and port, IPv6 in brackets', () => {
    expect(splitHost('Example.COM:80')).toEqual({ name: 'example.com', port: '80' });
    expect(splitHost('[::1]:8080')).toEqual({ name: '::1', port: '8080' });
    expect(splitHost('::1')).toEqual({ name: '::1', port: undefined });
    expect(splitHost('example.com.')).toEqual({ name: 'example.com', port: undefined });
  });
});
