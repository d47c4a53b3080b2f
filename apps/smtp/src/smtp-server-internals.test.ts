/**
 * ImsSmtpServer overrides these pieces of smtp-server. If an upgrade changes
 * them, these fail: re-read the library's init(), connect(), _handleProxy(), the
 * connection's constructor, send(), handler_AUTH(),
 * handler_MAIL(), handler_RCPT(), handler_DATA() and _parseAddressCommand() and
 * adjust ims-smtp-server.ts before changing the expectations.
 */
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { describe, expect, it } from 'vitest';

const source = (fn: unknown) => String(fn).replace(/\s+/g, ' ');

describe('the smtp-server code ImsSmtpServer replaces', () => {
  it('init() still only sets listeners, checks maxClients and delays connectionReady by 100 ms', () => {
    const init = source(SMTPConnection.prototype.init);
    expect(init).toContain('this._setListeners(');
    expect(init).toContain('this._server.options.maxClients');
    expect(init).toContain('setTimeout(() => this.connectionReady(), 100)');
  });

  it('connect() still builds an SMTPConnection, wires two events and calls init()', () => {
    const connect = source(SMTPServer.prototype.connect);
    expect(connect).toContain('new SMTPConnection(this, socket, socketOptions)');
    expect(connect).toContain("connection.on('error', err => this._onError(err))");
    expect(connect).toContain("connection.on('connect', data => this._onClientConnect(data))");
    expect(connect).toContain('connection.init()');
  });

  it('_handleProxy() still only gives connect() a session id (and ignore) when no PROXY header is expected, and the connection takes the id given', () => {
    const proxy = source(SMTPServer.prototype._handleProxy);
    expect(proxy).toContain('if (!this._expectsProxyHeader(socket)) {');
    expect(proxy).toContain('socketOptions.ignore = this.options.ignoredHosts');
    expect(proxy).toContain('setImmediate(() => callback(null, socketOptions))');
    expect(source(SMTPServer.prototype.constructor)).toContain(
      'this._handleProxy(socket, (err, socketOptions) =>',
    );
    expect(source(SMTPConnection)).toContain('options.id ||');
  });

  it("the connection still asks its socket for TCP_NODELAY and takes a local address given before asking its socket (why ImsSmtpServer's listener does both)", () => {
    const made = source(SMTPConnection);
    expect(made).toContain('socket.setNoDelay(true)');
    expect(made).toContain('normalizeAddress(options.localAddress || this._socket.localAddress)');
    expect(made).toContain('Number(options.localPort || this._socket.localPort)');
  });

  it('handler_AUTH() still lets AUTH through during a mail transaction (why ImsSmtpConnection refuses it)', () => {
    const auth = source(SMTPConnection.prototype.handler_AUTH);
    expect(auth).toContain('this.session.user');
    expect(auth).not.toContain('envelope');
  });

  it('_parseAddressCommand() still drops a source route unchecked (why ImsSmtpConnection checks it)', () => {
    const parse = source(SMTPConnection.prototype._parseAddressCommand);
    expect(parse).toContain(".replace(/^@[^\\s,:@]+(?:,@[^\\s,:@]+)*:/, '')");
  });

  it('send() still maps 550 to 5.1.1 unless told otherwise (why replies carry their own code)', () => {
    const table = source(SMTPConnection.prototype._getEnhancedStatusCode);
    expect(table).toContain('ENHANCED_STATUS_CODES[code]');
    expect(source(SMTPConnection.prototype.send)).toContain(
      'this._getEnhancedStatusCode(code, context)',
    );
  });

  it('MAIL FROM, RCPT TO and DATA still send their success lines through send() with these contexts (why the table can replace them)', () => {
    const proto = SMTPConnection.prototype;
    expect(source(proto.handler_MAIL)).toContain("this.send(250, 'Accepted', 'MAIL_FROM_OK')");
    expect(source(proto.handler_RCPT)).toContain("this.send(250, 'Accepted', 'RCPT_TO_OK')");
    expect(source(proto.handler_MAIL)).toContain(
      "this.send(501, 'Error: Bad sender address syntax', 'SENDER_SYNTAX_ERROR')",
    );
    expect(source(proto.handler_RCPT)).toContain(
      "this.send(501, 'Error: Bad recipient address syntax', 'MAILBOX_SYNTAX_ERROR')",
    );
    expect(source(proto.handler_DATA)).toContain(
      "this.send(354, 'End data with <CR><LF>.<CR><LF>')",
    );
  });

  it("EHLO still asks _isSupported('AUTH') before it lists AUTH (why hiding AUTH before TLS works)", () => {
    expect(source(SMTPConnection.prototype.handler_EHLO)).toContain("this._isSupported('AUTH')");
  });

  it('_onCommand() still ends a session after 10 unknown commands, counted in _unrecognizedCommands (why the error limit resets it)', () => {
    const onCommand = source(SMTPConnection.prototype._onCommand);
    expect(onCommand).toContain('this._unrecognizedCommands >= 10');
    expect(onCommand).toContain('handler.call(this, command, handlerCallback)');
  });

  it('_parseAddressCommand() still splits the path at white space (why a quoted local part with a space is parsed here)', () => {
    expect(source(SMTPConnection.prototype._parseAddressCommand)).toContain('.split(/\\s+/)');
  });
});
