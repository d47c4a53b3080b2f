/**
 * The console's queue requests (the Queues tab), answered from Postfix's own
 * queue: `postqueue -j` lists it, `postqueue -i` retries one message now and
 * `postsuper -d` deletes one. A delete that asks for a non-delivery report is
 * refused with a clear error: Postfix cannot bounce one chosen message from
 * the command line without first holding it, so the agent does not pretend to.
 */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { NodeAnswerBody, QueuedMessage } from '@ims/api-contract';
import { badRequest, failed, unknownMethod } from '@ims/node-link';

const run = promisify(execFile);

/** One line of `postqueue -j` (Postfix's JSON queue listing). */
interface PostqueueEntry {
  queue_name?: string;
  queue_id?: string;
  arrival_time?: number;
  message_size?: number;
  sender?: string;
  recipients?: { address?: string; delay_reason?: string }[];
}

/** `postqueue -j` output → the console's queued messages. */
export function parsePostqueue(text: string, now = new Date()): QueuedMessage[] {
  const messages: QueuedMessage[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry: PostqueueEntry;
    try {
      entry = JSON.parse(line) as PostqueueEntry;
    } catch {
      continue;
    }
    if (typeof entry.queue_id !== 'string' || !/^[A-Za-z0-9._-]{1,200}$/.test(entry.queue_id))
      continue;
    const recipients = (entry.recipients ?? []).filter(
      (r): r is { address: string; delay_reason?: string } => typeof r.address === 'string',
    );
    const reason = recipients.find((r) => r.delay_reason)?.delay_reason;
    const arrival =
      typeof entry.arrival_time === 'number' ? new Date(entry.arrival_time * 1000) : now;
    messages.push({
      id: entry.queue_id,
      from: entry.sender ?? '',
      recipients: recipients.map((r) => r.address),
      size: Math.max(0, Math.trunc(entry.message_size ?? 0)),
      queuedAt: arrival.toISOString(),
      // Postfix does not list attempts; a deferred message was tried at least once.
      attempts: entry.queue_name === 'deferred' ? 1 : 0,
      nextAttemptAt: now.toISOString(),
      lastError: reason ?? null,
    });
  }
  return messages;
}

/** Runs one queue request against the instance in `configDir`; never throws. */
export async function answerRequest(
  configDir: string,
  method: unknown,
  params: unknown,
): Promise<NodeAnswerBody> {
  const p = params && typeof params === 'object' ? (params as Record<string, unknown>) : {};
  const list = async () => parsePostqueue((await run('postqueue', ['-c', configDir, '-j'])).stdout);
  try {
    if (method === 'queue.list') return { ok: true, result: { messages: await list() } };
    if (method === 'queue.retry' || method === 'queue.delete') {
      const id = typeof p.id === 'string' && p.id !== '' ? p.id : undefined;
      if (!id) return badRequest('params.id is required.');
      const message = (await list()).find((m) => m.id === id);
      if (!message)
        return {
          ok: false,
          error: { code: 'not-found', message: `No queued message has the id ${id}.` },
        };
      if (method === 'queue.retry') {
        await run('postqueue', ['-c', configDir, '-i', id]);
        return { ok: true, result: { message } };
      }
      if (p.ndr === true)
        return failed(
          'A Postfix node cannot return one chosen message to its sender; delete it without a report, or let it expire (bounce_queue_lifetime).',
        );
      await run('postsuper', ['-c', configDir, '-d', id]);
      return { ok: true, result: { message, ndrSent: false } };
    }
    return unknownMethod(method);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr;
    return failed(stderr?.trim() || (err instanceof Error ? err.message : String(err)));
  }
}
