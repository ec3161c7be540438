import { randomInt } from 'node:crypto';

/** Upstream's alphabet for generated name suffixes: no vowels, no look-alike digits. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SUFFIX = 5;
const MAX_BASE = 63 - SUFFIX;

/** `generateName` plus five random characters, the base cut so the name stays a valid label. */
export function generateName(base: string): string {
  let suffix = '';
  for (let i = 0; i < SUFFIX; i++) suffix += ALPHABET[randomInt(ALPHABET.length)];
  return `${base.length > MAX_BASE ? base.slice(0, MAX_BASE) : base}${suffix}`;
}
