/** True when the object has at least one label (without building a key list). */
export function hasAnyLabel(labels: Readonly<Record<string, string>>): boolean {
  for (const _ in labels) return true;
  return false;
}
