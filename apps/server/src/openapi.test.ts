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

  it('holds the Queues contract of issue 17 §4, exactly', async () => {
    const app = await build();
    interface Schema {
      type?: string;
      properties?: Record<string, Schema>;
      items?: Schema;
      required?: string[];
    }
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: { in: string; name: string; schema: Schema }[];
            responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
          }
        >
      >;
    }>();
    const list = doc.paths['/api/v1/service/queue']?.get;
    const body = list?.responses['200']?.content?.['application/json']?.schema;
    expect(Object.keys(body?.properties ?? {})).toEqual(['nodes']);
    const node = body?.properties?.nodes?.items;
    expect(Object.keys(node?.properties ?? {})).toEqual(['name', 'messages']);
    const message = node?.properties?.messages?.items;
    const fields = [
      'id',
      'from',
      'recipients',
      'size',
      'queuedAt',
      'attempts',
      'nextAttemptAt',
      'lastError',
    ];
    expect(Object.keys(message?.properties ?? {})).toEqual(fields);
    expect(message?.required).toEqual(fields);
    expect(message?.properties?.recipients).toMatchObject({
      type: 'array',
      items: { type: 'string' },
    });

    const retry = doc.paths['/api/v1/service/queue/{node}/{id}/retry']?.post;
    const remove = doc.paths['/api/v1/service/queue/{node}/{id}']?.delete;
    for (const op of [retry, remove]) {
      expect(op?.parameters?.filter((p) => p.in === 'path').map((p) => p.name)).toEqual([
        'node',
        'id',
      ]);
      for (const status of ['204', '400', '401', '403', '404', '503', '504'])
        expect(Object.keys(op?.responses ?? {})).toContain(status);
    }
    expect(remove?.parameters?.find((p) => p.in === 'query')).toMatchObject({
      name: 'ndr',
      schema: { type: 'boolean' },
    });
    expect(doc.paths['/api/v1/node/requests/{id}']?.put?.responses).toHaveProperty('204');
  });

  it('serves the docs UI', async () => {
    const app = await build();
    const res = await app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
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
});
