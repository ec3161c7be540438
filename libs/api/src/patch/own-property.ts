/**
 * Sets `key` as an own data property. Plain assignment of `__proto__` would swap the object's
 * prototype instead, and the value would vanish from the stored JSON. Such keys are data like
 * any other here: validation, not the merge, decides whether a field may be called that.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** `o[k]` if `k` is an own property: never a value found on the prototype (`constructor`, `__proto__`). */
export function ownValue(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}
