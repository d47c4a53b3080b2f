/**
 * Requests from the console, sent on the node's event stream (`request { id,
 * method, params }`) because the console cannot open a connection to a node
 * (it may sit behind NAT). Each method is one queue operation; the answer
 * goes back with `PUT /api/v1/node/requests/{id}`.
 */

import { type NodeAnswerBody, TRAFFIC_PAGE_LIMIT } from '@ims/api-contract';
import { badRequest, failed, unknownMethod } from '@ims/node-link';
import type { TrafficStore } from './decision-records';
import { NotQueued, type OutboundQueue } from './queue';

/** The queue operations a request may ask for. */
export type QueueOps = Pick<OutboundQueue, 'list' | 'describe' | 'retry' | 'delete'>;

const idOf = (params: Record<string, unknown>): string | undefined =>
  typeof params.id === 'string' && params.id !== '' ? params.id : undefined;

/** Runs one request; never throws: a failure is an `{ ok: false }` answer. */
export async function answerRequest(
  queue: QueueOps,
  method: unknown,
  params: unknown,
  traffic?: Pick<TrafficStore, 'page'>,
): Promise<NodeAnswerBody> {
  const p = params && typeof params === 'object' ? (params as Record<string, unknown>) : {};
  try {
    switch (method) {
      case 'queue.list':
        return { ok: true, result: { messages: await queue.list() } };
      case 'queue.retry': {
        const id = idOf(p);
        if (!id) return badRequest('params.id is required.');
        const message = await queue.describe(id);
        if (!message) throw new NotQueued(id);
        queue.retry(id);
        return { ok: true, result: { message } };
      }
      case 'queue.delete': {
        const id = idOf(p);
        if (!id) return badRequest('params.id is required.');
        const message = await queue.describe(id);
        if (!message) throw new NotQueued(id);
        const { ndrSent } = await queue.delete(id, { ndr: p.ndr === true });
        return { ok: true, result: { message, ndrSent } };
      }
      case 'traffic.records': {
        if (!traffic) break;
        const after = p.after;
        const limit = p.limit;
        if (
          (after !== undefined && (typeof after !== 'string' || after.length > 2000)) ||
          (limit !== undefined &&
            (!Number.isSafeInteger(limit) ||
              (limit as number) < 1 ||
              (limit as number) > TRAFFIC_PAGE_LIMIT))
        ) {
          return badRequest(
            `params.after must be a cursor and params.limit 1-${TRAFFIC_PAGE_LIMIT}.`,
          );
        }
        return {
          ok: true,
          result: traffic.page(
            after as string | undefined,
            (limit as number | undefined) ?? TRAFFIC_PAGE_LIMIT,
          ),
        };
      }
      default:
        break;
    }
    return unknownMethod(method);
  } catch (err) {
    if (err instanceof NotQueued)
      return { ok: false, error: { code: 'not-found', message: err.message } };
    return failed(String(err instanceof Error ? err.message : err));
  }
}
