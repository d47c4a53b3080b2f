/**
 * smtp-server, with changes made in a subclass (not a vendored copy):
 *
 * 1. The greeting delay. SMTPConnection#init waits a hard-coded 100 ms before
 *    the 220 greeting (an early-talker check), which caps a session at about
 *    ten messages a second. Here it is the `greetingDelayMs` setting, 0 by
 *    default.
 * 2. Enhanced status codes. With them on, the library derives the enhanced
 *    code from the basic one (550 is always 5.1.1). A reply whose text starts
 *    with its own enhanced code (`5.7.1 Relaying is prohibited`) is sent as it
 *    is, so the one reply table (routing-core's REPLIES) decides the wire.
 *
 * 3. Source routes. The library drops a source route ("@relay.example:")
 *    before the hooks see the address, without checking it; routing-core's
 *    parser refuses a malformed one (an address-literal hop, say). A path
 *    with a route is judged by routing-core here, so the node answers what
 *    the console's what-if answers. (Found by the address fuzzer.)
 * 4. AUTH during a mail transaction. RFC 4954 §4: "An AUTH command issued
 *    during a mail transaction MUST be rejected with a 503 reply"; the
 *    library accepts it. (Found by the bad-input battery.)
 * 5. The library's own lines where the node can choose. The accepted MAIL
 *    FROM and RCPT TO (`250 Accepted` with a contextual enhanced code), its
 *    address syntax errors (`501 Error: Bad … address syntax`) and the
 *    go-ahead after DATA (354) are sent from routing-core's table instead
 *    (REPLIES.senderOk, recipientOk, badSenderSyntax, badRecipientSyntax,
 *    START_MAIL_INPUT), so the node answers what the console's what-if prints.
 *
 * 6. Every other line of the library's own (`500 Error: command not
 *    recognized`, `221 Bye`, its timeouts …) is replaced by its row of the
 *    same table (libraryReply below; the test reads every send() of the
 *    library's source and checks that each has one).
 * 7. A quoted local part with a space or an '@' (`<"john doe"@example.com>`,
 *    RFC 5321 §4.1.2): the library splits the command at white space and
 *    refuses it; here routing-core's parser judges such a path, so what the
 *    what-if accepts, the wire accepts.
 * 8. Per-session limits, as Postfix's smtpd: a greeting timeout (a client
 *    that sends no HELO/EHLO in time gets `421 4.4.2 … Error: timeout
 *    exceeded`), and an error count (smtpd_soft_error_limit: past it each
 *    error reply waits `errorSleepMs`; smtpd_hard_error_limit: at it the next
 *    command gets `421 4.7.0 … Error: too many errors` and the session
 *    ends). The library's own limit of ten unknown commands gives way to it.
 * 9. AUTH and encryption: with a certificate, AUTH is neither advertised nor
 *    accepted before STARTTLS; without one, only on a loopback listener.
 *    Otherwise `538 5.7.11` (RFC 4954 §6).
 *
 * 10. Two system calls less per connection (on this machine's virtualised
 *    kernel a system call is a visible part of a one-transaction session).
 *    TCP_NODELAY is set once on the listening socket, which Linux copies to
 *    every connection it accepts, instead of by the library's
 *    setNoDelay(true) on each (a setsockopt); and on a listener bound to one
 *    address the session's local address is that one, given to the
 *    connection instead of asked of its socket (a getsockname). A wildcard
 *    listener (0.0.0.0, ::) still asks.
 *
 * Per-client counting (connections, AUTH failures) is not here but in the
 * Anvil (limits/anvil.ts), asked by the hooks.
 *
 * smtp-server-internals.test.ts fails if the library changes the code these
 * overrides replace.
 */

import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  formatLimitReply,
  parsePath,
  REPLIES,
  type SmtpReply,
  START_MAIL_INPUT,
} from '@ims/routing-core';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { authNeedsEncryption } from './auth-policy';

const OWN_ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;

/** The library's reply contexts whose line the table decides instead. */
const OWN_REPLIES = new Map<string, SmtpReply>([
  ['MAIL_FROM_OK', REPLIES.senderOk],
  ['RCPT_TO_OK', REPLIES.recipientOk],
  ['SENDER_SYNTAX_ERROR', REPLIES.badSenderSyntax],
  ['MAILBOX_SYNTAX_ERROR', REPLIES.badRecipientSyntax],
]);

/** The library's own lines, by code and text, and the row of the table each becomes. */
const LIBRARY_TEXTS = new Map<string, SmtpReply>([
  ['500 Error: command not recognized', REPLIES.commandNotRecognised],
  ['503 Error: send HELO/EHLO first', REPLIES.sendHeloFirst],
  ['503 Error: need MAIL command', REPLIES.needMail],
  ['503 Error: need RCPT command', REPLIES.needRcpt],
  ['503 Error: nested MAIL command', REPLIES.nestedMail],
  ['503 Error: No identity changes permitted', REPLIES.alreadyAuthenticated],
  ['503 Error: TLS already active', REPLIES.tlsAlreadyActive],
  ['503 Error: Mail transaction in progress', REPLIES.badSequence],
  ['504 Error: Unrecognized authentication type', REPLIES.authMechanismNotSupported],
  ['501 Authentication aborted', REPLIES.authAborted],
  ['250 OK', REPLIES.ok],
  ['250 Flushed', REPLIES.ok],
  ['221 Bye', REPLIES.closing],
  ['214 See https://tools.ietf.org/html/rfc5321 for details', REPLIES.help],
  ['252 Try to send something. No promises though', REPLIES.cannotVerify],
  ['220 Ready to start TLS', REPLIES.readyToStartTls],
  ['235 Authentication successful', REPLIES.authSucceeded],
  ['451 Error: internal server error', REPLIES.policyNotLoaded],
  ['452 Error: too many recipients', REPLIES.tooManyRecipients],
  ['421 Server shutting down', REPLIES.notAvailable],
  ['421 Timeout - closing connection', REPLIES.timeoutExceeded],
  ['421 HTTP requests not allowed', REPLIES.notAvailable],
  ['421 Error: Command line too long', REPLIES.lineTooLong],
  ['550 Error: Not allowed', REPLIES.commandNotAllowed],
]);

/** A library line not listed above gets the table's general row for its code. */
const BY_CODE = new Map<number, SmtpReply>([
  [421, REPLIES.notAvailable],
  [451, REPLIES.policyNotLoaded],
  [452, REPLIES.insufficientStorage],
  [500, REPLIES.commandNotRecognised],
  [501, REPLIES.syntaxError],
  [503, REPLIES.badSequence],
  [504, REPLIES.authMechanismNotSupported],
  [535, REPLIES.authFailed],
  [538, REPLIES.encryptionRequired],
  [552, REPLIES.messageTooBig],
  [554, REPLIES.commandNotRecognised],
]);

/** The limit lines that carry the server's name, as Postfix's do. */
const WITH_HOSTNAME = new Set<SmtpReply>([
  REPLIES.timeoutExceeded,
  REPLIES.talkTooSoon,
  REPLIES.notAvailable,
  REPLIES.tooManyErrors,
]);

/**
 * The row of the reply table that replaces a line the library composed
 * itself (`code` and its text, without an enhanced code), or undefined when
 * none does (the 334 AUTH challenges, and the greeting and EHLO/HELO lines,
 * which the caller passes through).
 */
export function libraryReply(
  code: number,
  text: string,
  serverName: string,
): SmtpReply | undefined {
  const exact = LIBRARY_TEXTS.get(`${code} ${text}`);
  if (exact) return exact;
  if (code === 421 && text.endsWith(' You talk too soon')) return REPLIES.talkTooSoon;
  if (code === 421 && text.startsWith(`${serverName} Too many connected clients`))
    return REPLIES.notAvailable;
  return BY_CODE.get(code);
}

export interface SessionLimits {
  /** Wait before the 220 greeting, to catch clients that talk too soon (0 = none). */
  greetingDelayMs: number;
  /** A client must send HELO/EHLO this soon after connecting, or get 421 4.4.2 (0 = no limit). */
  greetingTimeoutMs: number;
  /** Error replies after which each further one waits errorSleepMs (smtpd_soft_error_limit, 0 = none). */
  softErrorLimit: number;
  /** Error replies after which the next command gets 421 4.7.0 and the session ends (smtpd_hard_error_limit, 0 = none). */
  hardErrorLimit: number;
  /** The wait of each error reply past the soft limit (smtpd_error_sleep_time). */
  errorSleepMs: number;
}

export const DEFAULT_SESSION_LIMITS: Readonly<SessionLimits> = Object.freeze({
  greetingDelayMs: 0,
  greetingTimeoutMs: 30_000,
  softErrorLimit: 10,
  hardErrorLimit: 20,
  errorSleepMs: 1000,
});

export interface ImsSmtpServerOptions extends SMTPServerOptions {
  limits?: Partial<SessionLimits>;
  /** A certificate is configured (STARTTLS offered): AUTH only after STARTTLS. */
  tlsConfigured?: boolean;
}

type ConnectionOptions = ConstructorParameters<typeof SMTPConnection>[2];

/** A path with a quoted local part: `<"…"@…>`, up to its closing bracket, and what follows. */
const QUOTED_PATH = /^([^:]*:\s*)(<(?:"(?:[^"\\\r\n]|\\.)*"|[^<>"\s])*>)(.*)$/s;

class ImsSmtpConnection extends SMTPConnection {
  /** Error replies sent in this session (4xx and 5xx, the closing 421 aside). */
  private errors = 0;
  private greetingTimer: NodeJS.Timeout | undefined;
  private hidingAuth = false;
  /** Delayed replies not yet written. */
  private repliesWaiting = 0;
  /**
   * Commands read while a delayed reply waits (the reply to a message comes
   * outside a command's callback): they run after it, so that no reply, a
   * pipelined QUIT's 221 least of all, overtakes it (RFC 5321 §4.1.1).
   */
  private heldCommands: (() => void)[] = [];

  constructor(
    server: SMTPServer,
    socket: Socket | TLSSocket,
    options: ConnectionOptions,
    private readonly limits: SessionLimits,
    private readonly tlsConfigured: boolean,
  ) {
    super(server, socket, options);
  }

  override init(): void {
    this._setListeners(() => {
      const max = this._server.options.maxClients;
      if (max && this._server.connections.size > max) {
        return this.send(421, formatLimitReply(REPLIES.notAvailable, this.name).slice(4), false);
      }
      if (this.limits.greetingTimeoutMs > 0) {
        this.greetingTimer = setTimeout(
          () => this.greetingTimedOut(),
          this.limits.greetingTimeoutMs,
        );
        this.greetingTimer.unref();
        this._socket.once('close', () => clearTimeout(this.greetingTimer));
      }
      if (this.limits.greetingDelayMs > 0) {
        setTimeout(() => this.connectionReady(), this.limits.greetingDelayMs).unref();
      } else {
        this.connectionReady();
      }
    });
  }

  private greetingTimedOut(): void {
    if (this.hostNameAppearsAs || this._closing || this._closed) return;
    this.send(421, formatLimitReply(REPLIES.timeoutExceeded, this.name).slice(4), false);
  }

  /** Whether AUTH needs a TLS session first (and is not advertised before it): auth-policy.ts. */
  private authNeedsEncryption(): boolean {
    return authNeedsEncryption({
      secure: this.secure,
      tlsConfigured: this.tlsConfigured,
      localAddress: this.localAddress,
    });
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    if (this.repliesWaiting > 0) {
      this.heldCommands.push(() => this._onCommand(command, callback));
      return;
    }
    const { hardErrorLimit } = this.limits;
    if (this._ready && !this._upgrading && hardErrorLimit > 0 && this.errors >= hardErrorLimit) {
      this.send(421, formatLimitReply(REPLIES.tooManyErrors, this.name).slice(4), false);
      return;
    }
    // The error limit above decides, not the library's ten unknown commands.
    this._unrecognizedCommands = 0;
    super._onCommand(command, callback);
  }

  override handler_EHLO(command: Buffer, callback: () => void): void {
    this.hidingAuth = this.authNeedsEncryption();
    try {
      super.handler_EHLO(command, callback);
    } finally {
      this.hidingAuth = false;
    }
  }

  override _isSupported(command: string): boolean {
    if (this.hidingAuth && command.trim().toUpperCase() === 'AUTH') return false;
    return super._isSupported(command);
  }

  override _parseAddressCommand(
    rawName: string,
    rawCommand: Buffer | string,
  ): ReturnType<SMTPConnection['_parseAddressCommand']> {
    const text = rawCommand.toString();
    const quoted = QUOTED_PATH.exec(text);
    if (quoted?.[2]?.includes('"')) {
      const [, prefix = '', path = '', rest = ''] = quoted;
      const judged = parsePath(path, { allowPostmaster: true });
      if (!judged.ok) return false;
      // The library parses the parameters around a stand-in path; the address is the real one.
      const parsed = super._parseAddressCommand(
        rawName,
        `${prefix}<quoted@stand-in.invalid>${rest}`,
      );
      if (!parsed) return parsed;
      parsed.address = path.slice(1, -1);
      return parsed;
    }
    const parsed = super._parseAddressCommand(rawName, rawCommand);
    if (!parsed) return parsed;
    const route = /^[^:]*:\s*(<@[^<>]*>)/.exec(text)?.[1];
    // false: the library's own 501 for a bad address (5.1.3 for RCPT, 5.1.7 for MAIL).
    if (route && !parsePath(route, { allowPostmaster: true }).ok) return false;
    return parsed;
  }

  /**
   * QUIT: the 221, then the connection is closed once the reply has left, as
   * Postfix's smtpd closes it. The library half-closes and reads on until
   * the client's FIN; a client that ends with a reset instead (smtp-source
   * does, to skip TIME_WAIT) then costs a socket error with a stack per
   * session. A client has nothing more to send after QUIT (RFC 5321 §4.1.1.10).
   */
  override handler_QUIT(command: Buffer, callback: () => void): void {
    const socket = this._socket;
    // The 221 is not held back: only error replies wait (see _onCommand).
    super.handler_QUIT(command, callback);
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  }

  override handler_AUTH(command: Buffer, callback: () => void): void {
    if (this.session.envelope?.mailFrom) {
      this.send(
        503,
        '5.5.1 Bad sequence of commands: AUTH is not allowed during a mail transaction',
      );
      callback();
      return;
    }
    if (this.authNeedsEncryption() && !this.session.user) {
      const r = REPLIES.encryptionRequired;
      this.send(r.code, `${r.enhanced} ${r.text}`);
      callback();
      return;
    }
    super.handler_AUTH(command, callback);
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    const line = this.tableLine(code, data, context);
    if (line === undefined) {
      super.send(code, data, context);
      return;
    }
    if (this.countError(code)) {
      this.repliesWaiting++;
      setTimeout(() => {
        super.send(code, line, false);
        if (--this.repliesWaiting > 0) return;
        const held = this.heldCommands;
        this.heldCommands = [];
        for (const run of held) run();
      }, this.limits.errorSleepMs).unref();
      return;
    }
    super.send(code, line, false);
  }

  /**
   * Counts an error reply; true when it is past the soft limit, so that it
   * waits (and the commands after it wait for it: _onCommand).
   */
  private countError(code: number): boolean {
    if (code < 400 || code === 421) return false;
    this.errors++;
    const { softErrorLimit, errorSleepMs } = this.limits;
    return softErrorLimit > 0 && errorSleepMs > 0 && this.errors > softErrorLimit;
  }

  /** The line (after the code) the table sends for this reply; undefined to pass it through as it is. */
  private tableLine(
    code: number,
    data: string | string[] | null | undefined,
    context: string | false | undefined,
  ): string | undefined {
    const own = typeof context === 'string' ? OWN_REPLIES.get(context) : undefined;
    if (own && code === own.code) return `${own.enhanced} ${own.text}`;
    if (code === START_MAIL_INPUT.code) return START_MAIL_INPUT.text;
    if (typeof data !== 'string') return undefined; // EHLO's list
    if (OWN_ENHANCED_CODE.test(data)) return data;
    // The greeting, HELO's 250 and the AUTH challenges are the library's to compose.
    if (code === 334 || (context === false && (code === 220 || code === 250))) return undefined;
    const row = libraryReply(code, data, this.name);
    if (!row) return undefined;
    const full = WITH_HOSTNAME.has(row)
      ? formatLimitReply(row, this.name)
      : `${row.code} ${row.enhanced} ${row.text}`;
    return full.slice(4);
  }
}

/**
 * Session ids: 16 base-32 characters as the library makes them, from a
 * random prefix drawn once per process and a counter. Unique within the
 * process and, by the prefix, across workers and restarts.
 */
const SESSION_PREFIX = BigInt(`0x${randomBytes(5).toString('hex')}`)
  .toString(32)
  .padStart(8, '0');
let sessionCounter = 0;
export function nextSessionId(): string {
  sessionCounter = (sessionCounter + 1) % 32 ** 8;
  return `${SESSION_PREFIX}${sessionCounter.toString(32).padStart(8, '0')}`;
}

export class ImsSmtpServer extends SMTPServer {
  private readonly limits: SessionLimits;
  private readonly tlsConfigured: boolean;
  /** The listener's one address and port (none on a wildcard listener): every session's local end. */
  private boundTo: { localAddress: string; localPort: number } | undefined;
  /** Whether the listening socket has TCP_NODELAY, which accepted connections inherit (10 above). */
  private listenerNoDelay = false;

  constructor(options: ImsSmtpServerOptions) {
    const { limits = {}, tlsConfigured = false, ...rest } = options;
    super(rest);
    this.limits = { ...DEFAULT_SESSION_LIMITS, ...limits };
    this.tlsConfigured = tlsConfigured;
    this.server.on('listening', () => this.onListening());
  }

  /** Notes the listener's address, and sets TCP_NODELAY on the listening socket (10 above). */
  private onListening(): void {
    const address = this.server.address();
    this.boundTo =
      address !== null && typeof address === 'object' && !WILDCARDS.has(address.address)
        ? { localAddress: address.address, localPort: address.port }
        : undefined;
    // Node.js has no public call for a listening socket's options: its TCP
    // handle's setNoDelay() is the one net.Socket#setNoDelay() calls (0 = done).
    const handle = (
      this.server as unknown as { _handle?: { setNoDelay?: (on: boolean) => number } }
    )._handle;
    this.listenerNoDelay = process.platform === 'linux' && handle?.setNoDelay?.(true) === 0;
  }

  /**
   * The library's step before connect(): it reads a PROXY header when
   * `useProxy` is set (never here), and otherwise makes a session id from
   * 10 random bytes and goes on at the next turn of the event loop
   * (setImmediate). Here, without PROXY, the id is this process's random
   * prefix and a counter, and the session starts at once: one loop turn and
   * one random draw less per connection, which a one-transaction session
   * (relay-denied spam) notices.
   */
  override _handleProxy(...[socket, callback]: Parameters<SMTPServer['_handleProxy']>): void {
    if (this.options.useProxy) {
      super._handleProxy(socket, callback);
      return;
    }
    const ignore = this.options.ignoredHosts?.includes(socket.remoteAddress ?? '') ?? false;
    callback(null, { id: nextSessionId(), ignore, ...this.boundTo });
  }

  override connect(socket: Socket | TLSSocket, socketOptions?: ConnectionOptions): void {
    // Accepted with the listener's TCP_NODELAY: the library's setNoDelay(true) has nothing to do.
    if (this.listenerNoDelay) socket.setNoDelay = alreadyNoDelay;
    const connection = new ImsSmtpConnection(
      this,
      socket,
      socketOptions,
      this.limits,
      this.tlsConfigured,
    );
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data) => this._onClientConnect(data));
    connection.init();
  }
}

/** Listening addresses that stand for every local address: a session there asks its socket. */
const WILDCARDS = new Set(['0.0.0.0', '::']);

/** A connection's setNoDelay() when it was accepted with TCP_NODELAY already on. */
function alreadyNoDelay<T>(this: T): T {
  return this;
}

/**
 * What a hook callback is given to put `line` (after the code) on the wire:
 * a reply, not a fault, so no stack is captured (a relay-denied transaction
 * made one per refusal, and capturing it was a visible part of the profile).
 */
function hookReply(code: number, line: string): Error & { responseCode: number } {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const err = new Error(line) as Error & { responseCode: number };
    err.responseCode = code;
    return err;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** An error for a hook callback that puts exactly this reply on the wire. */
export function replyError(reply: {
  code: number;
  enhanced: string;
  text: string;
}): Error & { responseCode: number } {
  return hookReply(reply.code, `${reply.enhanced} ${reply.text}`);
}

/** An error for a hook callback with a limit's line, as Postfix words it (`421 4.7.0 <host> Error: … <client>`). */
export function limitError(
  reply: SmtpReply,
  hostname: string,
  client?: string,
): Error & { responseCode: number } {
  return hookReply(reply.code, formatLimitReply(reply, hostname, client).slice(4));
}
