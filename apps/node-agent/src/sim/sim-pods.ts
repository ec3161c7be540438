import {
  type ApiClient,
  ApiError,
  type CacheChange,
  type Informer,
  objectKey,
  resourcePath,
  splitKey,
} from '@app/client';

import { type ApiObject, type Pod } from '../api-types.js';
import { metaTime, STATUS_TEMPLATES } from './pod-status-templates.js';
import { type RequestBudget } from './request-budget.js';
import { type SimIpam } from './sim-ipam.js';
import { matches } from './stage-selector.js';
import { selectStage, type Stage, stageDelay } from './stages.js';
import { TimerWheel } from './timer-wheel.js';

export interface SimPodsOptions {
  api: ApiClient;
  budget: RequestBudget;
  ipam: SimIpam;
  /** The pods informer (all pods: a field selector per node would be thousands of watches). */
  informer: Informer<ApiObject<Pod>>;
  /** Node name → index, for the nodes this process speaks for. */
  nodes: ReadonlyMap<string, number>;
  nodeIP: (name: string) => string;
  stages: readonly Stage[];
  restartBackoffMs: [number, number];
  /** Retry a failed write after base doubling to cap. */
  retryMs?: [number, number];
  tickMs?: number;
  onTrouble?: (what: string, e: Error) => void;
}

interface Planned {
  stage: Stage;
  failures: number;
}

const rv = (p: Pod | undefined) => Number(p?.metadata?.resourceVersion ?? 0);

/**
 * Plays the pods bound to this process's nodes through their stages: each change the
 * informer sees selects the pod's next stage, which fires from the timer wheel after its
 * delay and writes through the budget; the written state, seen back on the bus, selects the
 * one after (kwok's pod controller).
 */
export class SimPods {
  private readonly wheel: TimerWheel<string>;
  private readonly planned = new Map<string, Planned>();
  /** The resourceVersion of our last write per pod: older cached states are stale, not news. */
  private readonly written = new Map<string, number>();
  /** Pods with a write under way: their next stage is chosen once it is done, so no write is made twice. */
  private readonly writing = new Set<string>();
  private readonly podStages: Stage[];
  private stopped = false;
  private writes = 0;

  constructor(private readonly o: SimPodsOptions) {
    this.podStages = o.stages.filter((s) => s.resource === 'Pod');
    this.wheel = new TimerWheel({
      tickMs: o.tickMs ?? 50,
      onDue: (keys) => keys.forEach((k) => this.fire(k)),
    });
    o.informer.onChange((c) => this.changed(c));
  }

  /** Status writes and deletes done so far. */
  get writeCount(): number {
    return this.writes;
  }

  start(): void {
    this.wheel.start();
  }

  stop(): void {
    this.stopped = true;
    this.wheel.stop();
  }

  private managed(pod: Pod): number | undefined {
    const node = pod.spec?.nodeName;
    return node ? this.o.nodes.get(node) : undefined;
  }

  private changed(c: CacheChange<ApiObject<Pod>>): void {
    const index = this.managed(c.object);
    if (index === undefined) return;
    const key = objectKey(c.object);
    if (c.type === 'deleted') {
      this.wheel.cancel(key);
      this.planned.delete(key);
      this.written.delete(key);
      this.writing.delete(key);
      if (c.object.metadata.uid) this.o.ipam.release(index, c.object.metadata.uid);
      return;
    }
    // After a restart, the addresses pods already carry stay theirs.
    const ip = c.object.status?.podIP;
    if (c.type === 'added' && ip && !c.object.spec?.hostNetwork && c.object.metadata.uid)
      this.o.ipam.adopt(index, c.object.metadata.uid, ip);
    this.plan(key);
  }

  /** Chooses the pod's next stage; a stage already waiting for it keeps its time. */
  private plan(key: string): void {
    if (this.stopped) return;
    const pod = this.o.informer.cache.get(key);
    if (!pod || this.managed(pod) === undefined || this.writing.has(key)) return;
    if ((this.written.get(key) ?? 0) > rv(pod)) return;
    const stage = selectStage(this.podStages, pod);
    const current = this.planned.get(key);
    if (current && current.stage === stage && this.wheel.has(key)) return;
    if (!stage) {
      this.planned.delete(key);
      this.wheel.cancel(key);
      return;
    }
    this.planned.set(key, { stage, failures: 0 });
    this.wheel.schedule(key, stageDelay(stage, pod));
  }

  private fire(key: string): void {
    const planned = this.planned.get(key);
    const pod = this.o.informer.cache.get(key);
    if (!planned || !pod || this.stopped) return;
    // The pod may have moved on while the stage waited.
    if (!matches(planned.stage.selector, pod)) {
      this.planned.delete(key);
      return this.plan(key);
    }
    this.writing.add(key);
    this.o.budget
      .run('work', () => this.apply(planned.stage, pod))
      .finally(() => this.writing.delete(key))
      .then(
        (written) => {
          this.writes++;
          // A delete that left the pod (finalizers) or a write that changed nothing: wait for news, do not repeat it.
          if (this.o.informer.cache.get(key)) this.written.set(key, Math.max(written ?? 0, rv(pod) + 1));
          this.planned.delete(key);
          this.plan(key);
        },
        (e: unknown) => {
          if (this.stopped) return;
          if (ApiError.isNotFound(e)) return void this.planned.delete(key);
          this.o.onTrouble?.(`stage ${planned.stage.name} of pod ${key}`, e as Error);
          const [base, cap] = this.o.retryMs ?? [100, 10_000];
          this.wheel.schedule(key, Math.min(cap, base * 2 ** planned.failures++));
        },
      );
  }

  /** Writes the stage's next state; returns the resourceVersion written (none for a delete). */
  private async apply(stage: Stage, pod: Pod): Promise<number | undefined> {
    const { namespace, name } = splitKey(objectKey(pod as ApiObject<Pod>));
    const path = resourcePath({ group: '', version: 'v1', plural: 'pods', namespace, name });
    if (stage.next.delete) {
      // Its containers are gone: end the pod's grace period (the kubelet's final delete), only this incarnation of it.
      await this.o.api.delete(path, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata?.uid },
      });
      return undefined;
    }
    const template = STATUS_TEMPLATES[stage.next.status!];
    const nodeName = pod.spec!.nodeName!;
    const index = this.o.nodes.get(nodeName)!;
    const podIP = pod.spec?.hostNetwork ? undefined : this.o.ipam.podIP(index, pod.metadata!.uid!);
    if (!pod.spec?.hostNetwork && podIP === undefined)
      throw new Error(`node ${nodeName} has no pod address left in ${this.o.ipam.podCidr(index)}`);
    const status = template(pod, {
      now: metaTime(new Date()),
      hostIP: this.o.nodeIP(nodeName),
      podIP,
      backoffMs: this.o.restartBackoffMs,
    });
    const written = await this.o.api.patch<ApiObject<Pod>>(
      `${path}/status`,
      { status },
      { contentType: 'application/strategic-merge-patch+json' },
    );
    return rv(written);
  }
}
