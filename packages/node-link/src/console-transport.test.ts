import { createServer } from 'node:https';
import { parseSettings } from '@ims/settings';
import { selfSignedCert, tempDir } from '@ims/test-support';
import { Type } from 'typebox';
import { describe, expect, it, onTestFinished } from 'vitest';
import { consoleFetch, insecureConsoleProblem, isLoopbackHost } from './console-transport';
import { nodeEnv, nodeSettings, nodeSettingsProblems } from './settings';

/** The settings as either engine reads them (its own come on top). */
const readEnv = (env: NodeJS.ProcessEnv) =>
  nodeEnv(parseSettings(Type.Object(nodeSettings()), env, nodeSettingsProblems), 'smtp');

const BASE = { IMS_NODE_TOKEN: 'imsn_x' };

describe('the console URL: plain HTTP only to this machine', () => {
  it('refuses plain HTTP to another host, with an error that says what to do', () => {
    expect(() => readEnv({ ...BASE, IMS_CONSOLE_URL: 'http://console.example.com:8080' })).toThrow(
      /IMS_CONSOLE_URL is plain HTTP to console\.example\.com, which is not this machine: .*https:\/\/.*IMS_ALLOW_INSECURE_CONSOLE=1/,
    );
    expect(() => readEnv({ ...BASE, IMS_CONSOLE_URL: 'http://192.0.2.10:8080' })).toThrow(
      'plain HTTP to 192.0.2.10',
    );
    expect(() => readEnv({ ...BASE, IMS_CONSOLE_URL: 'http://[2001:db8::1]:8080' })).toThrow(
      'plain HTTP to [2001:db8::1]',
    );
  });

  it('accepts loopback over HTTP, anything over HTTPS, and HTTP elsewhere when told to', () => {
    for (const url of [
      'http://127.0.0.1:8080',
      'http://127.1.2.3:8080',
      'http://localhost:8080',
      'http://[::1]:8080',
      'https://console.example.com',
      'https://192.0.2.10:8443',
    ]) {
      expect(readEnv({ ...BASE, IMS_CONSOLE_URL: url }).consoleUrl, url).toBe(url);
    }
    expect(
      readEnv({
        ...BASE,
        IMS_CONSOLE_URL: 'http://192.0.2.10:8080',
        IMS_ALLOW_INSECURE_CONSOLE: '1',
      }).consoleUrl,
    ).toBe('http://192.0.2.10:8080');
    expect(() =>
      readEnv({ ...BASE, IMS_CONSOLE_URL: 'http://127.0.0.1', IMS_ALLOW_INSECURE_CONSOLE: 'yes' }),
    ).toThrow('IMS_ALLOW_INSECURE_CONSOLE must be 1');
    expect(
      readEnv({ ...BASE, IMS_CONSOLE_URL: 'https://c', IMS_CONSOLE_CA: '/ca.pem' }),
    ).toMatchObject({
      consoleCaFile: '/ca.pem',
    });
  });

  it('knows loopback names and addresses', () => {
    expect(
      ['127.0.0.1', '127.9.9.9', '::1', '[::1]', 'localhost', 'LOCALHOST', 'a.localhost'].every(
        isLoopbackHost,
      ),
    ).toBe(true);
    expect(
      ['128.0.0.1', '::2', 'localhost.example.com', '0.0.0.0', 'example.com'].some(isLoopbackHost),
    ).toBe(false);
    expect(insecureConsoleProblem('http://10.0.0.1', true)).toBeUndefined();
  });
});

describe('a console with a self-signed certificate (IMS_CONSOLE_CA)', () => {
  it('is reached when its certificate is the CA given, and refused otherwise', async () => {
    const dir = tempDir('ims-node-ca-');
    onTestFinished(dir.remove);
    const cert = selfSignedCert(dir.path);
    const server = createServer({ cert: cert.cert, key: cert.key }, (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    onTestFinished(() => new Promise<void>((done) => server.close(() => done())));
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/healthz`;
    const trusting = consoleFetch(cert.cert);
    if (!trusting) throw new Error('no fetch');
    const res = await trusting(url, { headers: { accept: 'application/json' } });
    expect(await res.json()).toEqual({ ok: true });
    await expect(fetch(url)).rejects.toThrow();
    const otherDir = tempDir('ims-node-other-ca-');
    onTestFinished(otherDir.remove);
    const other = selfSignedCert(otherDir.path);
    await expect((consoleFetch(other.cert) as typeof fetch)(url)).rejects.toThrow();
    expect(consoleFetch(undefined)).toBeUndefined();
    // A certificate for another name: refused, unless the console is on loopback (the chain still counts).
    const namedDir = tempDir('ims-node-named-');
    onTestFinished(namedDir.remove);
    const named = selfSignedCert(namedDir.path, ['DNS:console.example.com']);
    const namedServer = createServer({ cert: named.cert, key: named.key }, (_req, res) =>
      res.end('{}'),
    );
    await new Promise<void>((done) => namedServer.listen(0, '127.0.0.1', done));
    onTestFinished(() => new Promise<void>((done) => namedServer.close(() => done())));
    const namedUrl = `https://127.0.0.1:${(namedServer.address() as { port: number }).port}/`;
    await expect((consoleFetch(named.cert) as typeof fetch)(namedUrl)).rejects.toThrow();
    expect((await (consoleFetch(named.cert, true) as typeof fetch)(namedUrl)).status).toBe(200);
    await expect((consoleFetch(other.cert, true) as typeof fetch)(namedUrl)).rejects.toThrow();
  });
});
