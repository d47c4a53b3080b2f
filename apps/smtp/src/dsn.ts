/**
 * Non-delivery reports as RFC 3464 delivery status notifications: a
 * multipart/report (RFC 6522) with a human-readable part, a
 * message/delivery-status part (one block per failed recipient), and the
 * original message, whole, as message/rfc822.
 *
 * An NDR goes from the null sender (RFC 5321 §4.5.5), so an NDR is never
 * answered by another.
 */

import { randomBytes } from 'node:crypto';
import type { Bytes } from './write-all';

export interface FailedRecipient {
  address: string;
  /** RFC 3463 enhanced status code, e.g. 5.1.1. */
  status: string;
  /** The remote server's reply, for a recipient a remote server refused. */
  diagnostic?: string;
  /** The host that gave that reply. */
  remoteMta?: string;
  /** Why, in words, for the human-readable part. */
  reason: string;
}

export interface DsnInput {
  /** This node's name (Reporting-MTA). */
  reportingMta: string;
  /** The address the report comes from, e.g. postmaster@example.com. */
  from: string;
  /** The original MAIL FROM: the report's only recipient. */
  to: string;
  /** When the original message arrived here. */
  arrivalDate: Date;
  recipients: FailedRecipient[];
  original: Buffer;
  /**
   * 'full' attaches the whole message (message/rfc822); 'headers' only its
   * header section (text/rfc822-headers, RFC 6522). Default: the whole
   * message up to 50 KB (Postfix's bounce_size_limit), else the headers.
   */
  content?: 'full' | 'headers';
  now?: Date;
}

/** Largest original attached whole by default (Postfix's bounce_size_limit). */
const FULL_CONTENT_LIMIT = 50_000;

/** How far a header section is looked for: its first 64 KB. */
const HEAD_LIMIT = 64 * 1024;

/** Header section of a message (up to the first empty line), unfolded. */
function headerSection(message: Bytes): string {
  const text = messageHead(message).toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  return (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
}

/** Where the first empty line of `b` ends (after "\n\n" or "\n\r\n"), from `from`; -1 if none. */
function emptyLineEnd(b: Buffer, from = 0): number {
  for (let i = b.indexOf(0x0a, from); i >= 0; i = b.indexOf(0x0a, i + 1)) {
    if (b[i + 1] === 0x0a) return i + 2;
    if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/**
 * The start of a message, given whole or in parts, through its first empty
 * line (at most HEAD_LIMIT bytes): the header section, copied out of the
 * parts without copying the body.
 */
export function messageHead(message: Bytes): Buffer {
  if (Buffer.isBuffer(message)) return message.subarray(0, HEAD_LIMIT);
  const taken: Buffer[] = [];
  let size = 0;
  // The last two bytes taken so far: an empty line may straddle parts.
  let tail = Buffer.alloc(0);
  for (const whole of message) {
    const part = whole.subarray(0, HEAD_LIMIT - size);
    const joint = Buffer.concat([tail, part.subarray(0, 2)]);
    const across = emptyLineEnd(joint);
    if (across > tail.length)
      return Buffer.concat([...taken, part.subarray(0, across - tail.length)]);
    const end = emptyLineEnd(part);
    if (end >= 0) return Buffer.concat([...taken, part.subarray(0, end)]);
    taken.push(part);
    size += part.length;
    tail = Buffer.concat([tail, part.subarray(Math.max(0, part.length - 2))]);
    tail = tail.subarray(Math.max(0, tail.length - 2));
    if (size >= HEAD_LIMIT) break;
  }
  return Buffer.concat(taken);
}

/** The value of the first header field `name` in a message, if any. */
export function headerValue(message: Bytes, name: string): string | undefined {
  const re = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im');
  return re.exec(headerSection(message))?.[1]?.trim();
}

/** How many Received: fields a message carries (its hop count). */
export function hopCount(message: Bytes): number {
  return headerSection(message).match(/^Received:/gim)?.length ?? 0;
}

function isEightBit(data: Buffer): boolean {
  for (const byte of data) if (byte > 0x7f) return true;
  return false;
}

/** The header section of a message, with its line ends (without the blank line). */
function headerBytes(message: Buffer): Buffer {
  const crlf = message.indexOf('\r\n\r\n');
  const lf = message.indexOf('\n\n');
  const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 2 : lf >= 0 ? lf + 1 : message.length;
  return message.subarray(0, end);
}

/** Keeps a header value to printable ASCII on one line. */
function safeHeader(text: string, max = 200): string {
  return text
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, max)
    .trim();
}

/** Builds the report, ready to send (CRLF line ends). */
export function buildDsn(input: DsnInput): Buffer {
  const now = input.now ?? new Date();
  const full =
    input.content === 'full' ||
    (input.content === undefined && input.original.length <= FULL_CONTENT_LIMIT);
  const boundary = `=_ims_${randomBytes(12).toString('hex')}`;
  const subject = headerValue(input.original, 'Subject');
  const messageId = `<${now.getTime()}.${randomBytes(6).toString('hex')}@${input.reportingMta}>`;
  const headers = [
    `From: Mail Delivery System <${input.from}>`,
    `To: <${input.to}>`,
    `Subject: Undeliverable: ${safeHeader(subject ?? '(no subject)')}`,
    `Date: ${now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
  ];
  const human = [
    'Your message did not reach some or all of the intended recipients.',
    '',
    ...input.recipients.map(
      (r) =>
        `  <${r.address}>: ${r.reason}${r.diagnostic ? `\r\n    The server ${r.remoteMta ?? ''} said: ${safeHeader(r.diagnostic, 500)}` : ''}`,
    ),
    '',
    'The original message is attached.',
  ];
  const perMessage = [
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `Arrival-Date: ${input.arrivalDate.toUTCString().replace('GMT', '+0000')}`,
  ];
  const perRecipient = input.recipients.map((r) => {
    const lines = [
      `Final-Recipient: rfc822; ${r.address}`,
      'Action: failed',
      `Status: ${r.status}`,
    ];
    if (r.remoteMta) lines.push(`Remote-MTA: dns; ${safeHeader(r.remoteMta)}`);
    if (r.diagnostic) lines.push(`Diagnostic-Code: smtp; ${safeHeader(r.diagnostic, 900)}`);
    return lines.join('\r\n');
  });
  const head = [
    ...headers,
    '',
    'This is a delivery status notification in MIME format (RFC 3464).',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Description: Notification',
    '',
    ...human,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    'Content-Description: Delivery report',
    '',
    perMessage.join('\r\n'),
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    ...(full
      ? [
          'Content-Type: message/rfc822',
          // 8-bit text may travel in message/rfc822 only if it says so (RFC 2046 §5.2.1).
          ...(isEightBit(input.original) ? ['Content-Transfer-Encoding: 8bit'] : []),
          'Content-Description: Undelivered message',
        ]
      : ['Content-Type: text/rfc822-headers', 'Content-Description: Undelivered message headers']),
    '',
    '',
  ].join('\r\n');
  const original = full ? input.original : headerBytes(input.original);
  const endsWithNewline = original.length > 0 && original[original.length - 1] === 0x0a;
  return Buffer.concat([
    Buffer.from(head),
    original,
    Buffer.from(`${endsWithNewline ? '' : '\r\n'}\r\n--${boundary}--\r\n`),
  ]);
}
