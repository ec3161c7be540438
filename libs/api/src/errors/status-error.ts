import { type Status, type StatusCause, type StatusDetails, type StatusReason } from './status.js';

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  ServerTimeout: 504,
  Timeout: 504,
};

/** Identifies the object an error is about, in the words `Status.details` uses. */
export interface ErrorTarget {
  /** Plural resource name, e.g. `pods`; Kubernetes puts it in `details.kind`. */
  resource: string;
  group?: string;
  name?: string;
  uid?: string;
}

function qualified(target: ErrorTarget): string {
  return target.group ? `${target.resource}.${target.group}` : target.resource;
}

function details(target: ErrorTarget, extra: Partial<StatusDetails> = {}): StatusDetails {
  const d: StatusDetails = { kind: target.resource };
  if (target.name !== undefined) d.name = target.name;
  if (target.group) d.group = target.group;
  if (target.uid) d.uid = target.uid;
  return { ...d, ...extra };
}

/**
 * A failure that maps one-to-one onto a Kubernetes `Status`. Domain code throws these; the API
 * boundary serialises `toStatus()` with `code` as the HTTP status.
 */
export class StatusError extends Error {
  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
    readonly code: number = CODES[reason],
  ) {
    super(message);
    this.name = 'StatusError';
  }

  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }

  /**
   * apierrors.NewForbidden: `<resource>[.<group>] ["<name>"] is forbidden: <why>`, or
   * `forbidden: <why>` about no resource (a non-resource path).
   */
  static forbidden(target: ErrorTarget | undefined, why: string): StatusError {
    if (!target?.resource) return new StatusError('Forbidden', `forbidden: ${why}`, {});
    const subject = target.name ? `${qualified(target)} ${JSON.stringify(target.name)}` : qualified(target);
    return new StatusError('Forbidden', `${subject} is forbidden: ${why}`, details(target));
  }

  static badRequest(message: string): StatusError {
    return new StatusError('BadRequest', message);
  }

  static notFound(target: ErrorTarget): StatusError {
    return new StatusError(
      'NotFound',
      `${qualified(target)} "${target.name ?? ''}" not found`,
      details(target),
    );
  }

  static alreadyExists(target: ErrorTarget): StatusError {
    return new StatusError(
      'AlreadyExists',
      `${qualified(target)} "${target.name ?? ''}" already exists`,
      details(target),
    );
  }

  /** Optimistic-concurrency failure: the precondition resourceVersion (or uid) is stale. */
  static conflict(
    target: ErrorTarget,
    why = 'the object has been modified; please apply your changes to the latest version and try again',
  ): StatusError {
    return new StatusError(
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(target)} "${target.name ?? ''}": ${why}`,
      details(target),
    );
  }

  static gone(message: string): StatusError {
    return new StatusError('Gone', message);
  }

  static invalid(target: ErrorTarget & { kind: string }, causes: StatusCause[]): StatusError {
    // Upstream's NewInvalid: one error as it is, several in brackets.
    const each = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const summary = each.length === 1 ? each[0] : `[${each.join(', ')}]`;
    const group = target.group ? `.${target.group}` : '';
    return new StatusError(
      'Invalid',
      `${target.kind}${group} "${target.name ?? ''}" is invalid: ${summary}`,
      { ...details(target), kind: target.kind, causes },
    );
  }

  static internal(message: string): StatusError {
    return new StatusError('InternalError', `Internal error occurred: ${message}`);
  }
}

export function isStatusError(e: unknown): e is StatusError {
  return e instanceof StatusError;
}
