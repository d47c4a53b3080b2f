/** GET /metrics: Prometheus text exposition of the console's own counters and the service state. */

import { routes } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { actorOf } from '../plugins/app/authenticate';
import { routeOptions } from './route-options';

export interface MetricsOptions {
  /**
   * IMS_METRICS_TOKEN_REQUIRED: /metrics answers only a request with an API
   * token (read is enough) or a session; otherwise 401/403. Default off.
   */
  tokenRequired?: boolean | undefined;
}

const escapeLabel = (v: string) =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;

// Not encapsulated: its onResponse hook must see every route.
export default fp(
  async function metricsRoutes(app: FastifyInstance, opts: MetricsOptions) {
    const requests = new Map<string, { labels: Record<string, string>; count: number }>();
    const durations = new Map<string, { sum: number; count: number }>();

    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const l = { method: request.method, route, status: String(reply.statusCode) };
      const key = `${l.method} ${l.route} ${l.status}`;
      const r = requests.get(key) ?? { labels: l, count: 0 };
      r.count++;
      requests.set(key, r);
      const d = durations.get(route) ?? { sum: 0, count: 0 };
      d.sum += reply.elapsedTime / 1000;
      d.count++;
      durations.set(route, d);
    });

    app.route({
      ...routeOptions(routes.metrics),
      config: { public: true },
      handler: async (request, reply) => {
        // Outside /api/v1, so the authenticate hook does not see it: checked here.
        if (opts.tokenRequired) request.actor = actorOf(app, request);
        const lines: string[] = [];
        const metric = (
          name: string,
          type: string,
          help: string,
          samples: [Record<string, string>, number][],
        ) => {
          lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
          for (const [l, v] of samples)
            lines.push(`${name}${Object.keys(l).length ? labels(l) : ''} ${v}`);
        };
        metric(
          'ims_http_requests_total',
          'counter',
          'HTTP requests answered, by method, route and status.',
          [...requests.values()].map((r) => [r.labels, r.count]),
        );
        metric(
          'ims_http_request_duration_seconds_sum',
          'counter',
          'Total time spent answering, by route.',
          [...durations].map(([route, d]) => [{ route }, d.sum]),
        );
        metric(
          'ims_http_request_duration_seconds_count',
          'counter',
          'Requests timed, by route.',
          [...durations].map(([route, d]) => [{ route }, d.count]),
        );
        const s = app.serviceStatus.snapshot();
        metric('ims_routing_saved_version', 'gauge', 'The saved routing configuration version.', [
          [{}, s.savedVersion],
        ]);
        metric(
          'ims_service_target_version',
          'gauge',
          'The version the nodes were last told to run.',
          [[{}, s.targetVersion]],
        );
        metric(
          'ims_service_pending_restart',
          'gauge',
          '1 while a node runs an older version than the saved one.',
          [[{}, s.pendingRestart ? 1 : 0]],
        );
        const states = new Map<string, number>();
        for (const n of s.nodes) states.set(n.state, (states.get(n.state) ?? 0) + 1);
        metric(
          'ims_nodes',
          'gauge',
          'SMTP nodes by state.',
          [...states].map(([state, n]) => [{ state }, n]),
        );
        metric(
          'ims_node_running_version',
          'gauge',
          'The configuration version each node runs.',
          s.nodes
            .filter((n) => n.runningVersion !== null)
            .map((n) => [{ node: n.name }, n.runningVersion as number]),
        );
        metric(
          'ims_node_counter',
          'gauge',
          'Counters each node last reported (sessions, messages, rejections, ...).',
          s.nodes.flatMap((n) =>
            Object.entries(n.counters).map(
              ([name, v]) => [{ node: n.name, name }, v] as [Record<string, string>, number],
            ),
          ),
        );
        return reply.type('text/plain; version=0.0.4; charset=utf-8').send(`${lines.join('\n')}\n`);
      },
    });
  },
  { name: 'metrics', dependencies: ['authenticate'] },
);
