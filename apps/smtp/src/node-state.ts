/**
 * What the parts of a node share while it runs: the generation new sessions
 * get, the directory, the open sessions and the counters. The SMTP node owns
 * one; the hooks, AUTH, storage and the NDR writer read and update it.
 */

import type { Decision } from '@ims/routing-core';
import type { Generation } from './generation';

export interface SessionState {
  generation: Generation;
  /** The mailbox that authenticated with AUTH in this session. */
  user?: string;
  decisions: { rcpt: string; decision: Decision }[];
  /** RCPT commands in this session, accepted or not. */
  attempts: number;
  /** This transaction's MAIL FROM, parsed once: canonical, '' for the null sender. */
  sender: string;
  /** True while a message of this session is being stored. */
  storing?: boolean;
  /** A restart's drain timeout passed while storing: close once the reply is sent. */
  closeAfterReply?: boolean;
  /** The client address the Anvil counted this session under (given back at close). */
  anvilClient?: string;
}

export interface Totals {
  sessions: number;
  recipientsAccepted: number;
  recipientsRejected: number;
  relayDenied: number;
  messagesAccepted: number;
  authFailures: number;
  /** Non-delivery reports generated (to the sender, never to the null sender). */
  ndrsSent: number;
  /** Sessions refused by the per-client limits (the Anvil). */
  connectionsRefused: number;
}

export class NodeState {
  /** The generation new sessions get; undefined until the first one is loaded. */
  generation: Generation | undefined;
  /** Mailbox address (lower case) → password hash. Replaced whole on a change. */
  directory = new Map<string, string>();
  readonly sessions = new Map<string, SessionState>();
  /** Sessions whose onConnect waits for the Anvil's answer. */
  readonly connecting = new Set<string>();
  /** Of those, the ones that closed meanwhile. */
  readonly closedWhileConnecting = new Set<string>();
  readonly totals: Totals = {
    sessions: 0,
    recipientsAccepted: 0,
    recipientsRejected: 0,
    relayDenied: 0,
    messagesAccepted: 0,
    authFailures: 0,
    ndrsSent: 0,
    connectionsRefused: 0,
  };
  /** Message bytes all sessions together hold in memory now. */
  bytesInFlight = 0;

  /** Whether a local address is a mailbox of the directory. */
  readonly isKnown = (address: string): boolean => this.directory.has(address.toLowerCase());
}
