import { describe, expect, it } from '@jest/globals';

import { type ControllerRevision } from '../history/controller-revision.js';
import { newVersionedStatefulSetPod, type StatefulPod } from './identity.js';
import { applyRevision } from './revisions.js';
import { type StatefulSet } from './statefulset-types.js';
import { newStatefulSet, revisionOf, runningAndReady, withStatus } from './test-objects.js';
import { planUpdate, type StatefulAction } from './update-plan.js';

const NOW = Date.parse('2026-01-01T01:00:00Z');

const plan = (
  set: StatefulSet,
  pods: StatefulPod[],
  current = revisionOf(set),
  update = current,
  now = NOW,
) =>
  planUpdate({
    set,
    pods,
    currentRevision: current,
    updateRevision: update,
    collisionCount: 0,
    claim: () => undefined,
    now,
  });
const describeActions = (actions: StatefulAction[]) =>
  actions.map((a) => `${a.type}${a.type === 'delete' ? `(${a.why})` : ''} ${a.pod.metadata.name}`);
const actions = (p: ReturnType<typeof plan>) => describeActions(p.phases.flat());

/** Ready pods for `ordinals`, made from `revision` of `set`. */
const readyPods = (set: StatefulSet, ordinals: number[], revision = revisionOf(set)) =>
  ordinals.map((i) =>
    runningAndReady(
      newVersionedStatefulSetPod(
        applyRevision(set, revision),
        applyRevision(set, revision),
        revision.metadata.name!,
        revision.metadata.name!,
        i,
      ),
    ),
  );
const terminating = (p: StatefulPod): StatefulPod => ({
  ...p,
  metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:59:00Z' },
});
const withImage = (set: StatefulSet, image: string): StatefulSet => ({
  ...set,
  metadata: { ...set.metadata, generation: 2 },
  spec: {
    ...set.spec,
    template: {
      ...set.spec!.template,
      spec: { ...set.spec!.template!.spec, containers: [{ name: 'nginx', image }] },
    },
  },
});

// Upstream's stateful_set_control_test.go, as far as one sync's decisions go.
describe('planUpdate (updateStatefulSet)', () => {
  it('CreatesPods, OrderedReady: one pod at a time, each after its predecessor is Running and Ready', () => {
    const set = newStatefulSet(3);
    expect(actions(plan(set, []))).toEqual(['create foo-0']);
    const [p0] = readyPods(set, [0]);
    expect(actions(plan(set, [withStatus(p0, 'Pending', false)]))).toEqual(['create-claims foo-0']);
    expect(actions(plan(set, [withStatus(p0, 'Running', false)]))).toEqual([]);
    expect(actions(plan(set, [p0]))).toEqual(['create foo-1']);
    expect(actions(plan(set, readyPods(set, [0, 1, 2])))).toEqual([]);
  });

  it('Parallel: every missing pod at once, whatever the others state', () => {
    const set = newStatefulSet(3, { podManagementPolicy: 'Parallel' });
    const p = plan(set, []);
    expect(p.monotonic).toBe(false);
    expect(describeActions(p.phases[0])).toEqual(['create foo-0', 'create foo-1', 'create foo-2']);
    const [p1] = readyPods(set, [1]);
    expect(actions(plan(set, [withStatus(p1, 'Pending', false)]))).toEqual([
      'create foo-0',
      'create-claims foo-1',
      'create foo-2',
    ]);
  });

  it('waits minReadySeconds after Ready before creating the next pod', () => {
    const set = newStatefulSet(2, { minReadySeconds: 30 });
    const [p0] = readyPods(set, [0]);
    const readyAt = Date.parse('2026-01-01T00:00:00Z');
    expect(actions(plan(set, [p0], undefined, undefined, readyAt + 10_000))).toEqual([]);
    expect(actions(plan(set, [p0], undefined, undefined, readyAt + 30_000))).toEqual(['create foo-1']);
  });

  it('ScaleDown, OrderedReady: the highest ordinal first, one at a time, waiting for it to be gone', () => {
    const set = newStatefulSet(3);
    const pods = readyPods(set, [0, 1, 2, 3, 4]);
    expect(actions(plan(set, pods))).toEqual(['delete(scale-down) foo-4']);
    expect(actions(plan(set, [...pods.slice(0, 4), terminating(pods[4])]))).toEqual([]);
    expect(actions(plan(set, pods.slice(0, 4)))).toEqual(['delete(scale-down) foo-3']);
  });

  it('ScaleDown, Parallel: every condemned pod at once', () => {
    const set = newStatefulSet(3, { podManagementPolicy: 'Parallel' });
    expect(actions(plan(set, readyPods(set, [0, 1, 2, 3, 4])))).toEqual([
      'delete(scale-down) foo-4',
      'delete(scale-down) foo-3',
    ]);
  });

  it('scale-down halts while a replica is unhealthy; an unhealthy condemned pod goes only if it is the first unhealthy', () => {
    const set = newStatefulSet(3);
    const pods = readyPods(set, [0, 1, 2, 3, 4]);
    const sick = (p: StatefulPod) => withStatus(p, 'Running', false);
    expect(actions(plan(set, [pods[0], sick(pods[1]), ...pods.slice(2)]))).toEqual([]);
    // foo-3 is the first unhealthy pod: the healthy foo-4 goes first, then foo-3 may.
    expect(actions(plan(set, [...pods.slice(0, 3), sick(pods[3]), pods[4]]))).toEqual([
      'delete(scale-down) foo-4',
    ]);
    expect(actions(plan(set, [...pods.slice(0, 3), sick(pods[3])]))).toEqual(['delete(scale-down) foo-3']);
    // Both unhealthy: foo-4 is not the first unhealthy one, so nothing goes.
    expect(actions(plan(set, [...pods.slice(0, 3), sick(pods[3]), sick(pods[4])]))).toEqual([]);
  });

  it('RecreatesFailedPods: a Failed or Succeeded replica is deleted, to be recreated next sync', () => {
    const set = newStatefulSet(3);
    const pods = readyPods(set, [0, 1, 2]);
    expect(actions(plan(set, [pods[0], withStatus(pods[1], 'Failed', false), pods[2]]))).toEqual([
      'delete(finished) foo-1',
    ]);
    expect(
      actions(plan(set, [pods[0], terminating(withStatus(pods[1], 'Succeeded', false)), pods[2]])),
    ).toEqual([]);
  });

  it('restores a replica whose identity was changed', () => {
    const set = newStatefulSet(2);
    const [p0, p1] = readyPods(set, [0, 1]);
    const hash = p1.metadata.labels?.['controller-revision-hash'] ?? '';
    const relabelled = {
      ...p1,
      metadata: { ...p1.metadata, labels: { foo: 'bar', 'controller-revision-hash': hash } },
    };
    expect(actions(plan(set, [p0, relabelled]))).toEqual(['update foo-1']);
  });

  it('a set being deleted is left alone', () => {
    const set = newStatefulSet(3);
    set.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(actions(plan(set, []))).toEqual([]);
  });

  describe('RollingUpdate', () => {
    const v1 = newStatefulSet(3);
    const rev1 = revisionOf(v1, 1);
    const v2 = withImage(v1, 'nginx:2');
    const rev2 = revisionOf(v2, 2);
    const old = readyPods(v1, [0, 1, 2], rev1);
    const updated = readyPods(v2, [0, 1, 2], rev2);

    it('deletes the highest-ordinal pod not on the update revision, and counts it out of currentReplicas', () => {
      const p = plan(v2, old, rev1, rev2);
      expect(actions(p)).toEqual(['delete(update) foo-2']);
      expect(p.status).toMatchObject({
        replicas: 3,
        readyReplicas: 3,
        currentReplicas: 3,
        updatedReplicas: 0,
        currentRevision: rev1.metadata.name,
        updateRevision: rev2.metadata.name,
        observedGeneration: 2,
      });
    });

    it('recreates it from the update revision and goes on only once it is healthy', () => {
      const missing = plan(v2, old.slice(0, 2), rev1, rev2);
      expect(actions(missing)).toEqual(['create foo-2']);
      expect(missing.phases[0][0].pod.metadata.labels?.['controller-revision-hash']).toBe(rev2.metadata.name);
      expect(
        actions(plan(v2, [...old.slice(0, 2), withStatus(updated[2], 'Running', false)], rev1, rev2)),
      ).toEqual([]);
      expect(actions(plan(v2, [...old.slice(0, 2), updated[2]], rev1, rev2))).toEqual([
        'delete(update) foo-1',
      ]);
      const done = plan(v2, updated, rev1, rev2);
      expect(actions(done)).toEqual([]);
      expect(done.status).toMatchObject({ currentReplicas: 0, updatedReplicas: 3 });
    });

    it('keeps ordinals below the partition on the current revision', () => {
      const partitioned = {
        ...v2,
        spec: {
          ...v2.spec,
          updateStrategy: { type: 'RollingUpdate' as const, rollingUpdate: { partition: 2 } },
        },
      };
      expect(actions(plan(partitioned, old, rev1, rev2))).toEqual(['delete(update) foo-2']);
      expect(actions(plan(partitioned, [...old.slice(0, 2), updated[2]], rev1, rev2))).toEqual([]);
      // A pod below the partition that is recreated comes back on the current revision.
      const recreated = plan(partitioned, [old[0], updated[2]], rev1, rev2);
      expect(actions(recreated)).toEqual(['create foo-1']);
      const image = (recreated.phases[0][0].pod.spec?.containers as { image: string }[])[0].image;
      expect(image).toBe('nginx');
    });

    it('OnDelete deletes nothing for the update; a deleted pod comes back on the update revision', () => {
      const onDelete = { ...v2, spec: { ...v2.spec, updateStrategy: { type: 'OnDelete' as const } } };
      expect(actions(plan(onDelete, old, rev1, rev2))).toEqual([]);
      const recreated = plan(onDelete, [old[0], old[2]], rev1, rev2);
      expect(actions(recreated)).toEqual(['create foo-1']);
      expect(recreated.phases[0][0].pod.metadata.labels?.['controller-revision-hash']).toBe(
        rev2.metadata.name,
      );
    });
  });

  it('counts status: created pods, ready, available, current and updated by revision', () => {
    const set = newStatefulSet(3, { minReadySeconds: 7200 });
    const rev: ControllerRevision = revisionOf(set);
    const [p0, p1, p2] = readyPods(set, [0, 1, 2], rev);
    const p = plan(set, [p0, withStatus(p1, 'Pending', false), terminating(p2)], rev, rev);
    expect(p.status).toEqual({
      observedGeneration: 1,
      currentRevision: rev.metadata.name,
      updateRevision: rev.metadata.name,
      collisionCount: 0,
      replicas: 3,
      readyReplicas: 2,
      availableReplicas: 0,
      currentReplicas: 2,
      updatedReplicas: 2,
    });
  });
});
