/**
 * client-go's ControllerExpectations / UIDTrackingControllerExpectations
 * (pkg/controller/controller_utils.go): after a sync asks for N creates (or these deletes),
 * the controller does not act on its set again until the informer has shown them all, or
 * until the expectations are older than the TTL (5 minutes upstream) — so a cache that has
 * not caught up with our own writes never makes it create or delete twice.
 */
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Expectation {
  add: number;
  /** Keys (namespace/name) of pods we asked to delete and have not yet seen go. */
  deletes: Set<string>;
  at: number;
}

export class ControllerExpectations {
  private readonly byController = new Map<string, Expectation>();

  constructor(
    private readonly ttlMs = EXPECTATIONS_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** SatisfiedExpectations: true when no record, all observed, or expired. */
  satisfied(key: string): boolean {
    const e = this.byController.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.deletes.size === 0) return true;
    return this.now() - e.at > this.ttlMs;
  }

  /** ExpectCreations: replaces the record (a sync sets expectations only when satisfied). */
  expectCreations(key: string, n: number): void {
    this.byController.set(key, { add: n, deletes: new Set(), at: this.now() });
  }

  /** UIDTrackingControllerExpectations.ExpectDeletions, by pod key. */
  expectDeletions(key: string, podKeys: readonly string[]): void {
    this.byController.set(key, { add: 0, deletes: new Set(podKeys), at: this.now() });
  }

  /** SetExpectations: creations and these deletes at once (a StatefulSet's or DaemonSet's sync may do both). */
  expect(key: string, adds: number, podKeys: readonly string[]): void {
    this.byController.set(key, { add: adds, deletes: new Set(podKeys), at: this.now() });
  }

  creationObserved(key: string): void {
    const e = this.byController.get(key);
    if (e) e.add--;
  }

  /** Only a pod we asked to delete lowers the count (a pod deleted by someone else does not). */
  deletionObserved(key: string, podKey: string): void {
    this.byController.get(key)?.deletes.delete(podKey);
  }

  /** DeleteExpectations: the controller object is gone. */
  delete(key: string): void {
    this.byController.delete(key);
  }

  pending(key: string): { add: number; del: number } | undefined {
    const e = this.byController.get(key);
    return e && { add: e.add, del: e.deletes.size };
  }
}
