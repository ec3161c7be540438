import { StatusError } from '@app/api';

import { type RequestAttributes } from './policy-rules.js';

/** Upstream's forbiddenMessage (apiserver endpoints/handlers/responsewriters/errors.go). */
function forbiddenMessage(a: RequestAttributes): string {
  const user = JSON.stringify(a.user);
  if (!a.resourceRequest) return `User ${user} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = JSON.stringify(a.subresource ? `${a.resource}/${a.subresource}` : a.resource);
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${user} cannot ${a.verb} resource ${resource} in API group ${JSON.stringify(a.apiGroup)} ${where}`;
}

/** The 403 a denied request gets (responsewriters.Forbidden), the authorizer's reason appended. */
export function forbidden(a: RequestAttributes, reason: string): StatusError {
  const why = reason ? `${forbiddenMessage(a)}: ${reason}` : forbiddenMessage(a);
  return StatusError.forbidden(
    a.resourceRequest ? { resource: a.resource, group: a.apiGroup, name: a.name || undefined } : undefined,
    why,
  );
}
