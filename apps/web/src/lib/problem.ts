/**
 * What the forms and error states make of the api-client's errors: per-field
 * errors (JSON Pointers) beside their fields, and one message for anything else.
 */

import { ApiNetworkError, ApiProblem, isApiProblem } from '@ims/api-client';

export { ApiNetworkError, ApiProblem, isApiProblem };

export const UNREACHABLE = 'The console cannot be reached: check that it is running and try again.';

/** A message for any error, for an error state. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiProblem) return error.detail ?? error.title;
  if (error instanceof ApiNetworkError) return UNREACHABLE;
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Field errors under a pointer prefix, re-keyed relative to it:
 * `fieldsUnder({'/config/routes/0/sentTo': 'x'}, '/config')` → `{'/routes/0/sentTo': 'x'}`.
 */
export function fieldsUnder(
  errors: Record<string, string>,
  prefix: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [pointer, detail] of Object.entries(errors)) {
    if (pointer === prefix || pointer.startsWith(`${prefix}/`)) {
      out[pointer.slice(prefix.length) || '/'] = detail;
    }
  }
  return out;
}
