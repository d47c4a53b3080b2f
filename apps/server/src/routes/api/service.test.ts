import { describe, expect, it } from 'vitest';
import { build, login, problem, token } from '../../testing/helper';

describe('/api/v1/nodes', () => {
  it('registers a node (token shown once), lists it, deregisters it', async () => {
    const app = await build();
    const browser = await login(app);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/nodes',
      headers: browser.write,
      payload: { name: 'edge-1' },
    });
    expect(res.statusCode).toBe(201);
    const node = res.json<{ id: number; token: string }>();
    expect(node.token).toMatch(/^imsn_/);
    const list = await app.inject({ method: 'GET', url: '/api/v1/nodes', headers: browser.read });
    expect(list.json().nodes).toEqual([
      expect.objectContaining({
        id: node.id,
        name: 'edge-1',
        state: 'registered',
        runningVersion: null,
        online: false,
      }),
    ]);
    expect(list.body).not.toContain(node.token);
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/nodes',
        headers: browser.write,
        payload: { name: 'edge-1' },
      }),
      409,
      'conflict',
    );
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: `/api/v1/nodes/${node.id}`,
          headers: browser.write,
        })
      ).statusCode,
    ).toBe(204);
    problem(
      await app.inject({
        method: 'DELETE',
        url: `/api/v1/nodes/${node.id}`,
        headers: browser.write,
      }),
      404,
      'not-found',
    );
    problem(
      await app.inject({
        method: 'GET',
        url: '/api/v1/node/bundle',
        headers: { authorization: `Bearer ${node.token}` },
      }),
      401,
      'unauthenticated',
    );
  });

  it('validation, credentials, scope and CSRF', async () => {
    const app = await build();
    const browser = await login(app);
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/nodes',
        headers: browser.write,
        payload: { name: 'bad name!' },
      }),
      400,
      'validation-failed',
    );
    problem(
      await app.inject({ method: 'POST', url: '/api/v1/nodes', payload: { name: 'x' } }),
      401,
      'unauthenticated',
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/nodes',
        headers: await token(app, 'read'),
        payload: { name: 'x' },
      }),
      403,
      'forbidden',
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/nodes',
        headers: browser.read,
        payload: { name: 'x' },
      }),
      403,
      'csrf-token-missing',
    );
  });
});

describe('/api/v1/service', () => {
  it('reports the saved version and no pending restart with no nodes; restart is audited', async () => {
    const app = await build();
    const browser = await login(app);
    const status = await app.inject({
      method: 'GET',
      url: '/api/v1/service',
      headers: browser.read,
    });
    expect(status.json()).toEqual({
      savedVersion: 1,
      savedBy: 'system',
      targetVersion: 1,
      pendingRestart: false,
      restartInProgress: false,
      restart: {
        state: 'waiting',
        targetVersion: 1,
        behind: [],
        failed: [],
        waitingFor: [],
        noNodeOnline: true,
        summary:
          'No SMTP node is running: version 1 takes effect when the Internet Mail Service attaches.',
      },
      rollout: null,
      nodes: [],
    });
    const restart = await app.inject({
      method: 'POST',
      url: '/api/v1/service/restart',
      headers: browser.write,
    });
    expect(restart.statusCode).toBe(202);
    expect(restart.json()).toEqual({ version: 1, coalesced: false, signalled: 0 });
    const audit = await app.inject({
      method: 'GET',
      url: '/api/v1/audit?action=service.restart',
      headers: browser.read,
    });
    expect(audit.json().entries).toHaveLength(1);
  });

  it('a registered node behind the saved version makes a restart pending', async () => {
    const app = await build();
    const browser = await login(app);
    const { token: nodeToken } = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/nodes',
        headers: browser.write,
        payload: { name: 'n' },
      })
    ).json<{ token: string }>();
    const report = (runningVersion: number) =>
      app.inject({
        method: 'PUT',
        url: '/api/v1/node/status',
        headers: { authorization: `Bearer ${nodeToken}` },
        payload: {
          runningVersion,
          state: 'running',
          listen: ['127.0.0.1:2525'],
          startedAt: new Date().toISOString(),
          counters: {},
        },
      });
    expect((await report(1)).statusCode).toBe(204);
    const service = () =>
      app.inject({ method: 'GET', url: '/api/v1/service', headers: browser.read });
    expect((await service()).json()).toMatchObject({
      pendingRestart: false,
      nodes: [{ state: 'running', online: true }],
    });
    const restarted = await app.inject({
      method: 'POST',
      url: '/api/v1/routing/versions/1/restore',
      headers: { ...browser.write, 'if-match': '"v1"' },
    });
    expect(restarted.json().version).toBe(2);
    expect((await service()).json()).toMatchObject({ pendingRestart: true });
    expect((await report(2)).statusCode).toBe(204);
    expect((await service()).json()).toMatchObject({ pendingRestart: false });
    const attached = await app.inject({
      method: 'GET',
      url: '/api/v1/audit?action=node.attached',
      headers: browser.read,
    });
    expect(attached.json().entries).toHaveLength(1);
  });

  it('restart: 401 without credentials, 403 for a read token and without CSRF', async () => {
    const app = await build();
    const browser = await login(app);
    problem(
      await app.inject({ method: 'POST', url: '/api/v1/service/restart' }),
      401,
      'unauthenticated',
    );
    problem(
      await app.inject({
        method: 'POST',
        url: '/api/v1/service/restart',
        headers: await token(app, 'read'),
      }),
      403,
      'forbidden',
    );
    problem(
      await app.inject({ method: 'POST', url: '/api/v1/service/restart', headers: browser.read }),
      403,
      'csrf-token-missing',
    );
    problem(await app.inject({ method: 'GET', url: '/api/v1/service' }), 401, 'unauthenticated');
  });
});

describe('node attach API', () => {
  it('serves a bundle with the directory hashes; 404 for an unknown version; validates status reports', async () => {
    const app = await build();
    const browser = await login(app);
    await app.inject({
      method: 'POST',
      url: '/api/v1/directory/mailboxes',
      headers: browser.write,
      payload: { address: 'alice@example.com', displayName: 'Alice', password: 'alice-password' },
    });
    const { token: nodeToken } = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/nodes',
        headers: browser.write,
        payload: { name: 'n' },
      })
    ).json<{ token: string }>();
    const headers = { authorization: `Bearer ${nodeToken}` };
    const bundle = await app.inject({ method: 'GET', url: '/api/v1/node/bundle', headers });
    expect(bundle.json()).toMatchObject({
      version: 1,
      config: { siteDomain: 'example.com' },
      directory: [
        { address: 'alice@example.com', passwordHash: expect.stringMatching(/^scrypt\$/) },
        { address: 'postmaster@example.com', passwordHash: expect.stringMatching(/^scrypt\$/) },
      ],
    });
    problem(
      await app.inject({ method: 'GET', url: '/api/v1/node/bundle?version=5', headers }),
      404,
      'not-found',
    );
    problem(
      await app.inject({
        method: 'PUT',
        url: '/api/v1/node/status',
        headers,
        payload: { state: 'up' },
      }),
      400,
      'validation-failed',
    );
    problem(await app.inject({ method: 'GET', url: '/api/v1/routing', headers }), 403, 'forbidden');
  });
});

describe('regressions from the server review', () => {
  it('a registered node that never attached does not make a restart pending', async () => {
    const app = await build();
    const browser = await login(app);
    await app.inject({
      method: 'POST',
      url: '/api/v1/nodes',
      headers: browser.write,
      payload: { name: 'idle' },
    });
    const status = await app.inject({
      method: 'GET',
      url: '/api/v1/service',
      headers: browser.read,
    });
    expect(status.json()).toMatchObject({ pendingRestart: false });
  });

  it('a node may only report a version that exists', async () => {
    const app = await build();
    const browser = await login(app);
    const { token: nodeToken } = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/nodes',
        headers: browser.write,
        payload: { name: 'n' },
      })
    ).json<{ token: string }>();
    const res = await app.inject({
      method: 'PUT',
      url: '/api/v1/node/status',
      headers: { authorization: `Bearer ${nodeToken}` },
      payload: {
        runningVersion: 99,
        state: 'running',
        listen: [],
        startedAt: new Date().toISOString(),
        counters: {},
      },
    });
    expect(problem(res, 400, 'validation-failed').errors).toEqual([
      { pointer: '/runningVersion', detail: expect.any(String) },
    ]);
  });

  it('the bundle is the saved version when none is asked for, and says which one nodes should run', async () => {
    const app = await build();
    const browser = await login(app);
    const { token: nodeToken } = (
      await app.inject({
        method: 'POST',
        url: '/api/v1/nodes',
        headers: browser.write,
        payload: { name: 'n' },
      })
    ).json<{ token: string }>();
    await app.inject({
      method: 'POST',
      url: '/api/v1/routing/versions/1/restore',
      headers: { ...browser.write, 'if-match': '"v1"' },
    });
    const bundle = await app.inject({
      method: 'GET',
      url: '/api/v1/node/bundle',
      headers: { authorization: `Bearer ${nodeToken}` },
    });
    expect(bundle.json()).toMatchObject({ version: 2, targetVersion: 1 });
  });
});

describe('engine (issue 12: a mixed fleet)', () => {
  it('each node in /service says its engine: "ims" until it reports one, then what it reported; anything else is 400', async () => {
    const app = await build();
    const browser = await login(app);
    const register = async (name: string) =>
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/nodes',
          headers: browser.write,
          payload: { name },
        })
      ).json<{ token: string }>().token;
    const smtp = await register('smtp-1');
    const postfix = await register('postfix-1');
    const report = (nodeToken: string, engine?: string) =>
      app.inject({
        method: 'PUT',
        url: '/api/v1/node/status',
        headers: { authorization: `Bearer ${nodeToken}` },
        payload: {
          runningVersion: 1,
          state: 'running',
          listen: ['127.0.0.1:2525'],
          startedAt: new Date().toISOString(),
          counters: {},
          ...(engine ? { engine } : {}),
        },
      });
    const engines = async () =>
      (await app.inject({ method: 'GET', url: '/api/v1/service', headers: browser.read }))
        .json<{ nodes: { name: string; engine: string }[] }>()
        .nodes.map(({ name, engine }) => ({ name, engine }));
    expect(await engines()).toEqual([
      { name: 'smtp-1', engine: 'ims' },
      { name: 'postfix-1', engine: 'ims' },
    ]);
    expect((await report(smtp)).statusCode).toBe(204);
    expect((await report(postfix, 'postfix')).statusCode).toBe(204);
    expect(await engines()).toEqual([
      { name: 'smtp-1', engine: 'ims' },
      { name: 'postfix-1', engine: 'postfix' },
    ]);
    problem(await report(postfix, 'exim'), 400, 'validation-failed');
    expect(await engines()).toContainEqual({ name: 'postfix-1', engine: 'postfix' });
  });
});
