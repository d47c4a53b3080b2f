/**
 * What an operator sees in the console's log.
 *
 * - On a terminal, readable lines (pino-pretty); otherwise one JSON object a
 *   line, for a log collector. The SMTP node's lines, which the embedded start
 *   relays, are shown the same way.
 * - The requests that arrive all the time whether or not anyone does anything
 *   (the nodes' status reports, the event streams, health checks) are logged at
 *   debug, so a console at info is quiet until someone acts.
 */

import type { Readable, Writable } from 'node:stream';
import { LogController } from 'fastify';
import PinoPretty, { prettyFactory } from 'pino-pretty';

/** Routes (as registered) whose request log lines are debug, not info. */
const ROUTINE_REQUESTS = new Set([
  'PUT /api/v1/node/status',
  'GET /api/v1/node/events',
  'GET /api/v1/events',
  'GET /healthz',
]);

type Request = Parameters<LogController['incomingRequest']>[0];
type Reply = Parameters<LogController['incomingRequest']>[1];

function routine(request: Request): boolean {
  return ROUTINE_REQUESTS.has(`${request.method} ${request.routeOptions.url ?? ''}`);
}

/** Fastify's request log lines, with the routine requests at debug. */
export class ConsoleLogController extends LogController {
  override incomingRequest(request: Request, reply: Reply): void {
    if (routine(request)) request.log.debug({ req: request }, 'incoming request');
    else super.incomingRequest(request, reply);
  }

  override requestCompleted(error: Error | null | undefined, request: Request, reply: Reply): void {
    if (error || !routine(request)) super.requestCompleted(error, request, reply);
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

const PRETTY = {
  colorize: true,
  translateTime: 'SYS:HH:MM:ss.l',
  ignore: 'pid,hostname',
  singleLine: true,
} as const;

/** The console's log destination: readable lines on a terminal, else undefined (JSON to stdout). */
export function prettyStream(tty: boolean): Writable | undefined {
  return tty ? PinoPretty({ ...PRETTY, destination: 1 }) : undefined;
}

/**
 * Relays a child's output to `out`, one line at a time, each JSON log line
 * made readable (other lines pass unchanged). For the SMTP node the embedded
 * start supervises, when the console's own log is pretty.
 */
export function relayPretty(from: Readable, out: Writable): void {
  const pretty = prettyFactory(PRETTY);
  let buffer = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      out.write(prettyLine(pretty, buffer.slice(0, i)));
      buffer = buffer.slice(i + 1);
    }
  });
  from.on('end', () => {
    if (buffer) out.write(prettyLine(pretty, buffer));
  });
}

function prettyLine(pretty: (line: string) => string, line: string): string {
  if (!line.startsWith('{')) return `${line}\n`;
  const text = pretty(line);
  return text.endsWith('\n') ? text : `${text}\n`;
}
