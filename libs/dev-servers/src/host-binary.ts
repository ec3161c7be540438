import { existsSync } from 'node:fs';

/** The first of `candidates` (absent ones skipped) that exists on this machine. */
export function hostBinary(what: string, candidates: (string | undefined)[], hint?: string): string {
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found)
    throw new Error(
      `${what} not found (looked for ${candidates.filter(Boolean).join(', ')})${hint ? `: ${hint}` : ''}`,
    );
  return found;
}
