/**
 * The node's log: pino, as the console's (levels, one JSON object a line,
 * secrets redacted). Every line carries an `event` name (`rcpt`, `restarted`,
 * `ndr`, …) and the same fields as before, so logs stay greppable.
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
  /** Where the lines go (default stdout). */
  destination?: DestinationStream;
}

export function createLogger({ level = 'info', destination }: LoggerOptions = {}): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
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

/** A logger that writes nothing: a node started without one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
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
