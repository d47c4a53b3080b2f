/**
 * NDR relay and backscatter (Q255695): without recipient rejection, "Do not
 * reroute" accepts mail for any outside recipient and returns it to a forged
 * MAIL FROM (critical); in reroute mode, unknown local recipients do the same
 * (a warning).
 */

import { type Check, type Fix, finding, isReroute } from './finding';

const REJECT_UNKNOWN: Fix = {
  description: 'Reject unknown recipients at RCPT time',
  patch: [{ op: 'replace', path: '/rejectUnknownRecipients', value: true }],
};

export const ndrRelay: Check = (config) => {
  if (config.rejectUnknownRecipients) return [];
  if (!isReroute(config)) {
    return [
      finding({
        code: 'ndr-relay',
        severity: 'critical',
        message:
          '"Do not reroute" accepts mail for any outside recipient and then sends a non-delivery report to the MAIL FROM address, so anyone can relay spam as NDRs to any victim. A Postfix node refuses this version and keeps running its previous one (docs/postfix.md, Limits).',
        reference: 'Q255695',
        pointer: '/rejectUnknownRecipients',
        fix: REJECT_UNKNOWN,
      }),
    ];
  }
  return [
    finding({
      code: 'unknown-recipients-accepted',
      severity: 'warning',
      message:
        'Mail for unknown local recipients is accepted and then returned as a non-delivery report to the MAIL FROM address, which is usually forged: backscatter.',
      reference: 'Q255695',
      pointer: '/rejectUnknownRecipients',
      fix: REJECT_UNKNOWN,
    }),
  ];
};
