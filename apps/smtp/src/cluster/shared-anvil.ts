/**
 * The node's one Anvil (limits/anvil.ts), served by the primary to its SMTP
 * workers, as Postfix's anvil is one service for all its smtpd processes: a
 * client's sessions, connection rate and AUTH failures count across workers.
 *
 * Each worker gets its own view (`forWorker`), which remembers the sessions
 * and AUTH exchanges that worker holds: when a worker dies, they are released
 * (its sessions are gone), so a crash never leaves an address counted as
 * connected forever.
 */

import type { Anvil, AuthOutcome, AuthVerdict, ConnectVerdict } from '../limits/anvil';

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

export interface WorkerAnvil extends Anvil {
  /** The worker is gone: release every session and AUTH exchange it held. */
  release(): Promise<void>;
}

export function forWorker(anvil: Anvil): WorkerAnvil {
  const sessions = new Map<string, number>();
  /** AUTH exchanges in progress, by address and user name. */
  const auths = new Map<string, { ip: string; user: string; n: number }>();
  const authKey = (ip: string, user: string) => `${ip}\n${user}`;
  return {
    async connect(ip: string): Promise<ConnectVerdict> {
      const verdict = await anvil.connect(ip);
      if (verdict.allowed) bump(sessions, ip, 1);
      return verdict;
    },
    async disconnect(ip: string): Promise<void> {
      if (!sessions.has(ip)) return;
      bump(sessions, ip, -1);
      await anvil.disconnect(ip);
    },
    async authAllowed(ip: string, user: string): Promise<AuthVerdict> {
      const verdict = await anvil.authAllowed(ip, user);
      if (verdict.allowed) {
        const held = auths.get(authKey(ip, user));
        if (held) held.n += 1;
        else auths.set(authKey(ip, user), { ip, user, n: 1 });
      }
      return verdict;
    },
    async authDone(ip: string, user: string, outcome: AuthOutcome): Promise<void> {
      const key = authKey(ip, user);
      const held = auths.get(key);
      if (!held) return;
      held.n -= 1;
      if (held.n === 0) auths.delete(key);
      await anvil.authDone(ip, user, outcome);
    },
    async release(): Promise<void> {
      for (const [ip, n] of sessions) for (let i = 0; i < n; i++) await anvil.disconnect(ip);
      sessions.clear();
      // Not a failure: the exchange ended with its worker, the password unchecked or unknown.
      for (const { ip, user, n } of auths.values())
        for (let i = 0; i < n; i++) await anvil.authDone(ip, user, 'error');
      auths.clear();
    },
  };
}
