/**
 * Answers to the console's requests (`request { id, method, params }` on the
 * event stream, answered with `PUT /api/v1/node/requests/{id}`): the failures
 * every engine words the same.
 */

import type { NodeAnswerBody } from '@ims/api-contract';

/** The longest message an answer carries. */
const MAX_MESSAGE_LENGTH = 2000;

/** A request the node cannot take as sent. */
export const badRequest = (message: string): NodeAnswerBody => ({
  ok: false,
  error: { code: 'bad-request', message },
});

/** A method this node does not answer. */
export const unknownMethod = (method: unknown): NodeAnswerBody =>
  badRequest(`This node does not know the method ${String(method)}.`);

/** A request that went wrong on the node (the message shortened to what an answer carries). */
export const failed = (message: string): NodeAnswerBody => ({
  ok: false,
  error: { code: 'failed', message: message.slice(0, MAX_MESSAGE_LENGTH) },
});
