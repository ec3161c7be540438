import { type LoggerService } from '@nestjs/common';
import { type Logger } from 'pino';

type Level = 'info' | 'warn' | 'error' | 'debug' | 'trace' | 'fatal';

/**
 * Nest's logger interface over pino, so Nest's own lines and every `new Logger(context)` in
 * the apps come out as the component's structured records (`context` a field of each).
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  /** Nest passes (message, stack?, context?). */
  error(message: unknown, ...rest: unknown[]): void {
    const context =
      rest.length > 1 ? rest[rest.length - 1] : rest.length === 1 && !isStack(rest[0]) ? rest[0] : undefined;
    const stack = rest.find(isStack);
    this.emit('error', message, typeof context === 'string' ? context : undefined, stack ? { stack } : {});
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Nest passes (message, ...params, context?): the last string is the context. */
  private write(level: Level, message: unknown, rest: unknown[]): void {
    const context = rest[rest.length - 1];
    this.emit(level, message, typeof context === 'string' ? context : undefined, {});
  }

  private emit(level: Level, message: unknown, context: string | undefined, fields: object): void {
    const base = context ? { context, ...fields } : fields;
    if (message instanceof Error) this.logger[level]({ ...base, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...base, ...message });
    else this.logger[level](base, String(message));
  }
}

function isStack(x: unknown): x is string {
  return typeof x === 'string' && /\n\s+at /.test(x);
}
