import { type ApiClient, ApiError, resourcePath } from '../api/api-client.js';
import { type StoredObject } from '@app/event-store';

export interface RecordedEvent {
  object: StoredObject;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** The seq of the change that led to it (its audit cause). */
  cause?: number;
  /** The part of the object it is about, e.g. `spec.containers{web}` (kubectl describe shows it). */
  fieldPath?: string;
}

/**
 * core/v1 Events as client-go's recorder writes them (the scheduler's, the node agent's, the
 * controllers'), asynchronously and best effort: a
 * bounded backlog written by a few workers, the oldest dropped (and counted) when it is full,
 * so that reporting never slows scheduling. A repeat of the same reason and message for the
 * same object bumps the count of the event already written instead of adding one
 * (upstream's aggregation, simplified to exact repeats).
 */
export class EventRecorder {
  private readonly backlog: RecordedEvent[] = [];
  private readonly written = new Map<string, { name: string; count: number; first: string }>();
  private running = 0;
  private dropped = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly api: ApiClient,
    private readonly o: {
      component: string;
      instance: string;
      /** The node the reporter runs on (a kubelet's events name it as their source host). */
      host?: string;
      maxBacklog?: number;
      concurrency?: number;
      onTrouble?: (e: Error) => void;
    },
  ) {}

  get droppedCount(): number {
    return this.dropped;
  }

  record(event: RecordedEvent): void {
    if (this.backlog.length >= (this.o.maxBacklog ?? 1000)) {
      this.backlog.shift();
      this.dropped++;
    }
    this.backlog.push(event);
    this.pump();
  }

  /** Resolves when everything recorded so far has been written (or failed). */
  flush(): Promise<void> {
    if (this.running === 0 && this.backlog.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < (this.o.concurrency ?? 4) && this.backlog.length > 0) {
      const next = this.backlog.shift() as RecordedEvent;
      this.running++;
      void this.write(next)
        .catch((e: Error) => this.o.onTrouble?.(e))
        .finally(() => {
          this.running--;
          this.pump();
          if (this.running === 0 && this.backlog.length === 0) for (const done of this.idle.splice(0)) done();
        });
    }
  }

  private async write(e: RecordedEvent): Promise<void> {
    const meta = e.object.metadata;
    const namespace = meta.namespace || 'default';
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const key = `${meta.uid}|${e.fieldPath ?? ''}|${e.reason}|${e.message}`;
    const seen = this.written.get(key);
    const path = resourcePath({ group: '', version: 'v1', plural: 'events', namespace });
    const count = (seen?.count ?? 0) + 1;
    const body = coreEvent(e, this.o, {
      name: seen?.name ?? `${meta.name}.${eventSuffix()}`,
      first: seen?.first ?? now,
      now,
      count,
    });
    if (seen) {
      try {
        await this.api.patch(`${path}/${seen.name}`, { count, lastTimestamp: now }, { cause: e.cause });
        seen.count = count;
        return;
      } catch (err) {
        // The event it would add to is gone (expired, deleted): write a new one instead.
        if (!ApiError.isNotFound(err)) throw err;
        this.written.delete(key);
        return this.write(e);
      }
    }
    await this.api.create(path, body, { cause: e.cause });
    this.written.set(key, { name: String(body.metadata.name), count: 1, first: now });
    // Remember a bounded number of events for aggregation; the oldest are forgotten first.
    if (this.written.size > 10_000) this.written.delete(this.written.keys().next().value as string);
  }
}

/**
 * The core/v1 Event the recorder writes for `e` (as client-go's recorder fills it in): named
 * `name`, first seen at `first`, seen `count` times, the last `now`.
 */
export function coreEvent(
  e: RecordedEvent,
  source: { component: string; instance: string; host?: string },
  at: { name: string; first: string; now: string; count: number },
): StoredObject {
  const meta = e.object.metadata;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: at.name, namespace: meta.namespace || 'default' },
    involvedObject: {
      apiVersion: e.object.apiVersion ?? 'v1',
      kind: e.object.kind ?? 'Pod',
      namespace: meta.namespace,
      name: meta.name,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      ...(e.fieldPath ? { fieldPath: e.fieldPath } : {}),
    },
    reason: e.reason,
    message: e.message,
    type: e.type,
    source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
    reportingComponent: source.component,
    reportingInstance: source.instance,
    firstTimestamp: at.first,
    lastTimestamp: at.now,
    count: at.count,
  };
}

/** Upstream names events <object>.<hex nanoseconds>; unique enough per object. */
function eventSuffix(): string {
  return (BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16);
}
