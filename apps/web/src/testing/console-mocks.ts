import { diffConfigs, type RoutingConfig } from '@ims/routing-core';
import { routingState, service, session } from './fixtures';
import { type MockAnswer, type MockRequest, mockApi, problem } from './mock-api';

/**
 * A signed-in console: GET/PUT /routing keep versions like the server (with
 * If-Match and 412), plus service (and its event stream), mailboxes and session.
 */
export function mockConsole(
  overrides: Record<string, ((req: MockRequest) => MockAnswer) | MockAnswer> = {},
) {
  const versions = [routingState(1)];
  const current = () => versions.at(-1)!;
  const api = mockApi({
    'GET /session': { body: session },
    'DELETE /session': { status: 204 },
    'GET /routing': () => ({ body: current(), headers: { etag: `"v${current().version}"` } }),
    'PUT /routing': (req) => {
      const now = current();
      if (req.headers['if-match'] !== `"v${now.version}"`) {
        return problem(
          412,
          'precondition-failed',
          `Version ${now.version} was saved by ${now.savedBy}.`,
          {
            currentVersion: now.version,
            savedBy: now.savedBy,
            savedAt: now.savedAt,
          },
        );
      }
      const body = req.body as { config: RoutingConfig };
      const next = routingState(now.version + 1, body.config);
      versions.push(next);
      return { body: next, headers: { etag: `"v${next.version}"` } };
    },
    'GET /routing/diff': (req) => {
      const from = versions.find((v) => v.version === Number(req.query.get('from')))!;
      const to =
        versions.find((v) => v.version === Number(req.query.get('to') ?? current().version)) ??
        current();
      return {
        body: { from: from.version, to: to.version, changes: diffConfigs(from.config, to.config) },
      };
    },
    'GET /service': { body: service() },
    'GET /events': { events: [] },
    'GET /directory/mailboxes': { body: { mailboxes: [] } },
    'POST /routing/impact': {
      body: { since: '2026-11-22T00:00:00.000Z', transactions: 0, changes: [] },
    },
    ...overrides,
  });
  /** Someone else saves a version. */
  const saveAsOther = (change: (c: RoutingConfig) => RoutingConfig, by = 'bob') => {
    versions.push(
      routingState(current().version + 1, change(structuredClone(current().config)), by),
    );
  };
  return { ...api, versions, saveAsOther };
}
