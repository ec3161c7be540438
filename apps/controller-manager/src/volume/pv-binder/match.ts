import { labelSelectorFromObject, matchesLabels } from '@app/api';

import {
  claimClass,
  isVolumeBoundToClaim,
  type PersistentVolume,
  type PersistentVolumeClaim,
  requestedStorage,
  volumeCapacity,
  volumeClass,
  volumeModeMismatches,
} from '../volume-types.js';

/**
 * The volume a claim should bind to, as the PV controller picks it (persistentvolume/index.go
 * findBestMatchForClaim → allPossibleMatchingAccessModes + FindMatchingVolume): volumes are
 * looked at by access-mode set, the sets with fewest modes that still hold every mode the
 * claim asks for first; in a set, a volume pre-bound to the claim wins, else the smallest
 * Available volume of the claim's class, selector and volume mode whose capacity covers the
 * request. With `delayBinding` (a WaitForFirstConsumer class) only a pre-bound volume is
 * taken: the scheduler binds the others once it knows the node.
 */
export function findBestMatchForClaim(
  claim: PersistentVolumeClaim,
  volumes: readonly PersistentVolume[],
  delayBinding: boolean,
): PersistentVolume | undefined {
  for (const group of accessModeGroups(claim, volumes)) {
    const match = findMatchingVolume(claim, group, delayBinding);
    if (match) return match;
  }
  return undefined;
}

/** index.go allPossibleMatchingAccessModes: the volumes, by mode set, of sets ⊇ the claim's, fewest modes first. */
function accessModeGroups(
  claim: PersistentVolumeClaim,
  volumes: readonly PersistentVolume[],
): PersistentVolume[][] {
  const wanted = claim.spec?.accessModes ?? [];
  const groups = new Map<string, { size: number; volumes: PersistentVolume[] }>();
  for (const v of volumes) {
    const modes = [...new Set(v.spec?.accessModes ?? [])].sort();
    if (!wanted.every((m) => modes.includes(m))) continue;
    const key = modes.join(',');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { size: modes.length, volumes: [] }));
    g.volumes.push(v);
  }
  return [...groups.values()].sort((a, b) => a.size - b.size).map((g) => g.volumes);
}

/** FindMatchingVolume with node == nil (the controller's path). */
export function findMatchingVolume(
  claim: PersistentVolumeClaim,
  volumes: readonly PersistentVolume[],
  delayBinding: boolean,
): PersistentVolume | undefined {
  const requested = requestedStorage(claim);
  const requestedClass = claimClass(claim);
  const selector =
    claim.spec?.selector === undefined || claim.spec.selector === null
      ? undefined
      : labelSelectorFromObject(claim.spec.selector);
  let smallest: PersistentVolume | undefined;
  let smallestQty = 0;
  for (const volume of volumes) {
    const ref = volume.spec?.claimRef;
    if (ref && !isVolumeBoundToClaim(volume, claim)) continue;
    const qty = volumeCapacity(volume);
    if (qty < requested) continue;
    if (volumeModeMismatches(claim, volume)) continue;
    if (volume.metadata.deletionTimestamp) continue;
    if (isVolumeBoundToClaim(volume, claim)) return volume;
    if (delayBinding) continue;
    // Volumes not yet Available are left: they will be, and binding them now races their update.
    if (volume.status?.phase !== 'Available') continue;
    if (selector && !matchesLabels(selector, volume.metadata.labels)) continue;
    if (volumeClass(volume) !== requestedClass) continue;
    if (smallest === undefined || smallestQty > qty) {
      smallest = volume;
      smallestQty = qty;
    }
  }
  return smallest;
}

/**
 * checkVolumeSatisfyClaim (pv_controller.go): may a claim that names this volume bind to it?
 * Undefined when it may, else upstream's reason.
 */
export function volumeUnsatisfiedReason(
  volume: PersistentVolume,
  claim: PersistentVolumeClaim,
): string | undefined {
  if (volumeCapacity(volume) < requestedStorage(claim)) return 'requested PV is too small';
  if (volumeClass(volume) !== claimClass(claim)) return 'storageClassName does not match';
  if (volumeModeMismatches(claim, volume)) return 'incompatible volumeMode';
  const offered = new Set(volume.spec?.accessModes ?? []);
  if (!(claim.spec?.accessModes ?? []).every((m) => offered.has(m))) return 'incompatible accessMode';
  return undefined;
}
