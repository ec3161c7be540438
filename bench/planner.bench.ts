import { parseArgs } from 'node:util';

import { coreEvent } from '@app/client';
import {
  type AuditContext,
  canonicalJson,
  digestOfCanonical,
  eventHash,
  keyId,
  type KnownState,
  objectText,
  type LogHead,
  type Mutation,
  type ObjectKey,
  planBatch,
  type StoredObject,
} from '@app/event-store';

import { assignToNode } from '../apps/api-server/src/objects/pod-binding.js';

import { progress, table, writeResult } from './lib/report.js';
import { microseconds, round } from './lib/stats.js';

export const description =
  "the event store's planning CPU per write (no I/O): the scheduler's binding + Scheduled Event mix";

const HELP = `npm run bench -- planner [options]

The CPU the batch writer spends planning one write under the log-head lock, in this process,
with no database: each batch holds --batch writes, half the API server's pods/binding transform
of a stored pod (spec.nodeName and the PodScheduled condition) and half
creates of that pod's Scheduled Event (with the writer's 'absent' belief), as the scheduler
sends them. Also the two ways of giving a transform its own copy of the stored pod: a parse of
its JSON text, and structuredClone of the parsed object; and the two hashes each write adds to
the chain: the digest of the payload and the event hash.

  --batch N     writes per batch (default 32)
  --seconds S   time per measurement (default 3); each is run 5 times, the median reported
  --help        this text`;

const AT = '2026-11-23T00:00:01Z';

const CTX: AuditContext = {
  actor: { user: 'system:kube-scheduler', groups: ['system:authenticated'] },
  verb: 'create',
  userAgent: 'wake-scheduler',
  requestId: 'bench',
  sourceIp: '127.0.0.1',
};

/** A pending pod as the API server stores it for the scheduler bench (defaults, managedFields). */
function storedPod(i: number): StoredObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      namespace: 'sched',
      uid: `c1b4e0a2-5f7e-4a4e-9f1e-${String(i).padStart(12, '0')}`,
      resourceVersion: '1000',
      generation: 1,
      creationTimestamp: '2026-11-23T00:00:00Z',
      labels: { app: 'bench' },
      managedFields: [
        {
          manager: 'bench',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-11-23T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
            'f:spec': {
              'f:containers': {
                'k:{"name":"pause"}': {
                  '.': {},
                  'f:image': {},
                  'f:name': {},
                  'f:resources': { '.': {}, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } },
                },
              },
            },
          },
        },
      ],
    },
    spec: {
      containers: [
        {
          name: 'pause',
          image: 'registry.k8s.io/pause:3.9',
          resources: { requests: { cpu: '100m', memory: '500Mi' } },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
    },
    status: { phase: 'Pending', qosClass: 'Burstable' },
  };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { batch: { type: 'string' }, seconds: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) return void console.log(HELP);
  const size = Number(values.batch ?? 32);
  const seconds = Number(values.seconds ?? 3);
  if (!Number.isInteger(size) || size < 2 || !(seconds > 0))
    throw new RangeError('--batch is a whole number ≥ 2, --seconds a positive number');

  const pods = Array.from({ length: size / 2 }, (_, i) => storedPod(i));
  const state = new Map<string, KnownState>();
  const batch: Mutation[] = [];
  for (const pod of pods) {
    const key: ObjectKey = {
      group: '',
      resource: 'pods',
      namespace: 'sched',
      name: String(pod.metadata.name),
    };
    state.set(keyId(key), {
      uid: pod.metadata.uid as string,
      resourceVersion: 1000,
      text: objectText(pod),
    });
    batch.push({
      op: 'update',
      key,
      object: assignToNode({ resource: 'pods', group: '', name: key.name }, 'node-1', AT),
      ctx: CTX,
    });
    // What the scheduler's recorder writes after the binding (apps/scheduler/src/scheduler.ts).
    const event = coreEvent(
      {
        object: pod,
        type: 'Normal',
        reason: 'Scheduled',
        message: `Successfully assigned sched/${key.name} to node-1`,
      },
      { component: 'default-scheduler', instance: 'default-scheduler-bench' },
      { name: `${key.name}.187a1b2c3d4e5f60`, first: AT, now: AT, count: 1 },
    );
    batch.push({
      op: 'create',
      key: { group: '', resource: 'events', namespace: 'sched', name: String(event.metadata.name) },
      object: event,
      absent: true,
      ctx: CTX,
    });
  }
  const head: LogHead = { seq: 1000, hash: 'ab'.repeat(32), atMs: Date.now() };
  const text = canonicalJson(pods[0]);
  const parsed = JSON.parse(text) as StoredObject;

  progress(`planning batches of ${batch.length} writes for ${seconds} s`);
  const perWrite = microseconds(() => (planBatch(batch, state, head), batch.length), seconds);
  progress(`copying a stored pod (${text.length} bytes of JSON) both ways`);
  const parse = microseconds(() => (JSON.parse(text), 1), seconds / 2);
  const clone = microseconds(() => (structuredClone(parsed), 1), seconds / 2);
  progress('hashing for the chain: a pod payload digest, then an event hash');
  const planned = planBatch(batch.slice(0, 1), state, head).events[0];
  const digest = microseconds(() => (digestOfCanonical(text), 1), seconds / 2);
  const chained = microseconds(() => (eventHash(head.hash, planned), 1), seconds / 2);

  const result = {
    batch: batch.length,
    podJsonBytes: text.length,
    planMicrosecondsPerWrite: round(perWrite),
    planMicrosecondsPerPod: round(perWrite * 2),
    transformCopyMicroseconds: { parse: round(parse), structuredClone: round(clone) },
    chainMicroseconds: { payloadDigest: round(digest), eventHash: round(chained) },
  };
  console.log(`\nPlanning under the log-head lock (this process, no I/O), batches of ${batch.length}\n`);
  console.log(
    table([
      { measure: 'plan one write (binding or its Event)', µs: result.planMicrosecondsPerWrite },
      { measure: 'plan one pod (binding + Scheduled Event)', µs: result.planMicrosecondsPerPod },
      {
        measure: `transform copy: JSON.parse of ${text.length} B`,
        µs: result.transformCopyMicroseconds.parse,
      },
      { measure: 'transform copy: structuredClone', µs: result.transformCopyMicroseconds.structuredClone },
      { measure: `chain: SHA-256 digest of ${text.length} B`, µs: result.chainMicroseconds.payloadDigest },
      { measure: 'chain: event hash (header + previous hash)', µs: result.chainMicroseconds.eventHash },
    ]),
  );
  console.log(`\nwritten: ${await writeResult('planner', result)}`);
}
