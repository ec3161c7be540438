import { StatusError } from '@app/api';

/**
 * A list continuation: the resourceVersion the first page was read at and the last key it
 * returned. Later pages are served at that same resourceVersion, so the pages of one list form
 * one consistent snapshot (Kubernetes "Exact" semantics).
 */
export interface ContinueToken {
  rv: number;
  namespace: string;
  name: string;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 1, rv: token.rv, ns: token.namespace, n: token.name })).toString(
    'base64url',
  );
}

export function decodeContinue(raw: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw StatusError.badRequest('continue key is not valid: not a token this server issued');
  }
  const t = (parsed ?? {}) as { v?: unknown; rv?: unknown; ns?: unknown; n?: unknown };
  if (
    t.v !== 1 ||
    !Number.isSafeInteger(t.rv) ||
    (t.rv as number) < 0 ||
    typeof t.ns !== 'string' ||
    typeof t.n !== 'string' ||
    // Forged: no name or namespace has a NUL, and Postgres text cannot hold one.
    t.ns.includes('\0') ||
    t.n.includes('\0')
  ) {
    throw StatusError.badRequest('continue key is not valid: malformed token');
  }
  return { rv: t.rv as number, namespace: t.ns, name: t.n };
}
