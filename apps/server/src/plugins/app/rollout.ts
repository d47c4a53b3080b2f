/**
 * Drives the latest rollout (rollout-state.ts is its pure state machine): on
 * every node report and on a short timer while it runs, it advances the
 * rollout, signals the node whose turn it is (that node's own target version
 * first, so a node that restarts on its own loads what it was told), saves
 * the record and tells the browsers (`rollout` events, and the service status).
 *
 * The record is persisted. A rollout that was running when the console
 * stopped is marked halted when it starts again ("the console restarted
 * during the rollout"): nothing is signalled behind the operator's back, and
 * Continue or Roll back picks it up from there.
 */

import type { Rollout } from '@ims/api-contract';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import {
  advanceRollout,
  haltRollout,
  type RolloutRecord,
  type RolloutTimes,
  startRollout,
} from './rollout-state';

export interface RolloutOptions {
  /** IMS_ROLLOUT_SETTLE_MS: how long the canary runs a new version before the next node is signalled. */
  rolloutSettleMs?: number;
  /** IMS_ROLLOUT_TIMEOUT_MS: how long a node has to run a new version before the rollout halts. */
  rolloutTimeoutMs?: number;
}

export const DEFAULT_ROLLOUT_SETTLE_MS = 5_000;
export const DEFAULT_ROLLOUT_TIMEOUT_MS = 60_000;
/** How often a running rollout looks at the clock (settle time and timeout). */
const TICK_MS = 250;

export const CONSOLE_RESTARTED = 'the console restarted during the rollout';

export function rolloutDriver(app: FastifyInstance, times: RolloutTimes) {
  let record = app.nodes.rollout();
  if (record?.rollout.state === 'running') {
    record = haltRollout(record, CONSOLE_RESTARTED);
    app.nodes.saveRollout(record);
  }
  let timer: NodeJS.Timeout | undefined;
  const connected = (id: number) => app.nodeEvents.isConnected(id);

  const schedule = () => {
    if (timer || record?.rollout.state !== 'running') return;
    timer = setTimeout(() => {
      timer = undefined;
      advance();
    }, TICK_MS);
    timer.unref();
  };

  /** Advances the rollout; returns whether it changed. */
  const advance = (): boolean => {
    if (record?.rollout.state !== 'running') return false;
    const nodes = app.nodes.list(connected);
    const out = advanceRollout(record, {
      nodes,
      signals: app.serviceStatus.signals,
      now: Date.now(),
      times,
    });
    const changed = JSON.stringify(out.record) !== JSON.stringify(record);
    record = out.record;
    const { version } = record.rollout;
    for (const name of out.signal) {
      const node = nodes.find((n) => n.name === name);
      if (!node) continue;
      app.nodes.pin(node.id, version);
      app.serviceStatus.signalled([node.id], version);
      app.nodeEvents.publishToNode(node.id, 'restart', { version });
    }
    // Done: the nodes it moved follow the fleet's target again.
    if (record.rollout.state === 'done') app.nodes.unpin(version);
    if (changed) {
      app.nodes.saveRollout(record);
      app.nodeEvents.publishToBrowsers('rollout', record.rollout);
      app.serviceStatus.push();
    }
    schedule();
    return changed;
  };

  return {
    current(): Rollout | null {
      return record?.rollout ?? null;
    },
    record(): RolloutRecord | undefined {
      return record;
    },
    /**
     * Starts a rollout of `version` (the fleet's target is set already). A
     * rolling one pins every node at the version it was to run, then signals
     * the first; `all` has signalled every node itself.
     */
    start(
      version: number,
      strategy: Rollout['strategy'],
      order: readonly string[],
      fromVersion: number,
    ): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
      record = startRollout(version, strategy, order, fromVersion, Date.now());
      app.nodes.saveRollout(record);
      app.nodeEvents.publishToBrowsers('rollout', record.rollout);
      advance();
    },
    /** A node reported, attached or went away. */
    advance,
    close(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    rollout: ReturnType<typeof rolloutDriver>;
  }
}

export default fp(
  async (app: FastifyInstance, opts: RolloutOptions) => {
    const driver = rolloutDriver(app, {
      settleMs: opts.rolloutSettleMs ?? DEFAULT_ROLLOUT_SETTLE_MS,
      timeoutMs: opts.rolloutTimeoutMs ?? DEFAULT_ROLLOUT_TIMEOUT_MS,
    });
    app.decorate('rollout', driver);
    app.addHook('onClose', async () => driver.close());
  },
  { name: 'rollout', dependencies: ['node-events', 'repositories', 'service-status'] },
);
