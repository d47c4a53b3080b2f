/**
 * DATA: reads the message within the size limit and the memory budget of
 * all sessions, stamps a Received: header, refuses a looping message, and
 * stores it (storage.ts) before the 250. After the reply, a session whose
 * generation was drained meanwhile is closed.
 */

import { REPLIES } from '@ims/routing-core';
import type { SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { hopCount } from '../dsn';
import { replyError } from '../ims-smtp-server';
import { plan } from '../storage';
import type { HookContext } from './context';

/** Received: fields a message may carry (Postfix's hopcount_limit). */
const MAX_HOPS = 50;
/** More chunks than this are joined into one buffer before they are stored. */
const MAX_PARTS = 64;

type DataCallback = (err?: Error | null, message?: string) => void;

export function onData(ctx: HookContext): NonNullable<SMTPServerOptions['onData']> {
  return (stream, session, callback) => {
    // Never a rejection: an unexpected error answers 4xx and the server stays up.
    read(ctx, stream, session, callback).catch((err: unknown) => {
      ctx.logger.error({ event: 'data-error', session: session.id, error: String(err) });
      callback(replyError(REPLIES.policyNotLoaded));
    });
  };
}

async function read(
  ctx: HookContext,
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  callback: DataCallback,
): Promise<void> {
  const { state } = ctx;
  const chunks: Buffer[] = [];
  let held = 0;
  let overBudget = false;
  try {
    // Past the size limit, or the memory all sessions may use, the rest is
    // read and dropped, never held.
    for await (const chunk of stream) {
      if (stream.sizeExceeded || overBudget) continue;
      const b = chunk as Buffer;
      if (state.bytesInFlight + b.length > ctx.maxBytesInFlight) {
        overBudget = true;
        continue;
      }
      state.bytesInFlight += b.length;
      held += b.length;
      chunks.push(b);
    }
    if (stream.sizeExceeded) return callback(replyError(REPLIES.messageTooBig));
    if (overBudget) return callback(replyError(REPLIES.insufficientStorage));
    await store(ctx, chunks, session, callback);
  } finally {
    state.bytesInFlight -= held;
  }
}

async function store(
  ctx: HookContext,
  chunks: Buffer[],
  session: SMTPServerSession,
  callback: DataCallback,
): Promise<void> {
  const s = ctx.state.sessions.get(session.id);
  if (!s) return callback(replyError(REPLIES.policyNotLoaded));
  const received = Buffer.from(
    `Received: from ${session.hostNameAppearsAs || 'unknown'} ([${session.remoteAddress}])\r\n` +
      `\tby ${ctx.hostname} (IMS Routing Console) with ${session.transmissionType}\r\n` +
      `\tid ${session.id}; ${new Date().toUTCString()}\r\n`,
  );
  // In parts, as read: the journal and the Maildir write them with one
  // writev each, so the body is not copied into one buffer first (with
  // 100 KB messages that copy, in fresh memory, was 5% of a worker). A
  // dot-stuffed message comes in a part per stuffed line: many of those are
  // copied together once.
  const message =
    chunks.length > MAX_PARTS ? [received, Buffer.concat(chunks)] : [received, ...chunks];
  // A message that has passed this many hosts is looping (RFC 5321 §6.3).
  if (hopCount(message) > MAX_HOPS) return callback(replyError(REPLIES.tooManyHops));
  s.storing = true;
  try {
    await ctx.store.store(plan(s), message);
  } catch (err) {
    ctx.logger.error({ event: 'store-failed', session: session.id, error: String(err) });
    return callback(replyError(REPLIES.policyNotLoaded));
  } finally {
    s.storing = false;
  }
  ctx.state.totals.messagesAccepted++;
  callback(null, `${REPLIES.messageAccepted.enhanced} ${REPLIES.messageAccepted.text}`);
  if (s.closeAfterReply) setImmediate(() => ctx.drainSession(session.id));
}
