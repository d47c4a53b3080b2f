/**
 * Entries validate() stored in another form (host bits cleared, an
 * IPv4-mapped IPv6 address stored as IPv4): info, so the administrator sees
 * what was saved.
 */

import { type Check, type Finding, finding } from './finding';

export const normalisedEntries: Check = (_config, context) =>
  context.notices.map(
    (n): Finding =>
      finding(
        {
          code: n.code,
          severity: 'info',
          message: n.message,
          reference: 'RFC 4632 §3.1',
          pointer: n.pointer,
        },
        n.pointer,
      ),
  );
