import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { build } from '../../testing/helper';

/** The parts of a request `audited` reads. */
function request(ip: string, who: { actor?: string; node?: string }): FastifyRequest {
  return {
    ip,
    method: 'POST',
    url: '/test',
    actor: who.actor === undefined ? null : { name: who.actor },
    node: who.node === undefined ? null : { id: 1, name: who.node },
  } as unknown as FastifyRequest;
}

describe('app.audited', () => {
  it('runs the change and writes its entry, with the actor and address of the request', async () => {
    const app = await build();
    const result = app.audited(
      request('192.0.2.7', { actor: 'alice' }),
      'test.done',
      (n: number) => ({ target: `thing:${n}`, details: { n } }),
      () => 42,
    );
    expect(result).toBe(42);
    expect(app.audit.list({ limit: 1 })[0]).toMatchObject({
      actor: 'alice',
      source: '192.0.2.7',
      action: 'test.done',
      target: 'thing:42',
      details: { n: 42 },
    });
  });

  it('names a node as node:<name>, and a note may name the actor (a sign-in)', async () => {
    const app = await build();
    app.audited(request('192.0.2.8', { node: 'edge' }), 'test.node', {});
    expect(app.audit.list({ limit: 1 })[0]).toMatchObject({ actor: 'node:edge' });
    app.audited(request('192.0.2.9', {}), 'test.login', { actor: 'bob' });
    expect(app.audit.list({ limit: 1 })[0]).toMatchObject({ actor: 'bob', source: '192.0.2.9' });
    expect(() => app.audited(request('192.0.2.9', {}), 'test.nobody', {})).toThrow(/no actor/);
  });

  it('writes nothing when the change throws, and rolls the change back', async () => {
    const app = await build();
    const before = app.audit.list({ limit: 1 })[0]?.id;
    expect(() =>
      app.audited(request('192.0.2.7', { actor: 'alice' }), 'test.failed', {}, () => {
        app.auth.createToken('rolled-back', 'read', 'alice', 'a'.repeat(24));
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(app.audit.list({ limit: 1 })[0]?.id).toBe(before);
    expect(app.auth.listTokens().map((t) => t.name)).not.toContain('rolled-back');
  });
});

describe('routes never touch the database handle', () => {
  it('no file under src/routes uses .db (changes go through app.audited and repositories)', () => {
    const routes = join(import.meta.dirname, '../../routes');
    const files = readdirSync(routes, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
    );
    expect(files.length).toBeGreaterThan(5);
    const offenders = files.flatMap((f) =>
      readFileSync(join(routes, f), 'utf8')
        .split('\n')
        .map((line, i) => ({ at: `${f}:${i + 1}`, line }))
        .filter(({ line }) => /\.db\b/.test(line))
        .map(({ at, line }) => `${at}: ${line.trim()}`),
    );
    expect(offenders).toEqual([]);
  });
});
