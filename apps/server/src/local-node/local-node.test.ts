import { mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { build, token } from '../testing/helper';
import { credentialsPath, ensureLocalNode, reportLocalNodeExit } from './local-node';

function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'ims-local-node-'));
  onTestFinished(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

describe('the embedded local node', () => {
  it('is registered once, its token kept 0600; a lost token is replaced', async () => {
    const dir = tempDir();
    const app = await build(dir);
    const first = ensureLocalNode(app, dir);
    expect(first.token).toMatch(/^imsn_/);
    expect(statSync(credentialsPath(dir)).mode & 0o777).toBe(0o600);
    expect(ensureLocalNode(app, dir)).toEqual(first);
    unlinkSync(credentialsPath(dir));
    const second = ensureLocalNode(app, dir);
    expect(second.token).not.toBe(first.token);
    expect(app.nodes.list(() => false).map((n) => n.name)).toEqual(['local']);
    expect(app.nodes.byToken(first.token)).toBeUndefined();
  });

  it('shows a crash loop in GET /api/v1/service and the audit log', async () => {
    const dir = tempDir();
    const app = await build(dir);
    const node = ensureLocalNode(app, dir);
    reportLocalNodeExit(app, node, {
      reason: 'exited with code 1',
      crashLoop: true,
      recentExits: 5,
      windowSeconds: 12,
      restartInMs: 30_000,
    });
    const auth = await token(app, 'read');
    const res = await app.inject({ method: 'GET', url: '/api/v1/service', headers: auth });
    expect(res.json().nodes[0]).toMatchObject({
      name: 'local',
      state: 'error',
      lastError:
        'crash loop: exited 5 times in 12 s (last: exited with code 1); restarting in 30 s',
    });
    const audit = await app.inject({
      method: 'GET',
      url: '/api/v1/audit?action=node.crash-loop',
      headers: auth,
    });
    expect(audit.json().entries).toHaveLength(1);
  });
});
