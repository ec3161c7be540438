/** v1.NamespaceCondition. */
export interface NamespaceCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

/** What deleting one resource's content left behind (upstream's gvrDeletionMetadata). */
export interface ContentTotals {
  /** `pods.` / `deployments.apps` → objects still there. */
  resourceToNumRemaining: Map<string, number>;
  /** Finalizer → objects still carrying it. */
  finalizersToNumRemaining: Map<string, number>;
}

const TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;
type ConditionType = (typeof TYPES)[number];

const OK: Record<ConditionType, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: {
    reason: 'ResourcesDiscovered',
    message: 'All resources successfully discovered',
  },
  NamespaceDeletionGroupVersionParsingFailure: {
    reason: 'ParsedGroupVersions',
    message: 'All legacy kube types successfully parsed',
  },
  NamespaceDeletionContentFailure: {
    reason: 'ContentDeleted',
    message: 'All content successfully deleted, may be waiting on finalization',
  },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: {
    reason: 'ContentHasNoFinalizers',
    message: 'All content-preserving finalizers finished',
  },
};

/**
 * upstream's namespaceConditionUpdater (pkg/controller/namespace/deletion/namespace_condition_utils.go):
 * collects what went wrong in one pass over the namespace's content and turns it into the five
 * deletion conditions, each True with the failure or False with its "ok" reason.
 */
export class NamespaceConditionUpdater {
  private readonly failing = new Map<ConditionType, NamespaceCondition>();
  private readonly deleteContentErrors: Error[] = [];

  constructor(private readonly now: () => string = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z')) {}

  processDiscoverResourcesErr(err: Error & { groups?: Map<string, Error> }): void {
    const message = err.groups
      ? `Discovery failed for some groups, ${err.groups.size} failing: ${err.message}`
      : err.message;
    this.fail('NamespaceDeletionDiscoveryFailure', 'DiscoveryFailed', message);
  }

  processGroupVersionErr(err: Error): void {
    this.fail('NamespaceDeletionGroupVersionParsingFailure', 'GroupVersionParsingFailed', err.message);
  }

  processDeleteContentErr(err: Error): void {
    this.deleteContentErrors.push(err);
  }

  processContentTotals(totals: ContentTotals): void {
    const remaining = [...totals.resourceToNumRemaining]
      .filter(([, n]) => n > 0)
      .map(([resource, n]) => `${resource} has ${n} resource instances`)
      .sort();
    if (remaining.length)
      this.fail(
        'NamespaceContentRemaining',
        'SomeResourcesRemain',
        `Some resources are remaining: ${remaining.join(', ')}`,
      );
    const byFinalizer = [...totals.finalizersToNumRemaining]
      .filter(([, n]) => n > 0)
      .map(([finalizer, n]) => `${finalizer} in ${n} resource instances`)
      .sort();
    if (byFinalizer.length)
      this.fail(
        'NamespaceFinalizersRemaining',
        'SomeFinalizersRemain',
        `Some content in the namespace has finalizers remaining: ${byFinalizer.join(', ')}`,
      );
  }

  /**
   * The namespace's conditions after this pass (upstream's Update + updateConditions): every
   * type present; a changed status moves lastTransitionTime, a changed reason or message alone
   * does not. `changed` says whether a status write is due.
   */
  update(current: NamespaceCondition[] = []): { conditions: NamespaceCondition[]; changed: boolean } {
    if (!this.failing.has('NamespaceDeletionContentFailure') && this.deleteContentErrors.length) {
      const msgs = this.deleteContentErrors.map((e) => e.message).sort();
      this.fail(
        'NamespaceDeletionContentFailure',
        'ContentDeletionFailed',
        `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(', ')}`,
      );
    }
    const conditions = current.map((c) => ({ ...c }));
    let changed = false;
    for (const type of TYPES) {
      const next = this.failing.get(type) ?? {
        type,
        status: 'False' as const,
        lastTransitionTime: this.now(),
        ...OK[type],
      };
      const old = conditions.find((c) => c.type === type);
      if (!old) {
        conditions.push(next);
        changed = true;
      } else if (old.status !== next.status || old.reason !== next.reason || old.message !== next.message) {
        if (old.status !== next.status) old.lastTransitionTime = this.now();
        Object.assign(old, { status: next.status, reason: next.reason, message: next.message });
        changed = true;
      }
    }
    return { conditions, changed };
  }

  private fail(type: ConditionType, reason: string, message: string): void {
    this.failing.set(type, { type, status: 'True', lastTransitionTime: this.now(), reason, message });
  }
}
