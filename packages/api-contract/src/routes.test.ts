import { describe, expect, it } from 'vitest';
import { matchRoute, openApiPath, type RouteDef, routes } from './index';

const all = Object.entries(routes) as [string, RouteDef][];

describe('the route table', () => {
  it('has one entry per method and path, each with a 2xx answer and a documented 401 where auth applies', () => {
    const keys = all.map(([, r]) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const [name, r] of all) {
      const statuses = Object.keys(r.responses).map(Number);
      expect(
        statuses.some((s) => s >= 200 && s < 300),
        name,
      ).toBe(true);
      const isPublic = Array.isArray(r.security) && r.security.length === 0;
      if (r.path.startsWith('/api/v1/') && !isPublic) expect(statuses, name).toContain(401);
    }
  });

  it('matches concrete paths to their route, with path parameters', () => {
    expect(matchRoute('get', '/api/v1/routing/versions/12')).toMatchObject({
      name: 'getVersion',
      params: { n: '12' },
    });
    expect(matchRoute('POST', '/api/v1/routing/versions/3/restore')?.name).toBe('restoreVersion');
    expect(matchRoute('GET', '/api/v1/routing/versions')?.name).toBe('listVersions');
    expect(matchRoute('DELETE', '/api/v1/routing')).toBeUndefined();
    expect(matchRoute('GET', '/api/v1/routing/versions/3/extra')).toBeUndefined();
    expect(matchRoute('GET', '/api/v1/routingXversions')).toBeUndefined();
  });

  it("writes paths in OpenAPI's spelling", () => {
    expect(openApiPath(routes.restoreVersion.path)).toBe('/api/v1/routing/versions/{n}/restore');
  });
});
