/**
 * What an SMTP node's primary process and its workers say to each other
 * (cluster/channel.ts carries it).
 */

import type { Action, TrafficKey } from '@ims/routing-core';
import type { LogLevel } from '../config/env';
import type { Totals } from '../node-state';
import type { SmtpNodeOptions } from '../smtp-node';
import type { Call } from './channel';

/** The settings a worker starts with: the node's, minus what cannot cross a pipe. */
export type WorkerSettings = Omit<
  SmtpNodeOptions,
  'logger' | 'queue' | 'journalDir' | 'queueHandOff' | 'selfAddresses' | 'anvil' | 'trafficRecorder'
> & { logLevel: LogLevel };

/** Worker → primary. */
export interface WorkerToPrimary {
  requests: {
    /** The worker's slot, settings and the bundle new sessions get now. */
    init: { params: null; result: { slot: number; settings: WorkerSettings; bundle: unknown } };
    /** A method of an object the primary holds for the whole node (channel.ts `proxy`). */
    call: { params: Call; result: unknown };
  };
  notes: {
    /** Listening, on this version. */
    ready: { version: number; listening: string[] };
    /** The worker could not start (it exits). */
    failed: { error: string };
    /** This worker's counters since it started. */
    totals: Totals;
  };
}

/** Primary → worker. */
export interface PrimaryToWorker {
  requests: {
    /** Load this bundle for new sessions; answers the version now running. */
    load: { params: unknown; result: number };
    /** Resolve once the copies of every message accepted so far are written; answers the counters. */
    settled: { params: null; result: Totals };
    /** Send the decision records counted so far to the primary's store now (before it is read). */
    flushTraffic: { params: null; result: null };
  };
  notes: {
    /** The directory changed (no restart). */
    directory: unknown;
  };
}

/** What a worker calls on the primary's queue runner, by the name `queue`. */
export interface QueueRunner {
  adopt(name: string, nextAttemptAt: number): Promise<void>;
}

/** What a worker calls on the primary's decision records, by the name `traffic`. */
export interface TrafficSink {
  /** A batch of RCPT decisions the worker counted (decision-records.ts keys and actions). */
  recordBatch(batch: readonly (readonly [TrafficKey, Action])[]): Promise<void>;
}
