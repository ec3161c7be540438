import { type EndpointSlice, SERVICE_NAME_LABEL } from './slice-types.js';

const DELETION_EXPECTED = -1;

/**
 * EndpointSliceTracker (staging/src/k8s.io/endpointslice/endpointslice_tracker.go), by
 * resourceVersion where upstream uses generation (ours grows with every write, so it serves
 * the same purpose): what this controller last wrote of each slice, per Service. It tells
 * whether the informer's copy is older than our own writes (a sync must wait) and whether a
 * slice event is news or only the echo of our write.
 */
export class SliceTracker {
  private readonly byService = new Map<string, Map<string, number>>();

  private static serviceKey(slice: EndpointSlice): string {
    return `${slice.metadata.namespace}/${slice.metadata.labels?.[SERVICE_NAME_LABEL] ?? ''}`;
  }

  private static version(slice: EndpointSlice): number {
    return Number(slice.metadata.resourceVersion ?? 0);
  }

  has(slice: EndpointSlice): boolean {
    return this.byService.get(SliceTracker.serviceKey(slice))?.has(slice.metadata.uid ?? '') ?? false;
  }

  /** ShouldSync: not one of ours, or newer than what we wrote. */
  shouldSync(slice: EndpointSlice): boolean {
    const v = this.byService.get(SliceTracker.serviceKey(slice))?.get(slice.metadata.uid ?? '');
    return v === undefined || SliceTracker.version(slice) > v;
  }

  /** StaleSlices: a slice we wrote is missing from, or older in, what the cache gives. */
  stale(serviceKey: string, slices: readonly EndpointSlice[]): boolean {
    const tracked = this.byService.get(serviceKey);
    if (!tracked) return false;
    const given = new Set<string>();
    for (const s of slices) {
      const uid = s.metadata.uid ?? '';
      given.add(uid);
      const v = tracked.get(uid);
      if (v !== undefined && (v === DELETION_EXPECTED || v > SliceTracker.version(s))) return true;
    }
    for (const [uid, v] of tracked) if (v !== DELETION_EXPECTED && !given.has(uid)) return true;
    return false;
  }

  update(slice: EndpointSlice): void {
    const key = SliceTracker.serviceKey(slice);
    let tracked = this.byService.get(key);
    if (!tracked) this.byService.set(key, (tracked = new Map()));
    tracked.set(slice.metadata.uid ?? '', SliceTracker.version(slice));
  }

  expectDeletion(slice: EndpointSlice): void {
    const key = SliceTracker.serviceKey(slice);
    let tracked = this.byService.get(key);
    if (!tracked) this.byService.set(key, (tracked = new Map()));
    tracked.set(slice.metadata.uid ?? '', DELETION_EXPECTED);
  }

  /** HandleDeletion: forgets the slice; false when its deletion was not ours (the Service needs a sync). */
  handleDeletion(slice: EndpointSlice): boolean {
    const key = SliceTracker.serviceKey(slice);
    const tracked = this.byService.get(key);
    const v = tracked?.get(slice.metadata.uid ?? '');
    tracked?.delete(slice.metadata.uid ?? '');
    if (tracked?.size === 0) this.byService.delete(key);
    return v === DELETION_EXPECTED;
  }

  deleteService(serviceKey: string): void {
    this.byService.delete(serviceKey);
  }
}
