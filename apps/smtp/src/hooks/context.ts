/** What the hooks of the listener (listener.ts) work with: one per node. */

import type { AuthChecker } from '../auth';
import type { DecisionRecorder } from '../decision-records';
import type { Anvil } from '../limits/anvil';
import type { Logger } from '../log';
import type { NodeState } from '../node-state';
import type { MessageStore } from '../storage';

export interface HookContext {
  state: NodeState;
  logger: Logger;
  auth: AuthChecker;
  /** Per-client counting (sessions per address, connection rate, AUTH failures). */
  anvil: Anvil;
  /**
   * Whether sessions are counted at all: false when neither the per-address
   * session limit nor the connection rate is set, and then the Anvil is not
   * asked at connect (as Postfix's smtpd does not ask its anvil then).
   */
  countSessions: boolean;
  store: MessageStore;
  /** Where each RCPT decision is counted (decision-records.ts). */
  traffic: DecisionRecorder;
  /** Name in Received: headers. */
  hostname: string;
  /** RCPT commands a session may send, accepted or not (counted per session, not per transaction). */
  maxRecipients: number;
  /** Message bytes all sessions together may hold in memory. */
  maxBytesInFlight: number;
  /** Tells a session of an older generation to reconnect (421 4.3.2), and closes it. */
  drainSession(id: string): void;
}
