import { describe, expect, it } from '@jest/globals';

import { type ObservedObject, OwnerGraph, type OwnerReference } from './owner-graph.js';

function obj(
  uid: string,
  owners: OwnerReference[] = [],
  o: { namespace?: string; deletionTimestamp?: string; finalizers?: string[]; kind?: string } = {},
): ObservedObject {
  return {
    identity: {
      apiVersion: 'v1',
      kind: o.kind ?? 'Pod',
      namespace: o.namespace ?? 'ns',
      name: `n-${uid}`,
      uid,
    },
    owners,
    deletionTimestamp: o.deletionTimestamp,
    finalizers: o.finalizers ?? [],
  };
}

function ref(uid: string, blockOwnerDeletion?: boolean): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `n-${uid}`, uid, blockOwnerDeletion };
}

const DELETING = '2026-01-01T00:00:00Z';

describe('OwnerGraph', () => {
  it('makes a virtual node for an unseen owner, in the dependent namespace, and asks for it to be checked', () => {
    const g = new OwnerGraph();
    const actions = g.observe(obj('pod', [ref('rs')]));
    expect(actions.attemptToDelete).toEqual(['rs']);
    const owner = g.node('rs');
    expect(owner?.virtual).toBe(true);
    expect(owner?.identity).toEqual({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: 'n-rs',
      namespace: 'ns',
      uid: 'rs',
    });
    expect([...(owner?.dependents ?? [])]).toEqual(['pod']);
  });

  it('turns a virtual node real when its object is observed, without queueing anything', () => {
    const g = new OwnerGraph();
    g.observe(obj('pod', [ref('rs')]));
    const actions = g.observe({ ...obj('rs'), identity: { ...g.node('rs')!.identity } });
    expect(actions).toEqual({ attemptToDelete: [], attemptToOrphan: [] });
    expect(g.node('rs')?.virtual).toBe(false);
    expect(g.dependents('rs').map((d) => d.identity.uid)).toEqual(['pod']);
  });

  it('sends the dependents of a virtual node observed at other coordinates back to check their owners', () => {
    const g = new OwnerGraph();
    g.observe(obj('pod', [ref('rs')]));
    const actions = g.observe(obj('rs', [], { namespace: 'other', kind: 'ReplicaSet' }));
    expect(actions.attemptToDelete).toEqual(['pod']);
  });

  it('queues the dependents of a removed owner, and drops the edge of a removed dependent', () => {
    const g = new OwnerGraph();
    g.observe(obj('rs', [], { kind: 'ReplicaSet' }));
    g.observe(obj('a', [ref('rs')]));
    g.observe(obj('b', [ref('rs')]));
    expect(g.remove('rs').attemptToDelete.sort()).toEqual(['a', 'b']);
    expect(g.node('rs')).toBeUndefined();
    g.observe(obj('rs2', [], { kind: 'ReplicaSet' }));
    g.observe(obj('c', [ref('rs2')]));
    g.remove('c');
    expect(g.dependents('rs2')).toEqual([]);
  });

  it('forgets a virtual owner once no dependent names it', () => {
    const g = new OwnerGraph();
    g.observe(obj('pod', [ref('ghost')]));
    g.remove('pod');
    expect(g.node('ghost')).toBeUndefined();
    expect(g.size).toBe(0);
  });

  it('follows ownerReference changes: added owners linked, removed owners unlinked', () => {
    const g = new OwnerGraph();
    g.observe(obj('x', [], { kind: 'ReplicaSet' }));
    g.observe(obj('y', [], { kind: 'ReplicaSet' }));
    g.observe(obj('pod', [ref('x')]));
    g.observe(obj('pod', [ref('y')]));
    expect(g.dependents('x')).toEqual([]);
    expect(g.dependents('y').map((d) => d.identity.uid)).toEqual(['pod']);
  });

  it('foreground deletion: the owner and all its dependents are queued once, blocking dependents listed', () => {
    const g = new OwnerGraph();
    g.observe(obj('rs', [], { kind: 'ReplicaSet' }));
    g.observe(obj('a', [ref('rs', true)]));
    g.observe(obj('b', [ref('rs')]));
    const marked = obj('rs', [], {
      kind: 'ReplicaSet',
      deletionTimestamp: DELETING,
      finalizers: ['foregroundDeletion'],
    });
    expect(g.observe(marked).attemptToDelete.sort()).toEqual(['a', 'b', 'rs']);
    expect(g.node('rs')?.deletingDependents).toBe(true);
    expect(g.blockingDependents('rs').map((d) => d.identity.uid)).toEqual(['a']);
    // Seen again in the same state: nothing new to do.
    expect(g.observe(marked).attemptToDelete).toEqual([]);
    // The blocking dependent goes: the owner looks again (to drop its finalizer).
    expect(g.remove('a').attemptToDelete).toEqual(['rs']);
    // A dependent that stops blocking also sends the owner back.
    g.observe(obj('c', [ref('rs', true)]));
    expect(g.observe(obj('c', [ref('rs', false)])).attemptToDelete).toEqual(['rs']);
  });

  it('orphan deletion: the owner goes to the orphan queue once', () => {
    const g = new OwnerGraph();
    g.observe(obj('rs', [], { kind: 'ReplicaSet' }));
    g.observe(obj('a', [ref('rs')]));
    const marked = obj('rs', [], { kind: 'ReplicaSet', deletionTimestamp: DELETING, finalizers: ['orphan'] });
    expect(g.observe(marked).attemptToOrphan).toEqual(['rs']);
    expect(g.observe(marked).attemptToOrphan).toEqual([]);
  });

  it('does not loop on an ownership cycle', () => {
    const g = new OwnerGraph();
    g.observe(obj('a', [ref('b', true)]));
    g.observe(obj('b', [ref('a', true)]));
    expect(g.dependents('a').map((d) => d.identity.uid)).toEqual(['b']);
    expect(g.dependents('b').map((d) => d.identity.uid)).toEqual(['a']);
    const actions = g.observe(
      obj('a', [ref('b', true)], { deletionTimestamp: DELETING, finalizers: ['foregroundDeletion'] }),
    );
    expect(actions.attemptToDelete.sort()).toEqual(['a', 'b']);
    expect(g.remove('a').attemptToDelete).toEqual(['b']);
    expect(g.remove('b').attemptToDelete).toEqual([]);
    expect(g.size).toBe(0);
  });

  it('a dependent that appears under an owner deleting in the foreground is queued', () => {
    const g = new OwnerGraph();
    g.observe(
      obj('rs', [], { kind: 'ReplicaSet', deletionTimestamp: DELETING, finalizers: ['foregroundDeletion'] }),
    );
    expect(g.observe(obj('late', [ref('rs', true)])).attemptToDelete).toEqual(['late']);
  });

  it('a reference to a known uid in another namespace sends the dependent to check its owners', () => {
    const g = new OwnerGraph();
    g.observe(obj('cm', [], { namespace: 'home', kind: 'ConfigMap' }));
    const r = { apiVersion: 'v1', kind: 'ConfigMap', name: 'n-cm', uid: 'cm' };
    expect(g.observe(obj('pod', [r], { namespace: 'away' })).attemptToDelete).toEqual(['pod']);
    expect(g.observe(obj('pod2', [r], { namespace: 'home' })).attemptToDelete).toEqual([]);
    // A cluster-scoped owner matches a dependent in any namespace.
    g.observe({
      ...obj('node', [], { kind: 'Node' }),
      identity: { apiVersion: 'v1', kind: 'Node', namespace: '', name: 'n-node', uid: 'node' },
    });
    expect(
      g.observe(obj('pod3', [{ apiVersion: 'v1', kind: 'Node', name: 'n-node', uid: 'node' }]))
        .attemptToDelete,
    ).toEqual([]);
  });
});
