import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { type Observable, throwError } from 'rxjs';

/**
 * Hands a work handler's error to the JetStream work transport exactly as it was thrown.
 *
 * Without it, Nest's default RPC exception handling logs any error that is not an
 * RpcException and passes on a bare `{ status: 'error', message: 'Internal server error' }`,
 * so the transport's own retry and termination logs lose the message and the stack. Retrying
 * and terminating work the same either way (a TerminalWorkError always passes through).
 *
 * Bind it where work handlers live: `@UseFilters(new WorkErrorPassthroughFilter())` on a work
 * controller, or `app.useGlobalFilters(...)` in an application that serves only work.
 */
@Catch()
export class WorkErrorPassthroughFilter implements RpcExceptionFilter<unknown, never> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
