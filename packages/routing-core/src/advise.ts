/**
 * advise(config, context): the security advisor. Every finding says what is
 * wrong, why (with its knowledge-base reference), and where possible offers a
 * one-click fix as a JSON Patch (RFC 6902) on the document.
 *
 * The checks live in advice/, one file per family of findings, each a pure
 * `(config, context) => Finding[]`; advise() validates, runs them in order,
 * caps each kind and sorts the result, most severe first.
 */

import { addressDuplicates } from './advice/address-duplicates';
import { broadEntries } from './advice/broad-entries';
import { allowListCoverage } from './advice/coverage';
import { emptyLists } from './advice/empty-lists';
import {
  type AdviceContext,
  type Check,
  type CheckContext,
  type Finding,
  type Fix,
  parseEntries,
  type Severity,
} from './advice/finding';
import { internalAddresses } from './advice/internal-addresses';
import { routeLoops } from './advice/loops';
import { mailboxUsers } from './advice/mailbox-users';
import { ndrRelay } from './advice/ndr-relay';
import { neverRouteOverlaps } from './advice/never-route';
import { unusedInNoReroute } from './advice/no-reroute';
import { normalisedEntries } from './advice/normalised';
import { openRelay } from './advice/open-relay';
import { routeDuplicates } from './advice/routes';
import { siteDomain } from './advice/site-domain';
import { Policy } from './compile';
import type { RoutingConfig } from './config';
import { type ValidationIssue, validate } from './validate';

export type {
  AdviceContext,
  Check,
  CheckContext,
  Finding,
  Fix,
  JsonPatchOperation,
  Severity,
} from './advice/finding';

/** Every check, in the order their findings are listed within one severity. */
export const CHECKS: readonly Check[] = [
  normalisedEntries,
  openRelay,
  ndrRelay,
  siteDomain,
  mailboxUsers,
  unusedInNoReroute,
  routeDuplicates,
  addressDuplicates,
  broadEntries,
  emptyLists,
  allowListCoverage,
  neverRouteOverlaps,
  internalAddresses,
  routeLoops,
];

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** What every check reads, for a document validate() returned (with its notices). */
export function checkContextOf(
  doc: RoutingConfig,
  notices: readonly ValidationIssue[],
  context: AdviceContext,
): CheckContext {
  const r = doc.restrictions;
  return {
    ...context,
    policy: new Policy(doc),
    notices,
    lists: {
      clientAddresses: parseEntries('clientAddresses', r.clientAddresses.entries),
      internalAddresses: parseEntries('internalAddresses', r.internalAddresses.entries),
      neverRoute: parseEntries('neverRoute', r.neverRoute),
    },
  };
}

/** Findings for a configuration (a saved one or an unsaved draft). Most severe first. */
export function advise(config: RoutingConfig, context: AdviceContext = {}): Finding[] {
  const checked = validate(config);
  if (!checked.ok) {
    return checked.errors.map((e) => ({
      id: `invalid:${e.pointer}`,
      code: 'invalid',
      severity: 'critical' as const,
      message: e.message,
      reference: 'docs/design.md §2',
      pointer: e.pointer,
    }));
  }
  const doc = checked.config;
  const checkContext = checkContextOf(doc, checked.notices, context);
  const findings = CHECKS.flatMap((check) => check(doc, checkContext));
  return capPerCode(findings).sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity],
  );
}

/** The most findings of one kind listed; the rest are counted in one more finding. */
export const MAX_FINDINGS_PER_CODE = 50;

function capPerCode(findings: Finding[]): Finding[] {
  const counts = new Map<string, number>();
  const out: Finding[] = [];
  for (const f of findings) {
    const n = (counts.get(f.code) ?? 0) + 1;
    counts.set(f.code, n);
    if (n <= MAX_FINDINGS_PER_CODE) out.push(f);
  }
  for (const [code, n] of counts) {
    if (n <= MAX_FINDINGS_PER_CODE) continue;
    const first = findings.find((f) => f.code === code) as Finding;
    out.push({
      id: `${code}:more`,
      code: `${code}-more`,
      severity: first.severity,
      message: `${n - MAX_FINDINGS_PER_CODE} more "${code}" findings are not listed.`,
      reference: first.reference,
    });
  }
  return out;
}

function decodePointer(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Applies a fix (a JSON Patch of add / replace / remove) to a copy of the
 * document; the input is not changed. Throws on a path that does not exist.
 */
export function applyFix(config: RoutingConfig, fix: Fix): RoutingConfig {
  const copy = structuredCloneJson(config);
  for (const op of fix.patch) {
    const tokens = decodePointer(op.path);
    const last = tokens.pop();
    if (last === undefined) throw new Error(`Cannot patch the whole document (${op.path}).`);
    let target: unknown = copy;
    for (const t of tokens) {
      target = (target as Record<string, unknown>)[t];
      if (typeof target !== 'object' || target === null)
        throw new Error(`No such path: ${op.path}`);
    }
    if (Array.isArray(target)) {
      const index = last === '-' ? target.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > target.length)
        throw new Error(`No such path: ${op.path}`);
      if (op.op === 'add') target.splice(index, 0, structuredCloneJson(op.value));
      else if (index >= target.length) throw new Error(`No such path: ${op.path}`);
      else if (op.op === 'remove') target.splice(index, 1);
      else target[index] = structuredCloneJson(op.value);
    } else {
      const record = target as Record<string, unknown>;
      if (op.op !== 'add' && !(last in record)) throw new Error(`No such path: ${op.path}`);
      if (op.op === 'remove') delete record[last];
      else record[last] = structuredCloneJson(op.value);
    }
  }
  return copy;
}

function structuredCloneJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
