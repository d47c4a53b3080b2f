/**
 * The reverse-path of MAIL FROM and the forward-path of RCPT TO (RFC 5321
 * §4.1.2), parsed strictly by hand: a mistake here can turn the server into an
 * open relay, so `%`, `!` and quoted `@` are only ever characters of the local
 * part, and the domain is the one after the final `@`.
 *
 * The scan is linear and never throws. The work is done in three passes, so
 * that nothing expensive (IDN conversion) runs on input that is too long:
 *   1. structure: brackets, source route, local part, where the domain is;
 *   2. limits (RFC 5321 §4.5.3.1);
 *   3. the domains themselves, and the canonical form.
 */

import { normaliseDomain } from './domain';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './ip';

export type DomainKind = 'name' | 'ipv4' | 'ipv6';

export interface Mailbox {
  /**
   * Canonical local part: a Dot-string as given (case preserved); a
   * Quoted-string whose content is a valid Dot-string is unquoted; otherwise
   * re-quoted minimally (backslash only before " and \).
   */
  localPart: string;
  /**
   * name: normalised by normaliseDomain (lower case, trailing dot removed,
   * IDN → A-label); ipv4: dotted quad; ipv6: RFC 5952 text (no brackets, no tag).
   */
  domain: string;
  domainKind: DomainKind;
  /** localPart@domain for names; localPart@[1.2.3.4] or localPart@[IPv6:2001:db8::1] for literals. */
  address: string;
}

export type PathError =
  | 'syntax'
  | 'path-too-long'
  | 'local-part-too-long'
  | 'domain-too-long'
  | 'bad-domain'
  | 'bad-address-literal'
  | 'null-path-not-allowed'
  | 'no-domain';

export type ParsedPath =
  | { ok: true; kind: 'null' }
  | { ok: true; kind: 'postmaster' }
  | { ok: true; kind: 'mailbox'; mailbox: Mailbox; sourceRoute: readonly string[] }
  | { ok: false; error: PathError; message: string };

export interface ParsePathOptions {
  /** Accept the null reverse-path <> (MAIL FROM). Default false. */
  allowNull?: boolean;
  /** Accept <Postmaster> without a domain (RCPT TO). Default false. */
  allowPostmaster?: boolean;
}

/** RFC 5321 §4.5.3.1.1: local part, in octets. */
const MAX_LOCAL_PART_LENGTH = 64;
/** RFC 5321 §4.5.3.1.2: domain, in octets. */
const MAX_DOMAIN_LENGTH = 255;
/** RFC 5321 §4.5.3.1.3: path, in octets, including the angle brackets. */
const MAX_PATH_LENGTH = 256;

// Character codes.
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const DOT = 46;
const COLON = 58;
const LT = 60;
const GT = 62;
const AT = 64;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const CLOSE_BRACKET = 93;
const TILDE = 126;
const DEL = 127;

/** RFC 5321 atext (RFC 5322 §3.2.3): ALPHA DIGIT and ! # $ % & ' * + - / = ? ^ _ ` { | } ~ */
const ATEXT = new Uint8Array(128);
for (let c = 48; c <= 57; c++) ATEXT[c] = 1;
for (let c = 65; c <= 90; c++) ATEXT[c] = 1;
for (let c = 97; c <= 122; c++) ATEXT[c] = 1;
for (const ch of "!#$%&'*+-/=?^_`{|}~") ATEXT[ch.charCodeAt(0)] = 1;

function isAtext(c: number): boolean {
  return c < 128 && ATEXT[c] === 1;
}

/**
 * Characters that may appear in a domain (or source-route domain) at the
 * structural stage. Anything else printable or non-ASCII is left for
 * normaliseDomain or the literal parser to judge.
 */
function isDomainStructuralChar(c: number): boolean {
  return c > SPACE && c !== DEL && c !== AT && c !== QUOTE && c !== LT && c !== GT;
}

/** Whether `text` is an RFC 5321 Dot-string: atoms of atext separated by single dots. */
function isDotString(text: string): boolean {
  const len = text.length;
  if (len === 0) return false;
  let atomLength = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) {
      if (atomLength === 0) return false;
      atomLength = 0;
    } else if (isAtext(c)) {
      atomLength++;
    } else {
      return false;
    }
  }
  return atomLength > 0;
}

/** A quoted-pair; only run on text already checked to be a valid Quoted-string's content. */
const QUOTED_PAIR = /\\([\x20-\x7e])/g;

/** A Quoted-string for `content` (characters 32 to 126), escaping only " and \. */
function quote(content: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < content.length; i++) {
    const c = content.charCodeAt(i);
    if (c === QUOTE || c === BACKSLASH) {
      out += `${content.slice(from, i)}\\`;
      from = i;
    }
  }
  return `${out}${content.slice(from)}"`;
}

type Failure = { ok: false; error: PathError; message: string };

function fail(error: PathError, message: string): Failure {
  return { ok: false, error, message };
}

const SYNTAX_MESSAGES = {
  empty: 'The address is empty.',
  brackets: 'The address has unbalanced angle brackets.',
  route: 'The source route before the address is malformed.',
  local: 'The local part of the address is not valid.',
  quoted: 'The quoted local part of the address is not valid.',
  domain: 'The domain of the address contains a character that is not allowed.',
  at: 'The address has more than one @ outside quotes.',
} as const;

// Shared by every result without a source route; never written to.
const NO_ROUTE: string[] = Object.freeze([]) as unknown as string[];

const NULL_PATH: ParsedPath = Object.freeze({ ok: true, kind: 'null' });
const POSTMASTER: ParsedPath = Object.freeze({ ok: true, kind: 'postmaster' });

// What the scans below found beside their return value: module scratch, so
// that a parse allocates nothing for its structure.
let scanQuoted = false;
let scanEscaped = false;
let scanPlainDomain = false;

/**
 * Where the last parsePath() found its domain when the domain is the input's
 * own text ([from, to) of the input; -1 otherwise, e.g. a normalised or
 * literal domain). Package-internal: evaluate() reads it right after parsing
 * a recipient, to look the domain up in the input string rather than in a
 * slice of it.
 */
export const lastPlainDomain = { from: -1, to: -1 };

/**
 * Pass 1, the source route (A-d-l): `@domain,@domain:` before the mailbox.
 * Only its shape is checked here; its domains are checked once the length is
 * known to be within the limit. Returns the index after the `:`, or -1.
 */
function scanSourceRoute(input: string, from: number, end: number): number {
  let i = from;
  for (;;) {
    if (i >= end || input.charCodeAt(i) !== AT) return -1;
    i++;
    const labelFrom = i;
    let c = 0;
    while (i < end) {
      c = input.charCodeAt(i);
      if (c === COMMA || c === COLON) break;
      if (!isDomainStructuralChar(c) || c === OPEN_BRACKET || c === CLOSE_BRACKET) return -1;
      i++;
    }
    if (i === labelFrom || i >= end) return -1;
    i++;
    if (c === COLON) return i;
  }
}

/**
 * Pass 1, a Quoted-string local part from its opening quote. Returns the
 * index after the closing quote, or -1; sets scanEscaped.
 */
function scanQuotedLocalPart(input: string, from: number, end: number): number {
  let i = from + 1;
  scanEscaped = false;
  while (i < end) {
    const c = input.charCodeAt(i);
    if (c === QUOTE) {
      i++; // closing quote
      return i < end && input.charCodeAt(i) !== AT ? -1 : i;
    }
    if (c === BACKSLASH) {
      const next = i + 1 < end ? input.charCodeAt(i + 1) : -1;
      if (next < SPACE || next > TILDE) return -1;
      scanEscaped = true;
      i += 2;
      continue;
    }
    // qtextSMTP: %d32-33 / %d35-91 / %d93-126 (" and \ are handled above).
    if (c < SPACE || c > TILDE) return -1;
    i++;
  }
  return -1;
}

/** Pass 1, a Dot-string local part, up to the first @. Returns where it ends, or -1. */
function scanDotLocalPart(input: string, from: number, end: number): number {
  let atomLength = 0;
  let i = from;
  while (i < end) {
    const c = input.charCodeAt(i);
    if (c === AT) break;
    if (c === DOT) {
      if (atomLength === 0) return -1;
      atomLength = 0;
    } else if (isAtext(c)) {
      atomLength++;
    } else {
      return -1;
    }
    i++;
  }
  return atomLength === 0 ? -1 : i;
}

/**
 * Pass 1, the domain after the @. Another @ means the local part held an
 * unquoted @ (a@b@c), which RFC 5321 does not allow. The same scan sets
 * scanPlainDomain: whether the domain is already in stored form (what
 * normaliseDomain's isPlainLdhName checks): lower-case LDH labels of 1 to 63
 * characters, no hyphen at either end, at most 253 characters, a last label
 * not all digits. Such a domain needs no normalising. Returns the failure,
 * or null.
 */
function scanDomain(input: string, domainStart: number, end: number): Failure | null {
  let plain = end - domainStart <= 253;
  let labelStart = domainStart;
  let allDigits = true;
  for (let j = domainStart; j < end; j++) {
    const c = input.charCodeAt(j);
    if (c >= 97 && c <= 122) {
      allDigits = false;
    } else if (c === DOT) {
      const n = j - labelStart;
      if (n === 0 || n > 63 || input.charCodeAt(j - 1) === 45) plain = false;
      labelStart = j + 1;
      allDigits = true;
    } else if (c === 45) {
      if (j === labelStart) plain = false;
      allDigits = false;
    } else if (c < 48 || c > 57) {
      plain = false;
      if (!isDomainStructuralChar(c)) {
        return fail('syntax', c === AT ? SYNTAX_MESSAGES.at : SYNTAX_MESSAGES.domain);
      }
    }
  }
  const n = end - labelStart;
  if (allDigits || n === 0 || n > 63 || input.charCodeAt(end - 1) === 45) plain = false;
  scanPlainDomain = plain;
  return null;
}

/** Pass 2: the limits of RFC 5321 §4.5.3.1, on the input as given. */
function checkLimits(
  localLength: number,
  domainLength: number,
  pathLength: number,
): Failure | null {
  if (localLength > MAX_LOCAL_PART_LENGTH) {
    return fail('local-part-too-long', 'The local part is longer than 64 characters.');
  }
  if (domainLength > MAX_DOMAIN_LENGTH) {
    return fail('domain-too-long', 'The domain is longer than 255 characters.');
  }
  if (pathLength > MAX_PATH_LENGTH) {
    return fail('path-too-long', 'The address is longer than 256 characters.');
  }
  return null;
}

/** Pass 3: the source route's domains, normalised (pass 1 checked its shape: @d,@d,...,@d:). */
function sourceRouteDomains(input: string, start: number, localStart: number): string[] | null {
  const sourceRoute: string[] = [];
  let from = start + 1;
  for (let j = from; j < localStart; j++) {
    const c = input.charCodeAt(j);
    if (c === COMMA || c === COLON) {
      const d = normaliseDomain(input.slice(from, j));
      if (!d.ok) return null;
      sourceRoute.push(d.value);
      if (c === COLON) break;
      from = j + 2;
    }
  }
  return sourceRoute;
}

/** Pass 3: the canonical local part (a quoted one unquoted when it can be). */
function canonicalLocalPart(input: string, localStart: number, localEnd: number): string {
  if (!scanQuoted) return input.slice(localStart, localEnd);
  const inner = input.slice(localStart + 1, localEnd - 1);
  const content = scanEscaped ? inner.replace(QUOTED_PAIR, '$1') : inner;
  return isDotString(content) ? content : quote(content);
}

/** Pass 3: the domain and the canonical address, checked against the limits again. */
function mailboxOf(
  input: string,
  localStart: number,
  localPart: string,
  domainStart: number,
  end: number,
): Mailbox | Failure {
  let domain: string;
  let domainKind: DomainKind;
  let address: string;
  if (input.charCodeAt(domainStart) === OPEN_BRACKET) {
    const literal = parseAddressLiteral(input, domainStart, end);
    if (literal === null) {
      return fail(
        'bad-address-literal',
        'The address literal is not a valid [IPv4] or [IPv6:...] address.',
      );
    }
    domain = literal.text;
    domainKind = literal.kind;
    address = domainKind === 'ipv4' ? `${localPart}@[${domain}]` : `${localPart}@[IPv6:${domain}]`;
  } else {
    domainKind = 'name';
    if (scanPlainDomain) {
      domain = input.slice(domainStart, end);
      lastPlainDomain.from = domainStart;
      lastPlainDomain.to = end;
      // Nothing to rewrite: the address is the input's own text.
      address = scanQuoted ? `${localPart}@${domain}` : input.slice(localStart, end);
    } else {
      const d = normaliseDomain(input.slice(domainStart, end));
      if (!d.ok) return fail('bad-domain', 'The domain is not a valid domain name.');
      domain = d.value;
      address = `${localPart}@${domain}`;
    }
  }
  // The canonical address can be longer than the input (an IDN's A-label);
  // it must itself be within the limits, so that it can be sent on and
  // parsed again.
  return (
    checkLimits(0, domain.length, address.length + 2) ?? { localPart, domain, domainKind, address }
  );
}

/** A path without a domain: only <Postmaster> is allowed, and only in RCPT TO. */
function withoutDomain(
  input: string,
  localStart: number,
  localEnd: number,
  hasRoute: boolean,
  options: ParsePathOptions | undefined,
): ParsedPath {
  if (
    !hasRoute &&
    !scanQuoted &&
    localEnd - localStart === 10 &&
    input.slice(localStart, localEnd).toLowerCase() === 'postmaster'
  ) {
    return options?.allowPostmaster
      ? POSTMASTER
      : fail('no-domain', 'Postmaster without a domain is not allowed here.');
  }
  return fail('no-domain', 'The address has no domain.');
}

/**
 * Parses a path as given after `MAIL FROM:` or `RCPT TO:` (without ESMTP
 * parameters): `<local@domain>`, with an optional source route
 * (`<@a,@b:local@domain>`, accepted and ignored), or the same without the
 * angle brackets. Never throws.
 */
export function parsePath(input: string, options?: ParsePathOptions): ParsedPath {
  lastPlainDomain.from = -1;
  if (typeof input !== 'string' || input.length === 0) {
    return fail('syntax', SYNTAX_MESSAGES.empty);
  }
  const total = input.length;

  // ---- Pass 1: structure ------------------------------------------------

  // [start, end) of the content between the angle brackets.
  let start = 0;
  let end = total;
  // A bare address counts as if it had its brackets.
  let pathLength = total + 2;
  if (input.charCodeAt(0) === LT) {
    if (total < 2 || input.charCodeAt(total - 1) !== GT) {
      return fail('syntax', SYNTAX_MESSAGES.brackets);
    }
    start = 1;
    end = total - 1;
    pathLength = total;
    if (start === end) {
      return options?.allowNull
        ? NULL_PATH
        : fail('null-path-not-allowed', 'The null path <> is not allowed here.');
    }
  }
  const hasRoute = input.charCodeAt(start) === AT;
  const localStart = hasRoute ? scanSourceRoute(input, start, end) : start;
  if (localStart < 0) return fail('syntax', SYNTAX_MESSAGES.route);

  // Local part: a Quoted-string or a Dot-string, ending at the first @ outside quotes.
  scanQuoted = localStart < end && input.charCodeAt(localStart) === QUOTE;
  scanEscaped = false;
  const localEnd = scanQuoted
    ? scanQuotedLocalPart(input, localStart, end)
    : scanDotLocalPart(input, localStart, end);
  if (localEnd < 0)
    return fail('syntax', scanQuoted ? SYNTAX_MESSAGES.quoted : SYNTAX_MESSAGES.local);
  if (localEnd === end) return withoutDomain(input, localStart, localEnd, hasRoute, options);
  const domainStart = localEnd + 1;
  const badDomain = scanDomain(input, domainStart, end);
  if (badDomain) return badDomain;

  // ---- Pass 2: limits ---------------------------------------------------

  const tooLong = checkLimits(localEnd - localStart, end - domainStart, pathLength);
  if (tooLong) return tooLong;

  // ---- Pass 3: domains and the canonical form ---------------------------

  const sourceRoute = hasRoute ? sourceRouteDomains(input, start, localStart) : NO_ROUTE;
  if (sourceRoute === null) return fail('syntax', SYNTAX_MESSAGES.route);
  const localPart = canonicalLocalPart(input, localStart, localEnd);
  const mailbox = mailboxOf(input, localStart, localPart, domainStart, end);
  if ('ok' in mailbox) return mailbox;
  return { ok: true, kind: 'mailbox', mailbox, sourceRoute };
}

/**
 * An address literal `[...]` in `input` at [from, to): `[192.0.2.1]` or
 * `[IPv6:2001:db8::1]` (tag in any case). General literals are refused.
 */
function parseAddressLiteral(
  input: string,
  from: number,
  to: number,
): { kind: 'ipv4' | 'ipv6'; text: string } | null {
  if (to - from < 2 || input.charCodeAt(to - 1) !== CLOSE_BRACKET) return null;
  const inner = input.slice(from + 1, to - 1);
  if (inner.length > 5 && inner.charCodeAt(4) === COLON) {
    if (inner.slice(0, 4).toLowerCase() !== 'ipv6') return null;
    const words = parseIPv6(inner.slice(5));
    return words === null ? null : { kind: 'ipv6', text: formatIPv6(words) };
  }
  const v4 = parseIPv4(inner);
  return v4 === null ? null : { kind: 'ipv4', text: formatIPv4(v4) };
}
