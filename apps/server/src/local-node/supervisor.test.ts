import { childEnv } from '@ims/test-support';
import { describe, expect, it } from 'vitest';
import { type ChildExit, Supervisor } from './supervisor';

const node = process.execPath;

describe('Supervisor', () => {
  it('restarts a crashing child with growing delays and reports a crash loop', async () => {
    const exits: ChildExit[] = [];
    const pids: number[] = [];
    const s = new Supervisor({
      command: node,
      args: ['-e', 'process.exit(3)'],
      cwd: process.cwd(),
      env: childEnv(),
      initialDelayMs: 20,
      maxDelayMs: 200,
      crashLoopExits: 4,
      stdio: 'pipe',
      onStart: (pid) => pids.push(pid),
      onExit: (e) => exits.push(e),
    });
    s.start();
    await expect.poll(() => exits.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
    await s.stop();
    expect(exits[0]).toMatchObject({ code: 3, reason: 'exited with code 3', crashLoop: false });
    expect(exits.slice(0, 3).map((e) => e.restartInMs)).toEqual([20, 40, 80]);
    expect(exits[3]).toMatchObject({ crashLoop: true, recentExits: 4, restartInMs: 200 });
    expect(pids.length).toBeGreaterThanOrEqual(4);
  });

  it('stops a running child with SIGTERM and does not restart it', async () => {
    const exits: ChildExit[] = [];
    const s = new Supervisor({
      command: node,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      cwd: process.cwd(),
      env: childEnv(),
      stdio: 'pipe',
      onExit: (e) => exits.push(e),
    });
    s.start();
    const pid = s.pid;
    expect(pid).toBeGreaterThan(0);
    await s.stop();
    expect(s.pid).toBeUndefined();
    expect(() => process.kill(pid as number, 0)).toThrow();
    await new Promise((r) => setTimeout(r, 100));
    expect(exits).toEqual([]);
  });

  it('kills a child that ignores SIGTERM after the stop timeout', async () => {
    const s = new Supervisor({
      command: node,
      args: [
        '-e',
        "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('up')",
      ],
      cwd: process.cwd(),
      env: childEnv(),
      stdio: 'pipe',
      stopTimeoutMs: 300,
    });
    s.start();
    await new Promise<void>((r) => s.process?.stdout?.once('data', () => r()));
    const pid = s.pid as number;
    await s.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
