// Session ids made without the library's random draw per connection, and
// QUIT closing the connection as Postfix's smtpd does.

import { type AddressInfo, connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ImsSmtpServer, type ImsSmtpServerOptions, nextSessionId } from './ims-smtp-server';

/** A plain server (no TLS, no logging) listening on `host`, and its port. */
async function listening(
  host: string,
  options: Partial<ImsSmtpServerOptions> = {},
): Promise<{ server: ImsSmtpServer; port: number }> {
  const server = new ImsSmtpServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    ...options,
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, port: (server.server.address() as AddressInfo).port };
}

describe('session ids', () => {
  it('are 16 base-32 characters, as the library makes them, and never repeat within the process', () => {
    const ids = Array.from({ length: 10_000 }, () => nextSessionId());
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^[0-9a-v]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // One random prefix per process: workers and restarts differ by it.
    expect(new Set(ids.map((id) => id.slice(0, 8))).size).toBe(1);
  });
});

describe('QUIT', () => {
  it('closes the connection once the 221 has left, without waiting for the client to close its side', async () => {
    const { server, port } = await listening('127.0.0.1');
    try {
      // allowHalfOpen: this client never closes its side on its own.
      const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      let received = '';
      const ended = new Promise<void>((r) => client.once('end', r));
      client.on('data', (d) => {
        received += String(d);
        if (/^220 /m.test(received) && !received.includes('221')) client.write('QUIT\r\n');
      });
      await ended;
      expect(received).toMatch(/^221 /m);
      // The server's socket is gone, though the client's side is still open.
      const count = await new Promise<number>((r, f) =>
        server.server.getConnections((err, n) => (err ? f(err) : r(n))),
      );
      expect(count).toBe(0);
      client.destroy();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('the system calls of a connection', () => {
  /** One session on a server listening on `host`: what it saw, and the native calls its socket made. */
  async function oneSession(host: string) {
    const seen: { local?: string; localPort?: number } = {};
    const calls = { setNoDelay: 0, getsockname: 0 };
    const { server, port } = await listening(host, {
      onConnect(session, callback) {
        seen.local = session.localAddress;
        seen.localPort = session.localPort;
        callback();
      },
    });
    // Before the library's own 'connection' listener: count what the accepted socket's handle is asked.
    server.server.prependListener('connection', (socket) => {
      const handle = (
        socket as unknown as { _handle: Record<string, (...a: unknown[]) => unknown> }
      )._handle;
      for (const name of ['setNoDelay', 'getsockname'] as const) {
        const native = handle[name]?.bind(handle);
        handle[name] = (...args: unknown[]) => {
          calls[name]++;
          return native?.(...args);
        };
      }
    });
    try {
      const client = connect({ port, host });
      let received = '';
      await new Promise<void>((resolve) => {
        client.on('data', (d) => {
          received += String(d);
          if (/^220 /m.test(received) && !received.includes('221')) client.write('QUIT\r\n');
        });
        client.once('close', () => resolve());
      });
      expect(received).toMatch(/^221 /m);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    return { seen, calls, port };
  }

  it('a listener bound to one address gives each session that address and TCP_NODELAY without asking its socket', async () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '::1']) {
      const { seen, calls, port } = await oneSession(host);
      expect(seen).toEqual({ local: host, localPort: port });
      // Linux copies the listener's TCP_NODELAY to the connections it accepts.
      expect(calls).toEqual({ setNoDelay: 0, getsockname: 0 });
    }
  });
});
