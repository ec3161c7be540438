import { RpcException } from '@nestjs/microservices';

const TERMINAL = Symbol.for('wake.bus.TerminalWorkError');

/**
 * Thrown by a work handler when retrying cannot help (the work is malformed, refers to
 * something that will never exist, is forbidden): the message is terminated, logged and not
 * delivered again. Any other error is retried with backoff.
 *
 * It is an RpcException whose error is itself, so that Nest's exception layer hands the
 * instance on to the transport unchanged instead of replacing it by "Internal server error".
 */
export class TerminalWorkError extends RpcException {
  readonly [TERMINAL] = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'TerminalWorkError';
    if (options && 'cause' in options) this.cause = options.cause;
  }

  override getError(): object {
    return this;
  }
}

/** True for a TerminalWorkError, even one from another copy of this module. */
export function isTerminalWorkError(e: unknown): e is TerminalWorkError {
  return (
    e instanceof TerminalWorkError ||
    (typeof e === 'object' && e !== null && (e as { [TERMINAL]?: unknown })[TERMINAL] === true)
  );
}
