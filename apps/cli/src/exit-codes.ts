/** The exit codes of `ims`: scripts may rely on them. */

import { ApiNetworkError, ApiProblem } from '@ims/api-client';

export const EXIT = {
  /** Done. */
  ok: 0,
  /** The operation ran and failed: a relay test found a relay, a node could not apply a restart, a server error. */
  failed: 1,
  /** Bad command line (unknown command or option, missing argument). */
  usage: 2,
  /** The server refused the input: 400 / 422 (invalid configuration, unacknowledged critical findings). */
  validation: 3,
  /** Someone else saved first (412), a conflict (409), or If-Match missing (428). */
  conflict: 4,
  /** Not signed in, a bad token (401), or not allowed (403). */
  auth: 5,
  /** The console did not answer: unreachable or timed out. */
  network: 6,
  /** The thing named does not exist (404). */
  notFound: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI reports itself, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof ApiNetworkError) return EXIT.network;
  if (err instanceof ApiProblem) {
    if (err.status === 401 || err.status === 403) return EXIT.auth;
    if (err.status === 409 || err.status === 412 || err.status === 428) return EXIT.conflict;
    if (err.status === 404) return EXIT.notFound;
    if (err.status === 400 || err.status === 422) return EXIT.validation;
    return EXIT.failed;
  }
  return EXIT.failed;
}
