/**
 * Structural equality of JSON values, as canonical JSON would compare them (key order does not
 * matter, an undefined property equals a missing one) but without building strings: the
 * planner compares every updated object with its current version, on the append hot path.
 *
 * @param skip leaves out a property of an object at nesting `depth` (0 = the top level)
 */
export function jsonEqual(
  a: unknown,
  b: unknown,
  skip?: (key: string, depth: number) => boolean,
  depth = 0,
): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++)
      if (!jsonEqual(a[i] ?? null, bb[i] ?? null, undefined, depth + 1)) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = (o: Record<string, unknown>) =>
    Object.keys(o).filter((k) => o[k] !== undefined && !skip?.(k, depth));
  const ak = keys(ao);
  if (ak.length !== keys(bo).length) return false;
  for (const k of ak) {
    if (!Object.prototype.hasOwnProperty.call(bo, k) || !jsonEqual(ao[k], bo[k], undefined, depth + 1))
      return false;
  }
  return true;
}
