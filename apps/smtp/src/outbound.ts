/**
 * Outbound SMTP: where a message for a next hop goes (the routing-table
 * host, else the smart host, else the domain's MX), and one delivery attempt
 * over SMTP with per-recipient results. The queue decides what to retry.
 */

import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { NextHop } from '@ims/routing-core';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

export interface Target {
  host: string;
  port: number;
}

/** A failure that ends delivery to a group of recipients for good (no retry). */
export class PermanentFailure extends Error {
  constructor(
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

export type MxLookup = (domain: string) => Promise<{ exchange: string; priority: number }[]>;

const defaultMxLookup = (): MxLookup => {
  const resolver = new Resolver({ timeout: 10_000, tries: 2 });
  return (domain) => resolver.resolveMx(domain);
};

/**
 * The hosts to try, best first. Throws PermanentFailure when the domain
 * cannot receive mail (it does not exist, or publishes a null MX), and a
 * plain Error (temporary) when DNS does not answer.
 */
export async function resolveTargets(
  hop: NextHop,
  smartHost: Target | undefined,
  lookupMx: MxLookup = defaultMxLookup(),
): Promise<Target[]> {
  if (hop.kind === 'host') return [{ host: hop.host, port: hop.port ?? 25 }];
  if (smartHost) return [smartHost];
  const domain = hop.domain;
  // An address literal (parsePath gives its address without the brackets).
  if (isIP(domain)) return [{ host: domain, port: 25 }];
  if (domain.startsWith('[') && domain.endsWith(']')) {
    const literal = domain.slice(1, -1).replace(/^IPv6:/i, '');
    if (isIP(literal)) return [{ host: literal, port: 25 }];
    throw new PermanentFailure('5.1.2', `${domain} is not an address this service can reach`);
  }
  let records: { exchange: string; priority: number }[];
  try {
    records = await lookupMx(domain);
  } catch (err) {
    const code = (err as { code?: string }).code;
    // No MX records: the domain's own address is the implicit MX (RFC 5321 §5.1).
    if (code === 'ENODATA') return [{ host: domain, port: 25 }];
    if (code === 'ENOTFOUND')
      throw new PermanentFailure('5.1.2', `The domain ${domain} does not exist`);
    throw new Error(`DNS lookup of ${domain} failed (${code ?? String(err)})`);
  }
  if (records.length === 1 && (records[0]?.exchange === '' || records[0]?.exchange === '.')) {
    throw new PermanentFailure('5.1.10', `${domain} accepts no mail (null MX, RFC 7505)`);
  }
  if (records.length === 0) return [{ host: domain, port: 25 }];
  return [...records]
    .sort((a, b) => a.priority - b.priority)
    .map((r) => ({ host: r.exchange.replace(/\.$/, ''), port: 25 }));
}

export interface RecipientResult {
  address: string;
  /** delivered; failed (5xx, for good); deferred (4xx or no answer: try again). */
  outcome: 'delivered' | 'failed' | 'deferred';
  reply: string;
  /** RFC 3463 code from the reply, or one that describes the failure. */
  status: string;
}

export interface SendOptions {
  /** EHLO name. */
  name: string;
  /** '' for the null sender. */
  mailFrom: string;
  recipients: string[];
  message: Buffer;
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
  /** Aborting closes the connection: every recipient not yet answered is deferred. */
  signal?: AbortSignal;
}

function statusOf(reply: string, fallback: string): string {
  return /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1] ?? fallback;
}

interface SmtpError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

/**
 * One attempt to hand a message to one host. Every recipient gets a result;
 * a connection that fails before the envelope defers them all (the caller
 * may try the next host).
 */
export function sendOnce(target: Target, opts: SendOptions): Promise<RecipientResult[]> {
  return new Promise((resolve) => {
    const connection = new SMTPConnection({
      host: target.host,
      port: target.port,
      name: opts.name,
      // Opportunistic TLS, as MTAs do between themselves (RFC 3207 §4.1).
      opportunisticTLS: true,
      tls: { rejectUnauthorized: false },
      connectionTimeout: opts.connectionTimeoutMs ?? 30_000,
      greetingTimeout: opts.connectionTimeoutMs ?? 30_000,
      socketTimeout: opts.socketTimeoutMs ?? 5 * 60_000,
      allowInternalNetworkInterfaces: true,
    });
    let settled = false;
    const finish = (results: RecipientResult[]) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(results);
      connection.quit();
      // quit() does not close a connection that never opened.
      setTimeout(() => connection.close(), 1000).unref();
    };
    const everyone = (outcome: RecipientResult['outcome'], reply: string, status: string) =>
      opts.recipients.map((address) => ({ address, outcome, reply, status }));
    const failWith = (err: SmtpError) => {
      // Every RCPT refused: each recipient has its own answer.
      if (err.rejectedErrors?.length) return finish(fromRejected(err.rejectedErrors, [], opts));
      const reply = err.response ?? `${err.code ?? 'error'}: ${err.message}`;
      // MAIL FROM or DATA refused for good; anything else (no connection,
      // timeout, 4xx) is tried again later.
      if (err.responseCode && err.responseCode >= 500)
        return finish(everyone('failed', reply, statusOf(reply, '5.0.0')));
      finish(everyone('deferred', reply, statusOf(reply, '4.4.1')));
    };
    connection.on('error', (err: SmtpError) => failWith(err));
    const onAbort = () => {
      failWith({ name: 'AbortError', message: 'the queue is stopping', code: 'ESTOP' });
      connection.close();
    };
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    connection.connect((err?: SmtpError) => {
      if (err) return failWith(err);
      connection.send(
        {
          from: opts.mailFrom === '' ? false : opts.mailFrom,
          to: opts.recipients,
          size: opts.message.length,
          use8BitMime: true,
        },
        opts.message,
        (sendErr, info) => {
          if (sendErr) return failWith(sendErr as SmtpError);
          finish(
            fromRejected(
              (info?.rejectedErrors ?? []) as SmtpError[],
              info?.accepted ?? [],
              opts,
              info?.response ?? '250',
            ),
          );
        },
      );
    });
  });
}

function fromRejected(
  rejected: SmtpError[],
  accepted: string[],
  opts: SendOptions,
  acceptedReply = '250',
): RecipientResult[] {
  const byAddress = new Map<string, RecipientResult>();
  for (const address of accepted)
    byAddress.set(address, {
      address,
      outcome: 'delivered',
      reply: acceptedReply,
      status: '2.0.0',
    });
  for (const err of rejected) {
    if (!err.recipient) continue;
    const reply = err.response ?? err.message;
    const permanent = (err.responseCode ?? 0) >= 500;
    byAddress.set(err.recipient, {
      address: err.recipient,
      outcome: permanent ? 'failed' : 'deferred',
      reply,
      status: statusOf(reply, permanent ? '5.0.0' : '4.0.0'),
    });
  }
  // Anyone not named either way was not tried: try again later.
  return opts.recipients.map(
    (address) =>
      byAddress.get(address) ?? {
        address,
        outcome: 'deferred',
        reply: 'not attempted',
        status: '4.0.0',
      },
  );
}
