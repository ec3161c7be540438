import { describe, expect, it } from '@jest/globals';

import { type Pod } from '../api-types.js';
import { STATUS_TEMPLATES, type TemplateContext } from './pod-status-templates.js';
import { evaluate, matches } from './stage-selector.js';
import { CHAOS_LABELS, parseDurationMs, selectStage, type Stage, stageDelay, stagesFor } from './stages.js';

const bound: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'u-1', labels: { app: 'web' } },
  spec: { nodeName: 'sim-node-0', containers: [{ name: 'c', image: 'busybox' }] },
  status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
};
const ctx: TemplateContext = {
  now: '2026-01-01T00:00:00Z',
  hostIP: '172.16.0.1',
  podIP: '10.0.0.1',
  backoffMs: [100, 1000],
};
/** The pod as the API stores it after a strategic merge patch of `status` (conditions merged by type). */
function patched(pod: Pod, template: keyof typeof STATUS_TEMPLATES): Pod {
  const status = STATUS_TEMPLATES[template](pod, ctx);
  const conditions = [...(pod.status?.conditions ?? [])];
  for (const c of status.conditions ?? []) {
    const i = conditions.findIndex((x) => x.type === c.type);
    if (i >= 0) conditions[i] = c;
    else conditions.push(c);
  }
  return { ...pod, status: { ...pod.status, ...status, conditions } };
}
const names = (stages: Stage[], object: unknown, resource = 'Pod') =>
  stages.filter((s) => s.resource === resource && matches(s.selector, object)).map((s) => s.name);

describe('stage selectors (kwok’s jq subset)', () => {
  it('reads paths, bracketed keys, array iteration and select(… == …)', () => {
    const pod = patched(bound, 'pod-ready');
    expect(evaluate('.status.podIP', pod)).toEqual(['10.0.0.1']);
    expect(evaluate('.metadata.labels["app"]', pod)).toEqual(['web']);
    expect(evaluate('.spec.containers.[].name', pod)).toEqual(['c']);
    expect(evaluate('.status.conditions.[] | select(.type == "Ready") | .status', pod)).toEqual(['True']);
    expect(evaluate('.metadata.deletionTimestamp', pod)).toEqual([]);
    expect(() => evaluate('.status..x', pod)).toThrow(/cannot read/);
  });

  it('In holds when any value is listed, NotIn when none is, Exists when there is one', () => {
    const pod = { metadata: { ownerReferences: [{ kind: 'ReplicaSet' }, { kind: 'Job' }] } };
    const req = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist') => ({
      matchExpressions: [{ key: '.metadata.ownerReferences.[].kind', operator, values: ['Job'] }],
    });
    expect(matches(req('In'), pod)).toBe(true);
    expect(matches(req('NotIn'), pod)).toBe(false);
    expect(matches(req('Exists'), pod)).toBe(true);
    expect(matches(req('DoesNotExist'), pod)).toBe(false);
    expect(matches({ matchLabels: { a: 'b' } }, pod)).toBe(false);
  });
});

describe('pod stages', () => {
  const fast = stagesFor('fast');

  it('fast: a bound pod turns Running and Ready in one step, with kwok’s pod-ready shape', () => {
    expect(names(fast, bound)).toEqual(['pod-ready']);
    const pod = patched(bound, 'pod-ready');
    expect(pod.status).toMatchObject({
      phase: 'Running',
      hostIP: '172.16.0.1',
      hostIPs: [{ ip: '172.16.0.1' }],
      podIP: '10.0.0.1',
      podIPs: [{ ip: '10.0.0.1' }],
      startTime: ctx.now,
    });
    expect(pod.status?.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['PodScheduled', 'True'],
      ['PodReadyToStartContainers', 'True'],
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
    ]);
    expect(pod.status?.containerStatuses).toEqual([
      expect.objectContaining({
        name: 'c',
        image: 'busybox',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: ctx.now } },
        containerID: expect.stringMatching(/^sim:\/\/[0-9a-f]{64}$/),
      }),
    ]);
    // Nothing more happens to a Running pod that no Job owns.
    expect(names(fast, pod)).toEqual([]);
  });

  it('a Job’s pod completes: containers exited 0, phase Succeeded, then no stage', () => {
    const job = {
      ...bound,
      metadata: {
        ...bound.metadata,
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'j1' }],
      },
      spec: { ...bound.spec!, restartPolicy: 'Never' },
    } as Pod;
    const running = patched(job, 'pod-ready');
    expect(names(fast, running)).toEqual(['pod-complete']);
    const done = patched(running, 'pod-complete');
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(done.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodCompleted',
    });
    expect(names(fast, done)).toEqual([]);
  });

  it('a pod being deleted is deleted, whatever its state', () => {
    const deleting = { ...bound, metadata: { ...bound.metadata, deletionTimestamp: ctx.now } } as Pod;
    expect(names(fast, deleting)).toEqual(['pod-delete']);
    expect(fast.find((s) => s.name === 'pod-delete')!.next).toEqual({ delete: true });
  });

  it('realistic: creating first (ContainerCreating, addressed), then Running, each after a delay', () => {
    const realistic = stagesFor('realistic');
    expect(names(realistic, bound)).toEqual(['pod-create']);
    const creating = patched(bound, 'pod-creating');
    expect(creating.status).toMatchObject({ phase: 'Pending', podIP: '10.0.0.1' });
    expect(creating.status?.containerStatuses?.[0]?.state).toEqual({
      waiting: { reason: 'ContainerCreating' },
    });
    expect(names(realistic, creating)).toEqual(['pod-ready']);
    const create = realistic.find((s) => s.name === 'pod-create')!;
    expect(stageDelay(create, bound, () => 0)).toBe(300);
    expect(stageDelay(create, bound, () => 0.5)).toBe(650);
  });

  it('chaos: a labelled pod crash-loops — CrashLoopBackOff with lastState, restarted after the back-off, again', () => {
    const stages = stagesFor('fast', { chaos: true, restartBackoffMs: [100, 1000] });
    const labelled = {
      ...bound,
      metadata: { ...bound.metadata, labels: { [CHAOS_LABELS.containerCrash]: 'true' } },
    } as Pod;
    const running = patched(labelled, 'pod-ready');
    expect(names(stages, running)).toEqual(['pod-container-crash']);
    const crashed = patched(running, 'container-crash');
    const status = crashed.status?.containerStatuses?.[0];
    expect(crashed.status?.phase).toBe('Running');
    expect(status).toMatchObject({
      ready: false,
      restartCount: 1,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
    });
    expect(status?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    const restart = stages.find((s) => s.name === 'pod-container-restart')!;
    expect(names(stages, crashed)).toEqual(['pod-container-restart']);
    expect(stageDelay(restart, crashed)).toBe(100);
    const again = patched(
      patched(patched(crashed, 'container-restart'), 'container-crash'),
      'container-restart',
    );
    expect(again.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 2 });
    expect(stageDelay(restart, patched(again, 'container-crash'))).toBe(400);
    // Under restartPolicy Never the crash fails the pod.
    const never = patched(
      { ...running, spec: { ...running.spec!, restartPolicy: 'Never' } },
      'container-crash',
    );
    expect(never.status?.phase).toBe('Failed');
  });
});

describe('node chaos stages', () => {
  it('a node labelled node-not-ready turns NotReady after the annotated delay, and recovers without the label', () => {
    const stages = stagesFor('fast', { chaos: true });
    const ready = { type: 'Ready', status: 'True' };
    const node = (labels: Record<string, string>, status: string, annotations = {}) => ({
      metadata: { name: 'n', labels, annotations },
      status: { conditions: [{ ...ready, status }] },
    });
    const labelled = node({ [CHAOS_LABELS.nodeNotReady]: 'true' }, 'True', {
      'sim.wake.dev/node-not-ready-delay': '250ms',
    });
    expect(names(stages, labelled, 'Node')).toEqual(['node-not-ready']);
    const notReady = stages.find((s) => s.name === 'node-not-ready')!;
    expect(notReady.next).toEqual({ nodeReady: false });
    expect(stageDelay(notReady, labelled)).toBe(250);
    expect(names(stages, node({ [CHAOS_LABELS.nodeNotReady]: 'true' }, 'False'), 'Node')).toEqual([]);
    expect(names(stages, node({}, 'False'), 'Node')).toEqual(['node-recover']);
    expect(names(stages, node({}, 'True'), 'Node')).toEqual([]);
    expect(names(stagesFor('fast'), labelled, 'Node')).toEqual([]);
  });
});

describe('stage choice and delay', () => {
  const a: Stage = { name: 'a', resource: 'Pod', selector: {}, next: {} };
  const b: Stage = { name: 'b', resource: 'Pod', selector: {}, weight: 3, next: {} };

  it('picks among matching stages by weight', () => {
    expect(selectStage([a, b], {}, () => 0)).toBe(a);
    expect(selectStage([a, b], {}, () => 0.26)).toBe(b);
    expect(selectStage([], {})).toBeUndefined();
  });

  it('fires between duration and the jitter bound (kwok: jitter is the latest), from annotations when set', () => {
    const s: Stage = {
      ...a,
      delay: { durationMs: 1000, jitterMs: 3000, durationFrom: '.metadata.annotations["d"]' },
    };
    expect(stageDelay(s, {}, () => 0)).toBe(1000);
    expect(stageDelay(s, {}, () => 0.5)).toBe(2000);
    expect(stageDelay(s, { metadata: { annotations: { d: '2.5s' } } }, () => 0.5)).toBe(2750);
    expect(stageDelay({ ...a, delay: { durationMs: 500, jitterMs: 100 } }, {}, () => 0.9)).toBe(500);
    expect(stageDelay(a, {})).toBe(0);
  });

  it('reads durations as ms or Go durations', () => {
    expect(parseDurationMs('250')).toBe(250);
    expect(parseDurationMs('300ms')).toBe(300);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('soon')).toBeUndefined();
  });
});
