/**
 * Domain names: normalisation to the stored form (lower case, no trailing
 * dot, IDNs as A-labels) and the label rules a route entry must follow.
 */

// RFC 3492 Punycode parameters.
const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 128;

function adapt(delta: number, numPoints: number, firstTime: boolean): number {
  let d = firstTime ? Math.floor(delta / DAMP) : delta >> 1;
  d += Math.floor(d / numPoints);
  let k = 0;
  while (d > ((BASE - T_MIN) * T_MAX) >> 1) {
    d = Math.floor(d / (BASE - T_MIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + SKEW));
}

function digit(d: number): string {
  // 0..25 → a..z, 26..35 → 0..9
  return String.fromCharCode(d < 26 ? d + 97 : d + 22);
}

/** RFC 3492 Punycode encoding of one label (without the `xn--` prefix). */
export function punycodeEncode(label: string): string {
  const input = Array.from(label, (ch) => ch.codePointAt(0) ?? 0);
  let output = '';
  for (const cp of input) if (cp < 0x80) output += String.fromCharCode(cp);
  const basicCount = output.length;
  let handled = basicCount;
  if (basicCount > 0) output += '-';
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  while (handled < input.length) {
    let m = Number.MAX_SAFE_INTEGER;
    for (const cp of input) if (cp >= n && cp < m) m = cp;
    delta += (m - n) * (handled + 1);
    n = m;
    for (const cp of input) {
      if (cp < n) delta++;
      if (cp === n) {
        let q = delta;
        for (let k = BASE; ; k += BASE) {
          const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
          if (q < t) break;
          output += digit(t + ((q - t) % (BASE - t)));
          q = Math.floor((q - t) / (BASE - t));
        }
        output += digit(q);
        bias = adapt(delta, handled + 1, handled === basicCount);
        delta = 0;
        handled++;
      }
    }
    delta++;
    n++;
  }
  return output;
}

export type DomainResult = { ok: true; value: string } | { ok: false; message: string };

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Full stops that IDNA (UTS #46) treats as label separators.
const IDEOGRAPHIC_STOPS = /[\u3002\uff0e\uff61]/g;

/**
 * Checks an already lower-case ASCII name in one pass: LDH labels of 1 to 63
 * characters, no leading or trailing hyphen, at most 253 characters, a last
 * label not all digits. Returns false for anything else (the slow path then
 * normalises it or explains what is wrong).
 */
export function isPlainLdhName(name: string): boolean {
  const len = name.length;
  if (len === 0 || len > 253) return false;
  let labelStart = 0;
  let allDigits = true;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? name.charCodeAt(i) : 46;
    if (c === 46 /* . */) {
      const labelLen = i - labelStart;
      if (labelLen === 0 || labelLen > 63) return false;
      if (name.charCodeAt(labelStart) === 45 || name.charCodeAt(i - 1) === 45) return false;
      if (i === len && allDigits) return false;
      labelStart = i + 1;
      allDigits = true;
    } else if (c >= 97 && c <= 122) {
      allDigits = false;
    } else if (c === 45) {
      allDigits = false;
    } else if (c < 48 || c > 57) {
      return false;
    }
  }
  return true;
}

// A U-label, after mapping: letters, marks, digits and hyphens of any script.
const U_LABEL = /^[\p{L}\p{M}\p{N}-]+$/u;

/**
 * Normalises a domain name to its stored form: lower case, at most one
 * trailing dot removed, each non-ASCII label mapped as IDNA (UTS #46) roughly
 * does (lower case, NFKC, so full-width forms become ASCII) and converted to
 * its A-label (`xn--…`). Then checks it: labels of 1 to 63 letters, digits or
 * hyphens, not starting or ending with a hyphen, at most 253 characters, and a
 * last label that is not all digits (so an IP address is never taken for a
 * domain).
 */
export function normaliseDomain(text: string): DomainResult {
  // Fast path: a name already in stored form needs no work at all.
  if (isPlainLdhName(text)) return { ok: true, value: text };
  let name = text.toLowerCase();
  if (/[\u0080-\uffff]/.test(name)) {
    name = name.normalize('NFKC').toLowerCase().replace(IDEOGRAPHIC_STOPS, '.');
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (isPlainLdhName(name)) return { ok: true, value: name };
  if (name.length === 0) return { ok: false, message: 'The domain is empty.' };
  const labels = name.split('.');
  for (let i = 0; i < labels.length; i++) {
    let label = labels[i] ?? '';
    if (label.length === 0) {
      return {
        ok: false,
        message: `"${text}" has an empty label (two dots in a row, or a leading dot).`,
      };
    }
    if (/[\u0080-\uffff]/.test(label)) {
      if (!U_LABEL.test(label)) {
        return {
          ok: false,
          message: `"${text}" holds a character that cannot be part of a domain name.`,
        };
      }
      label = `xn--${punycodeEncode(label)}`;
      labels[i] = label;
    }
    if (label.length > 63) {
      return { ok: false, message: `The label "${label}" is longer than 63 characters.` };
    }
    if (!LDH_LABEL.test(label)) {
      return {
        ok: false,
        message: `"${text}" is not a valid domain name: each label may hold only letters, digits and hyphens, and may not start or end with a hyphen.`,
      };
    }
  }
  const value = labels.join('.');
  if (value.length > 253) {
    return { ok: false, message: 'A domain name is at most 253 characters long.' };
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    return {
      ok: false,
      message: `"${text}" looks like an IP address, not a domain name: its last label is all digits.`,
    };
  }
  return { ok: true, value };
}

/** Whether `domain` is `suffix` or lies below it, by whole labels (`x.sea.com` is below `sea.com`; `chelsea.com` is not). */
export function isDomainAtOrBelow(domain: string, suffix: string): boolean {
  if (domain === suffix) return true;
  return (
    domain.length > suffix.length &&
    domain.endsWith(suffix) &&
    domain.charCodeAt(domain.length - suffix.length - 1) === 46
  );
}
