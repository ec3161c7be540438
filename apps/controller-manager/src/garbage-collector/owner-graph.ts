import { type OwnerReference } from '../owner-reference.js';

export type { OwnerReference };

/** Where an object lives: enough to GET it again (namespace '' for cluster-scoped). */
export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

/** What the graph needs of one observed object. */
export interface ObservedObject {
  identity: ObjectIdentity;
  owners: readonly OwnerReference[];
  deletionTimestamp?: string;
  finalizers: readonly string[];
}

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

export interface GraphNode {
  identity: ObjectIdentity;
  owners: OwnerReference[];
  /** uids of the nodes whose ownerReferences name this one. */
  dependents: Set<string>;
  /** Only named by a dependent's ownerReference; not (yet) seen by an informer. */
  virtual: boolean;
  beingDeleted: boolean;
  /** Being deleted in the foreground: its blocking dependents go first. */
  deletingDependents: boolean;
  /** Being deleted with the orphan finalizer: its dependents lose their reference to it first. */
  orphaningDependents: boolean;
}

/** Which nodes (by uid) the collector must look at after a change. */
export interface GraphActions {
  attemptToDelete: string[];
  attemptToOrphan: string[];
}

/**
 * The owner→dependents graph of upstream's GraphBuilder
 * (pkg/controller/garbagecollector/graph_builder.go, processGraphChanges): nodes by uid, edges
 * from each ownerReference, a virtual node for an owner no informer has shown (it is checked
 * with a live GET by the collector). Every operation touches a node and its direct neighbours
 * only, so cycles in ownerReferences cannot make it loop.
 */
export class OwnerGraph {
  private readonly nodes = new Map<string, GraphNode>();

  get size(): number {
    return this.nodes.size;
  }

  node(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  /** The dependents of `uid` whose reference to it has blockOwnerDeletion (processDeletingDependentsItem). */
  blockingDependents(uid: string): GraphNode[] {
    const owner = this.nodes.get(uid);
    if (!owner) return [];
    return [...owner.dependents]
      .map((d) => this.nodes.get(d))
      .filter(
        (d): d is GraphNode => !!d && d.owners.some((o) => o.uid === uid && o.blockOwnerDeletion === true),
      );
  }

  dependents(uid: string): GraphNode[] {
    return [...(this.nodes.get(uid)?.dependents ?? [])]
      .map((d) => this.nodes.get(d))
      .filter((d): d is GraphNode => !!d);
  }

  /** An informer added or updated an object. */
  observe(o: ObservedObject): GraphActions {
    const actions: GraphActions = { attemptToDelete: [], attemptToOrphan: [] };
    const uid = o.identity.uid;
    const existing = this.nodes.get(uid);
    const owners = [...o.owners];
    let node: GraphNode;
    let wasDeleting = false;
    let wasOrphaning = false;
    if (!existing || existing.virtual) {
      node = existing ?? {
        identity: o.identity,
        owners: [],
        dependents: new Set(),
        virtual: false,
        beingDeleted: false,
        deletingDependents: false,
        orphaningDependents: false,
      };
      if (existing) {
        // A virtual node made real. Its dependents guessed its coordinates from their own
        // reference; if the guess was wrong (another namespace or kind), they must look again.
        for (const d of this.dependents(uid)) {
          const r = d.owners.find((x) => x.uid === uid);
          if (r && !referenceMatches(o.identity, r, d.identity.namespace))
            actions.attemptToDelete.push(d.identity.uid);
        }
        existing.virtual = false;
        existing.identity = o.identity;
      }
      this.nodes.set(uid, node);
      node.owners = owners;
      for (const ref of owners) this.link(node, ref, actions);
    } else {
      node = existing;
      wasDeleting = node.deletingDependents;
      wasOrphaning = node.orphaningDependents;
      node.identity = o.identity;
      const before = new Map(node.owners.map((r) => [r.uid, r]));
      const after = new Map(owners.map((r) => [r.uid, r]));
      for (const ref of owners) if (!before.has(ref.uid)) this.link(node, ref, actions);
      for (const [ownerUid, old] of before) {
        const now = after.get(ownerUid);
        const owner = this.nodes.get(ownerUid);
        if (!now) owner?.dependents.delete(uid);
        // A removed reference, or one that stopped blocking, may unblock a foreground deletion.
        const unblocked = !now || (old.blockOwnerDeletion === true && now.blockOwnerDeletion !== true);
        if (unblocked && owner?.deletingDependents) actions.attemptToDelete.push(ownerUid);
      }
      node.owners = owners;
    }
    node.beingDeleted = o.deletionTimestamp !== undefined;
    // processTransitions: an owner that starts waiting for its dependents (orphaned or deleted).
    node.orphaningDependents = node.beingDeleted && o.finalizers.includes(ORPHAN_FINALIZER);
    if (node.orphaningDependents && !wasOrphaning) actions.attemptToOrphan.push(uid);
    if (node.beingDeleted && o.finalizers.includes(FOREGROUND_FINALIZER)) {
      node.deletingDependents = true;
      if (!wasDeleting) actions.attemptToDelete.push(...node.dependents, uid);
    } else node.deletingDependents = false;
    return dedupe(actions);
  }

  /**
   * An object is gone (an informer's delete, or a virtual owner verified absent): its
   * dependents must check their owners, and an owner waiting in the foreground may finish.
   */
  remove(uid: string): GraphActions {
    const actions: GraphActions = { attemptToDelete: [], attemptToOrphan: [] };
    const node = this.nodes.get(uid);
    if (!node) return actions;
    this.nodes.delete(uid);
    actions.attemptToDelete.push(...node.dependents);
    for (const ref of node.owners) {
      const owner = this.nodes.get(ref.uid);
      if (!owner) continue;
      owner.dependents.delete(uid);
      if (owner.deletingDependents) actions.attemptToDelete.push(ref.uid);
      // A virtual owner nobody names any more is nothing to check.
      if (owner.virtual && owner.dependents.size === 0) this.nodes.delete(ref.uid);
    }
    return dedupe(actions);
  }

  private link(node: GraphNode, ref: OwnerReference, actions: GraphActions): void {
    let owner = this.nodes.get(ref.uid);
    if (!owner) {
      // Upstream's virtual node: the owner's coordinates as the reference gives them, the
      // namespace the dependent's (owners are in the same namespace or cluster-scoped).
      owner = {
        identity: {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          name: ref.name,
          namespace: node.identity.namespace,
          uid: ref.uid,
        },
        owners: [],
        dependents: new Set(),
        virtual: true,
        beingDeleted: false,
        deletingDependents: false,
        orphaningDependents: false,
      };
      this.nodes.set(ref.uid, owner);
      actions.attemptToDelete.push(ref.uid);
    }
    // A reference whose uid is a known object at other coordinates (in another namespace,
    // say) names an absent owner: the dependent checks its owners live (upstream's
    // graph_builder reports such references and treats them as unresolvable).
    else if (!owner.virtual && !referenceMatches(owner.identity, ref, node.identity.namespace))
      actions.attemptToDelete.push(node.identity.uid);
    owner.dependents.add(node.identity.uid);
    // A dependent that appears while its owner is being deleted in the foreground goes too.
    if (owner.deletingDependents) actions.attemptToDelete.push(node.identity.uid);
  }
}

/** Whether `ref`, made by a dependent in `namespace`, names the object at `owner`: same namespace or cluster-scoped. */
function referenceMatches(owner: ObjectIdentity, ref: OwnerReference, namespace: string): boolean {
  return (
    owner.kind === ref.kind &&
    owner.name === ref.name &&
    groupOf(owner) === groupOf(ref) &&
    (owner.namespace === '' || owner.namespace === namespace)
  );
}

export function groupOf(i: Pick<ObjectIdentity, 'apiVersion'>): string {
  const slash = i.apiVersion.indexOf('/');
  return slash < 0 ? '' : i.apiVersion.slice(0, slash);
}

function dedupe(a: GraphActions): GraphActions {
  return {
    attemptToDelete: [...new Set(a.attemptToDelete)],
    attemptToOrphan: [...new Set(a.attemptToOrphan)],
  };
}
