import { type StatusCause } from '../errors/index.js';

type Meta = Record<string, unknown>;

function immutable(field: string, value: unknown): StatusCause {
  return {
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(value)}: field is immutable`,
    field: `metadata.${field}`,
  };
}

/**
 * What an update may not do to ObjectMeta (upstream's ValidateObjectMetaUpdate after BeforeUpdate):
 * change the uid (a PUT's differing uid is a precondition instead, 409, so `checkUid` is false
 * then), mark the object deleted or give it a grace period (only DELETE does), or add finalizers
 * while it is being deleted. creationTimestamp, generation and a deletion already under way are
 * not errors: the server keeps its own values, whatever the client sent.
 */
export function validateObjectMetaUpdate(sent: Meta, current: Meta, o: { checkUid: boolean }): StatusCause[] {
  const causes: StatusCause[] = [];
  if (o.checkUid && typeof sent.uid === 'string' && sent.uid !== '' && sent.uid !== current.uid)
    causes.push(immutable('uid', sent.uid));
  if (current.deletionTimestamp === undefined && sent.deletionTimestamp != null)
    causes.push(immutable('deletionTimestamp', sent.deletionTimestamp));
  if (current.deletionGracePeriodSeconds === undefined && sent.deletionGracePeriodSeconds != null)
    causes.push(immutable('deletionGracePeriodSeconds', sent.deletionGracePeriodSeconds));
  if (current.deletionTimestamp !== undefined) {
    const before = new Set(Array.isArray(current.finalizers) ? (current.finalizers as unknown[]) : []);
    const added = (Array.isArray(sent.finalizers) ? (sent.finalizers as unknown[]) : []).filter(
      (f) => !before.has(f),
    );
    if (added.length)
      causes.push({
        reason: 'FieldValueForbidden',
        message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
        field: 'metadata.finalizers',
      });
  }
  return causes;
}
