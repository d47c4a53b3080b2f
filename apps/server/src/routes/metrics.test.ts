import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../app';
import { build, login, problem, TEST_PASSWORD_COST, token } from '../testing/helper';

describe('GET /metrics', () => {
  it('exposes request counters and the service state in Prometheus text format', async () => {
    const app = await build();
    const browser = await login(app);
    await app.inject({ method: 'GET', url: '/api/v1/routing', headers: browser.read });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(res.body).toContain('# TYPE ims_http_requests_total counter');
    expect(res.body).toContain(
      'ims_http_requests_total{method="GET",route="/api/v1/routing",status="200"} 1',
    );
    expect(res.body).toContain('ims_routing_saved_version 1');
    expect(res.body).toContain('ims_service_pending_restart 0');
  });
});

describe('GET /metrics with IMS_METRICS_TOKEN_REQUIRED', () => {
  it('answers only with a token (read is enough) or a session: 401 without, 403 for a node token', async () => {
    const app = await buildApp({
      dataDir: ':memory:',
      siteDomain: 'example.com',
      adminPassword: 'metrics admin password',
      passwordCost: TEST_PASSWORD_COST,
      metricsTokenRequired: true,
    });
    onTestFinished(() => app.close());
    problem(await app.inject({ method: 'GET', url: '/metrics' }), 401, 'unauthenticated');
    problem(
      await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer ims_not-a-token' },
      }),
      401,
      'unauthenticated',
    );
    const signIn = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { username: 'admin', password: 'metrics admin password' },
    });
    const cookie = `ims_session=${signIn.cookies.find((c) => c.name === 'ims_session')?.value}`;
    const mint = async (body: Record<string, string>, url = '/api/v1/tokens') =>
      (
        await app.inject({
          method: 'POST',
          url,
          headers: { cookie, 'x-csrf-token': signIn.json<{ csrfToken: string }>().csrfToken },
          payload: body,
        })
      ).json<{ token: string }>().token;
    const read = await mint({ name: 'prometheus', scope: 'read' });
    const node = await mint({ name: 'edge' }, '/api/v1/nodes');
    const ok = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${read}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('ims_routing_saved_version 1');
    expect(
      (await app.inject({ method: 'GET', url: '/metrics', headers: { cookie } })).statusCode,
    ).toBe(200);
    problem(
      await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${node}` },
      }),
      403,
      'forbidden',
    );
  });

  it('is open by default (the documented default), as before', async () => {
    const app = await build();
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    await token(app, 'read');
  });
});
