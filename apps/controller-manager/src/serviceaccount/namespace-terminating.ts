import { ApiError } from '@app/client';

/** apierrors.HasStatusCause(err, v1.NamespaceTerminatingCause): the create was refused because the namespace is going. */
export function isNamespaceTerminating(e: unknown): boolean {
  if (!(e instanceof ApiError)) return false;
  const causes = (e.status as { details?: { causes?: { reason?: string }[] } } | undefined)?.details?.causes;
  return (causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}
