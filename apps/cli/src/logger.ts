/**
 * Structured logs: one JSON object per line when the output is not a terminal (for log
 * shippers), a short human line when it is.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

export class Logger {
  constructor(
    private readonly component: string,
    private readonly json = !process.stderr.isTTY,
  ) {}

  info(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('info', msg, fields);
  }

  warn(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('error', msg, fields);
  }

  private write(level: Level, msg: string, fields: Record<string, unknown>): void {
    const at = new Date().toISOString();
    if (this.json) {
      process.stderr.write(`${JSON.stringify({ at, level, component: this.component, msg, ...fields })}\n`);
      return;
    }
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    process.stderr.write(
      `${at.slice(11, 19)} ${level.toUpperCase().padEnd(5)} [${this.component}] ${msg}${extra ? ` ${extra}` : ''}\n`,
    );
  }
}
