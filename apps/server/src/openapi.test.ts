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

  it("documents the audit log's summary, who, action families and signIns, and the relay test's verdict", async () => {
    const app = await build();
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: { name: string; in: string; description?: string }[];
            responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
          }
        >
      >;
    }>();
    const audit = doc.paths['/api/v1/audit']?.get;
    const params = Object.fromEntries((audit?.parameters ?? []).map((p) => [p.name, p]));
    expect(params.signIns).toMatchObject({ in: 'query' });
    expect(params.signIns?.description).toMatch(/sign-ins/);
    expect(params.action?.description).toMatch(/family ending with a dot/);
    const auditBody = JSON.stringify(audit?.responses['200']);
    for (const field of ['"summary"', '"by"', '"person"']) expect(auditBody).toContain(field);
    const relay = JSON.stringify(doc.paths['/api/v1/service/relay-test']?.post?.responses['200']);
    for (const field of ['"summary"', '"sourceMayRelay"', '"relayed"']) {
      expect(relay).toContain(field);
    }
  });

  it('serves the docs UI', async () => {
    const app = await build();
    const res = await app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });
});
