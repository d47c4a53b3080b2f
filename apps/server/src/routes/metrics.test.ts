import { describe, expect, it } from 'vitest';
import { build, login } from '../testing/helper';

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
