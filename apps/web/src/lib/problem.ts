/**
 * RFC 9457 problem details as the console sends them, and the helpers the
 * forms use to put per-field errors (JSON Pointers) beside their fields.
 */

import type { Problem } from '@ims/api-contract';

export type { Problem };

/** A non-2xx answer from the console. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiProblem';
    this.status = problem.status;
    this.problem = problem;
  }

  /** The slug of the problem type: `/problems/precondition-failed` → `precondition-failed`. */
  get slug(): string {
    return this.problem.type.split('/').pop() ?? this.problem.type;
  }

  /** Per-field errors, keyed by JSON Pointer. */
  get fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) out[e.pointer] = out[e.pointer] ?? e.detail;
    return out;
  }
}

export function isApiProblem(error: unknown, status?: number): error is ApiProblem {
  return error instanceof ApiProblem && (status === undefined || error.status === status);
}

/** A message for any error, for an error state. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiProblem) return error.message;
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
