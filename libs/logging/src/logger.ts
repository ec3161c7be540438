import { pino, type Logger } from 'pino';

import { humanLine } from './human-line.js';

export type { Logger } from 'pino';

export type LogFormat = 'json' | 'text';

export interface LoggerOptions {
  /** `json`: one object per line, for log shippers; `text`: short lines for a person. */
  format?: LogFormat;
  /** pino's level names: trace, debug, info, warn, error, fatal, silent. */
  level?: string;
  /** Where lines go (tests capture them); default standard error. */
  write?: (line: string) => void;
}

/** WAKE_LOG_FORMAT when set, else text on a terminal and JSON otherwise. */
export function logFormat(env = process.env, tty = process.stderr.isTTY): LogFormat {
  const asked = env.WAKE_LOG_FORMAT;
  if (asked === 'json' || asked === 'text') return asked;
  return tty ? 'text' : 'json';
}

/**
 * A component's structured logger (pino): every record carries the component's name, an ISO
 * time and the level's name; fields given with a message become fields of the record. Lines
 * go to standard error, written synchronously so that nothing is lost when a process exits
 * (stdout is kept for what commands print: ready lines, tables).
 */
export function createLogger(component: string, o: LoggerOptions = {}): Logger {
  const format = o.format ?? logFormat();
  const write = o.write ?? ((line: string) => process.stderr.write(line));
  return pino(
    {
      level: o.level ?? process.env.WAKE_LOG_LEVEL ?? 'info',
      base: { component },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: format === 'json' ? write : (line: string) => write(humanLine(line)) },
  );
}
