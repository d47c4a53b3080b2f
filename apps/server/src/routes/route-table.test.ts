import { type RouteDef, routes } from '@ims/api-contract';
import { describe, expect, it } from 'vitest';
import { build } from '../testing/helper';

describe('the route table', () => {
  it('is exactly the set of routes the console registers (method and path)', async () => {
    const app = await build();
    // HEAD is Fastify's automatic twin of each GET; /docs is the swagger-ui
    // plugin's own pages (the docs UI, not the API). The built web app is not
    // served in tests (testing/helper.ts).
    const registered = app.registeredRoutes
      .filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs'))
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    const table = (Object.values(routes) as RouteDef[]).map((r) => `${r.method} ${r.path}`).sort();
    expect(registered).toEqual(table);
    expect(new Set(table).size).toBe(table.length);
  });

  it('documents each route with the summary and tags of its table entry', async () => {
    const app = await build();
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    const doc = res.json<{
      paths: Record<string, Record<string, { summary?: string; tags?: string[] }>>;
    }>();
    for (const route of Object.values(routes) as RouteDef[]) {
      const op = doc.paths[route.path.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()];
      if (route.hide) {
        expect(op, `${route.method} ${route.path} is hidden`).toBeUndefined();
        continue;
      }
      expect(op, `${route.method} ${route.path}`).toMatchObject({
        summary: route.summary,
        tags: [...route.tags],
      });
    }
  });
});
