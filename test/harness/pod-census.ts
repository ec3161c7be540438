import { type ApiCluster, type ApiStream } from './api-cluster.js';

/** The parts of a pod the census reads. */
export interface CensusPod {
  metadata: {
    name: string;
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
  };
  status?: { phase?: string };
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: CensusPod;
}

/**
 * Whether a pod counts against a Deployment's replicas + maxSurge: the pods upstream's
 * controllers count (controller.FilterActivePods, which status.replicas is made of), i.e. not
 * Succeeded or Failed and not being deleted. A pod with a deletionTimestamp is on its way out
 * and no controller counts it; upstream bounds only the active ones (terminating pods are
 * reported, not bounded, since KEP-3973's status.terminatingReplicas).
 */
export function isActive(p: CensusPod): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata.deletionTimestamp;
}

/**
 * Watches a namespace's pods through the API (one watch from a list's resourceVersion, so no
 * moment is missed) and after every event counts the active pods: the highest count seen, the
 * creations, and the event at which the highest count was reached.
 */
export class PodCensus {
  /** The pods as the watch last showed them, by uid. */
  readonly pods = new Map<string, CensusPod>();
  /** Every pod created since the census started (uids, in watch order). */
  readonly created: CensusPod[] = [];
  maxActive = 0;
  /** The resourceVersion of the event after which `maxActive` pods were active. */
  maxAt = '';
  /** The pods counted at that moment (for a failing test's message). */
  maxPods: CensusPod[] = [];
  /** Why the watch stopped early (the observations after it are missing), if it did. */
  broken?: string;
  private stream?: ApiStream;
  private closing = false;

  private constructor(private readonly counts: (p: CensusPod) => boolean) {}

  /** Starts watching `namespace` from now; `counts` picks the pods the maximum is over (default: active ones). */
  static async start(
    cluster: ApiCluster,
    namespace: string,
    counts: (p: CensusPod) => boolean = isActive,
  ): Promise<PodCensus> {
    const census = new PodCensus(counts);
    const path = `/api/v1/namespaces/${namespace}/pods`;
    const list = await cluster.api<{ items: CensusPod[]; metadata: { resourceVersion: string } }>(
      'GET',
      path,
    );
    for (const p of list.body.items) census.pods.set(p.metadata.uid, p);
    census.recount(list.body.metadata.resourceVersion);
    const stream = await cluster.stream(
      `${path}?watch=1&allowWatchBookmarks=true&resourceVersion=${list.body.metadata.resourceVersion}`,
    );
    if (stream.status !== 200) throw new Error(`watch ${path}: ${stream.status}`);
    census.stream = stream;
    stream.onLine((line) => census.observe(JSON.parse(line) as WatchEvent));
    void stream.ended.then(() => {
      if (!census.closing) census.broken ??= 'the watch ended';
    });
    return census;
  }

  /** The active pods now, by the watch. */
  active(filter: (p: CensusPod) => boolean = () => true): CensusPod[] {
    return [...this.pods.values()].filter((p) => isActive(p) && filter(p));
  }

  /** Forgets the maximum and the creations (the start of a new round); the pods stay. */
  reset(): void {
    this.created.length = 0;
    this.maxActive = 0;
    this.maxAt = '';
    this.maxPods = [];
    this.recount('');
  }

  close(): void {
    this.closing = true;
    this.stream?.close();
  }

  private observe(e: WatchEvent): void {
    if (e.type === 'BOOKMARK') return;
    if (e.type === 'ERROR') {
      this.broken ??= `watch error: ${JSON.stringify(e.object)}`;
      return;
    }
    const uid = e.object.metadata.uid;
    if (e.type === 'DELETED') this.pods.delete(uid);
    else {
      if (e.type === 'ADDED' && !this.pods.has(uid)) this.created.push(e.object);
      this.pods.set(uid, e.object);
    }
    this.recount(e.object.metadata.resourceVersion);
  }

  private recount(resourceVersion: string): void {
    let n = 0;
    for (const p of this.pods.values()) if (this.counts(p)) n++;
    if (n > this.maxActive) {
      this.maxActive = n;
      this.maxAt = resourceVersion;
      this.maxPods = [...this.pods.values()].filter(this.counts);
    }
  }
}
