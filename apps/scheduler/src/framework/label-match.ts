import { type LabelSelector } from '@app/api';

/**
 * The same answer as @app/api's matchesLabels, as a plain loop: the affinity and spreading
 * plugins call it for every pod on every candidate node, where a callback per call shows.
 */
export function selectorMatches(
  sel: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (sel.matchNothing) return false;
  const reqs = sel.requirements;
  for (let i = 0; i < reqs.length; i++) {
    const req = reqs[i];
    const has = labels !== undefined && Object.hasOwn(labels, req.key);
    switch (req.operator) {
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      case 'Equals':
      case 'In':
        if (!has || !req.values.includes(labels[req.key])) return false;
        break;
      case 'NotEquals':
      case 'NotIn':
        if (has && req.values.includes(labels[req.key])) return false;
        break;
    }
  }
  return true;
}

/** True when the object has at least one label (without building a key list). */
export function hasAnyLabel(labels: Readonly<Record<string, string>>): boolean {
  for (const _ in labels) return true;
  return false;
}
