/**
 * The node's log: pino, as the console's (levels, one JSON object a line,
 * secrets redacted), but written synchronously (stdoutLines below; the
 * console's pino writes asynchronously). Every line carries an `event` name
 * (`rcpt`, `restarted`, `ndr`, …) and the same fields as before, so logs
 * stay greppable.
 */

import { type DestinationStream, type Level, type Logger, pino } from 'pino';

export type { Logger };

/**
 * Fields that must never reach a log: passwords, tokens, password hashes and
 * AUTH payloads, at the top of a line or one level down.
 */
export const REDACT = [
  'password',
  'passwordHash',
  'token',
  'authorization',
  'auth',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.authorization',
  '*.auth',
  'directory[*].passwordHash',
  'bundle.directory[*].passwordHash',
];

export interface LoggerOptions {
  /** Lowest level written (default info). */
  level?: Level | 'silent';
  /** Where the lines go (default: standard output, written synchronously; see stdoutLines). */
  destination?: DestinationStream;
}

export function createLogger({ level = 'info', destination }: LoggerOptions = {}): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  return pino(options, destination ?? stdoutLines());
}

/**
 * Standard output, each line written by the call that logs it (a write(2)
 * on the logging thread), as Postfix's smtpd writes each line with syslog()
 * before it goes on. A line is in the log file (or the pipe) once the call
 * returns, so a process killed outright (kill -9, the out-of-memory killer)
 * loses none it logged (log.test.ts); pino flushes its asynchronous default
 * on a normal exit, but not then. A reader of the pipe that stalls stalls
 * the node (in 100 ms steps if the descriptor is non-blocking) rather than
 * letting lines pile up in memory; a closed reader (EPIPE) ends the log,
 * not the node (pino drops the lines from then on).
 *
 * pino's own default hands every line to libuv's thread pool (an
 * asynchronous write): a thread woken and an event sent back per line,
 * about 30 µs of CPU of a relay-denied transaction of about 350 µs on this
 * machine with the log in a file, against a few for the system call
 * (docs/benchmarks-notes.md, eighth pass).
 */
function stdoutLines(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}

/** The paths of REDACT at the top of a line: all a flat line can hold. */
const REDACT_TOP = REDACT.filter((path) => !path.includes('.') && !path.includes('['));

/**
 * A logger for lines whose fields are flat (strings, numbers, booleans,
 * null: no object inside), written on every recipient: the RCPT decision.
 * It redacts the same names at the top of the line; the paths one level
 * down (`*.password` …), which pino checks against every field of every
 * line, cannot match in a flat line and are left out: about 10 µs of a
 * relay-denied session's 85 in one process (docs/benchmarks-notes.md).
 */
export function flatLineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: REDACT_TOP, censor: '[redacted]' } });
}

/**
 * A logger that writes nothing: a node started without one. It has no
 * stream of its own (pino's default would open standard output, and make
 * it non-blocking, for nothing).
 */
export function silentLogger(): Logger {
  return pino({ level: 'silent' }, { write: () => undefined });
}

/** The level of each event written through an `(entry) => void` function (eventLog). */
const EVENT_LEVELS: Record<string, Level> = {
  'restart-failed': 'error',
  'console-unreachable': 'warn',
  'directory-refresh-failed': 'warn',
};

/**
 * An `(entry) => void` log function for parts that take one (the console
 * link): each entry goes to `logger` at its event's level (info unless
 * listed above).
 */
export function eventLog(logger: Logger): (entry: Record<string, unknown>) => void {
  return (entry) => {
    const level = (typeof entry.event === 'string' && EVENT_LEVELS[entry.event]) || 'info';
    logger[level](entry);
  };
}
