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
 * smtp-server-internals.test.ts fails if the library changes the code these
 * overrides replace.
 */

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parsePath, REPLIES, type SmtpReply, START_MAIL_INPUT } from '@ims/routing-core';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const OWN_ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;

/** The library's reply contexts whose line the table decides instead. */
const OWN_REPLIES = new Map<string, SmtpReply>([
  ['MAIL_FROM_OK', REPLIES.senderOk],
  ['RCPT_TO_OK', REPLIES.recipientOk],
  ['SENDER_SYNTAX_ERROR', REPLIES.badSenderSyntax],
  ['MAILBOX_SYNTAX_ERROR', REPLIES.badRecipientSyntax],
]);

export interface ImsSmtpServerOptions extends SMTPServerOptions {
  /** Wait before the 220 greeting, to catch clients that talk too soon (default 0). */
  greetingDelayMs?: number;
}

type ConnectionOptions = ConstructorParameters<typeof SMTPConnection>[2];

class ImsSmtpConnection extends SMTPConnection {
  constructor(
    server: SMTPServer,
    socket: Socket | TLSSocket,
    options: ConnectionOptions,
    private readonly greetingDelayMs: number,
  ) {
    super(server, socket, options);
  }

  override init(): void {
    this._setListeners(() => {
      const max = this._server.options.maxClients;
      if (max && this._server.connections.size > max) {
        return this.send(
          421,
          `${this.name} Too many connected clients, try again in a moment`,
          false,
        );
      }
      if (this.greetingDelayMs > 0) {
        setTimeout(() => this.connectionReady(), this.greetingDelayMs).unref();
      } else {
        this.connectionReady();
      }
    });
  }

  override _parseAddressCommand(
    rawName: string,
    rawCommand: Buffer | string,
  ): ReturnType<SMTPConnection['_parseAddressCommand']> {
    const parsed = super._parseAddressCommand(rawName, rawCommand);
    if (!parsed) return parsed;
    const path = /^[^:]*:\s*(<@[^<>]*>)/.exec(rawCommand.toString())?.[1];
    // false: the library's own 501 for a bad address (5.1.3 for RCPT, 5.1.7 for MAIL).
    if (path && !parsePath(path, { allowPostmaster: true }).ok) return false;
    return parsed;
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
    super.handler_AUTH(command, callback);
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    const own = typeof context === 'string' ? OWN_REPLIES.get(context) : undefined;
    if (own && code === own.code) {
      super.send(own.code, `${own.enhanced} ${own.text}`, false);
      return;
    }
    if (code === START_MAIL_INPUT.code) {
      super.send(START_MAIL_INPUT.code, START_MAIL_INPUT.text, false);
      return;
    }
    if (typeof data === 'string' && OWN_ENHANCED_CODE.test(data)) {
      super.send(code, data, false);
      return;
    }
    super.send(code, data, context);
  }
}

export class ImsSmtpServer extends SMTPServer {
  private readonly greetingDelayMs: number;

  constructor(options: ImsSmtpServerOptions) {
    const { greetingDelayMs = 0, ...rest } = options;
    super(rest);
    this.greetingDelayMs = greetingDelayMs;
  }

  override connect(socket: Socket | TLSSocket, socketOptions?: ConnectionOptions): void {
    const connection = new ImsSmtpConnection(this, socket, socketOptions, this.greetingDelayMs);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data) => this._onClientConnect(data));
    connection.init();
  }
}

/** An error for a hook callback that puts exactly this reply on the wire. */
export function replyError(reply: {
  code: number;
  enhanced: string;
  text: string;
}): Error & { responseCode: number } {
  const err = new Error(`${reply.enhanced} ${reply.text}`) as Error & { responseCode: number };
  err.responseCode = reply.code;
  return err;
}
