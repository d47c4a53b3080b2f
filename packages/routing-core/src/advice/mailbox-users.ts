/**
 * POP3/IMAP4 users send through this service by authenticating (Q279860):
 * warn when the configuration leaves them unable to relay.
 */

import { RESTRICTION_LABELS } from '../compile';
import { anyCriterion, type Check, type Finding, finding, isReroute } from './finding';
import { TICK_AUTHENTICATED } from './open-relay';

export const mailboxUsers: Check = (config, context) => {
  const users = context.mailboxCount ?? 0;
  if (users <= 0) return [];
  const out: Finding[] = [];
  const reroute = isReroute(config);
  if (reroute && anyCriterion(config) && !config.restrictions.authenticated) {
    out.push(
      finding({
        code: 'pop3-imap-users-lose-relay',
        severity: 'warning',
        message: `"${RESTRICTION_LABELS.authenticated}" is not ticked, so the ${users} POP3/IMAP4 user(s) of this server can send to outside recipients only from listed addresses.`,
        reference: 'Q279860',
        pointer: '/restrictions/authenticated',
        fix: TICK_AUTHENTICATED,
      }),
    );
  }
  if (!reroute) {
    out.push(
      finding({
        code: 'pop3-imap-users-cannot-send',
        severity: 'warning',
        message: `With "Do not reroute", the ${users} POP3/IMAP4 user(s) of this server cannot send to outside recipients through it.`,
        reference: 'Q279860',
        pointer: '/rerouteMode',
        fix: {
          description: `Reroute incoming SMTP mail, and tick "${RESTRICTION_LABELS.authenticated}"`,
          // Rerouting with no restriction ticked would make an open relay: the
          // fix ticks the criterion these users need in the same step.
          patch: [
            { op: 'replace', path: '/rerouteMode', value: 'reroute' },
            { op: 'replace', path: '/restrictions/authenticated', value: true },
          ],
        },
      }),
    );
  }
  return out;
};
