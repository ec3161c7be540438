import { ownValue, setOwn } from './own-property.js';

/**
 * RFC 7386 JSON merge patch: objects merge key by key, `null` removes, anything else replaces.
 *
 * Keys are data, never magic: `__proto__`, `constructor` and `prototype` may be legitimate map
 * keys (a ConfigMap key, an annotation), so they are kept as own properties of the result, as
 * JSON.parse keeps them, and never reach an object's prototype.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, applyMergePatch(ownValue(out, k), v));
  }
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
