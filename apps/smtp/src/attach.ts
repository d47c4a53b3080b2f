/**
 * The SMTP node as the engine of its console link (@ims/node-link,
 * docs/design.md §4): a bundle is checked (validated and compiled) before it
 * is cached and loaded, a restart onto the running version refreshes the
 * directory, status carries the node's counters, and the console's requests
 * are answered from the queue and the decision records.
 */

import type { Engine } from '@ims/node-link';
import type { TrafficStore } from './decision-records';
import { loadDirectory, loadGeneration } from './generation';
import type { OutboundQueue } from './queue';
import { answerRequest } from './requests';
import type { Counters } from './smtp-node';

/** What the console link drives: an SmtpNode, or the primary of a node's SMTP workers (cluster/). */
export interface AttachedNode {
  readonly runningVersion: number | undefined;
  readonly listening: string[];
  readonly startedAt: Date;
  readonly counters: Counters;
  readonly queue: OutboundQueue;
  /** The node's decision records (one store per node, whatever its workers). */
  readonly traffic: TrafficStore;
  /** Brings the store up to date first (a node whose workers forward their records in batches). */
  flushTraffic?(): Promise<void>;
  /**
   * Validates and loads a bundle for new sessions (logging `restarted`);
   * throws (keeping the running one) when it cannot run.
   */
  load(bundle: unknown): unknown;
  setDirectory(entries: unknown): void;
}

/** `node` as the engine of a ConsoleLink. */
export function smtpEngine(node: AttachedNode): Engine {
  return {
    get runningVersion() {
      return node.runningVersion;
    },
    get listening() {
      return node.listening;
    },
    get startedAt() {
      return node.startedAt;
    },
    status: () => ({ counters: { ...node.counters }, engine: 'ims' }),
    check(bundle) {
      loadGeneration(bundle);
      loadDirectory(bundle);
    },
    // Awaited by the link: the primary of several workers resolves once every one runs it.
    apply: async (bundle) => {
      await node.load(bundle);
    },
    reapply: (bundle) => node.setDirectory(bundle.directory),
    setDirectory: (bundle) => node.setDirectory(bundle.directory),
    async request(method, params) {
      // Records the workers have not forwarded yet count too.
      if (method === 'traffic.records') await node.flushTraffic?.();
      return answerRequest(node.queue, method, params, node.traffic);
    },
  };
}
