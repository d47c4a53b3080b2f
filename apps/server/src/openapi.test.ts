import { describe, expect, it } from 'vitest';
import { build } from './testing/helper';

describe('OpenAPI', () => {
  it('describes every route, with its problem responses', async () => {
    const app = await build();
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    expect(doc.openapi).toBe('3.1.0');
    const routes = app.registeredRoutes.filter(
      (r) => !r.hidden && r.method !== 'HEAD' && !r.url.startsWith('/docs'),
    );
    expect(routes.length).toBeGreaterThan(10);
    for (const r of routes) {
      const path = r.url.replace(/:(\w+)/g, '{$1}');
      const op = doc.paths[path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.url} is in the OpenAPI document`).toBeDefined();
      if (r.url.startsWith('/api/v1/')) {
        expect(
          Object.keys(op?.responses ?? {}),
          `${r.method} ${r.url} documents its errors`,
        ).toContain('401');
      }
    }
  });

  it('serves the docs UI', async () => {
    const app = await build();
    const res = await app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });
});
