import {
  apiVersionOf,
  type FieldSelector,
  type IncludeObject,
  type LabelSelector,
  matchesFields,
  matchesLabels,
  type ResourceType,
  StatusError,
  storageOf,
  toServed,
} from '@app/api';
import { eventFilter, type WatchHub, WatchTooSlow } from '@app/bus';
import { type StoredEvent, type StoredObject } from '@app/event-store';

import {
  type AnyResponse,
  breakOffResponse,
  responseGone,
  startStreamedResponse,
  type StreamedBody,
} from '../http/serving.js';
import { toTable } from '../http/tables.js';
import { WatchLineWriter } from './line-writer.js';

/**
 * What the watches carrying one event share, made once however many there are (the hub hands
 * every watch the same event object): its commit time, and per kind it is served as (nearly
 * always one) the served object and the JSON line a plain (non-Table) watch sends. One lookup
 * per event per watch: a fan-out to hundreds of watches repeats it hundreds of times.
 */
interface EventMemo {
  /** Commit time, epoch ms. */
  committedAt: number;
  type?: ResourceType;
  shared?: Shared;
  others?: Map<ResourceType, Shared>;
}
const MEMOS = new WeakMap<StoredEvent, EventMemo>();

/** What every plain watch of one kind sends for one event: the served object and its line, encoded once. */
interface Shared {
  object?: StoredObject;
  line?: Buffer;
}

function memoOf(e: StoredEvent): EventMemo {
  let memo = MEMOS.get(e);
  if (!memo) MEMOS.set(e, (memo = { committedAt: Date.parse(e.at) }));
  return memo;
}

function sharedOf(memo: EventMemo, t: ResourceType): Shared {
  if (memo.type === t) return memo.shared as Shared;
  if (memo.type === undefined) {
    memo.type = t;
    return (memo.shared = {});
  }
  let shared = (memo.others ??= new Map()).get(t);
  if (!shared) memo.others.set(t, (shared = {}));
  return shared;
}

export interface WatchParams {
  type: ResourceType;
  namespace?: string;
  /** Deliver every change after this resourceVersion. */
  after: number;
  /** Objects to send as ADDED first (a watch from "now" or "0" starts with the current state). */
  initial: StoredObject[];
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  bookmarks: boolean;
  /** The server ends the watch after this long (clients re-watch from their last resourceVersion). */
  timeoutMs: number;
  bookmarkIntervalMs: number;
  table?: { version: 'v1' | 'v1beta1'; include: IncludeObject };
  /**
   * With selectors an object can enter or leave (labels, most fields): the keys that matched
   * as of `after`. The watch then says ADDED when an object comes to match and DELETED when it
   * stops, as upstream's watch cache does, and keeps the set current.
   */
  matching?: Set<string>;
  /** Called per event sent, with the seconds since it was committed (upstream's watch latency SLI). */
  onDelivery?: (seconds: number) => void;
}

export function objectKeyOf(obj: StoredObject): string {
  return `${obj.metadata.namespace ?? ''}/${String(obj.metadata.name)}`;
}

/** The event a selector-filtered watch sends for a change, or none. */
function transition(
  matching: Set<string>,
  obj: StoredObject,
  type: string,
  matches: boolean,
): string | undefined {
  const key = objectKeyOf(obj);
  const was = matching.has(key);
  if (type === 'DELETED' || !matches) {
    matching.delete(key);
    return was || (type === 'DELETED' && matches) ? 'DELETED' : undefined;
  }
  matching.add(key);
  return was ? type : 'ADDED';
}

/**
 * Serves one watch as upstream does: a chunked stream of `{"type","object"}` lines, headers
 * flushed at once (kubectl's informers wait for them), ended by the timeout, by the client
 * leaving, or when the reader falls too far behind (it then re-watches from its last RV).
 */
export async function streamWatch(res: AnyResponse, hub: WatchHub, p: WatchParams): Promise<void> {
  const t = p.type;
  const s = storageOf(t);
  const name = p.fieldSelector?.requirements.find(
    (r) => r.field === 'metadata.name' && r.operator === 'Equals',
  )?.value;
  const filter = eventFilter({
    resource: s.resource,
    group: s.group,
    namespace: t.namespaced ? p.namespace : undefined,
    name,
  });
  const watch = hub.watch({ after: p.after, filter, revealSecrets: true });
  const body: StreamedBody = res;

  startStreamedResponse(res, {
    'Content-Type': p.table
      ? `application/json;as=Table;v=${p.table.version};g=meta.k8s.io`
      : 'application/json',
    'Cache-Control': 'no-cache, private',
  });

  let first = true;
  let lastSeen = p.after;
  /** A batch is being written: the hub has counted it all as seen, the body has not had it all. */
  let midBatch = false;
  const encode = (type: string, obj: StoredObject): Buffer => {
    const object = p.table ? toTable(t, [obj], p.table.version, p.table.include, {}, first) : obj;
    first = false;
    return lineOf({ type, object });
  };
  const lines = new WatchLineWriter(body, () => responseGone(res));

  const closed = new Promise<void>((resolve) => res.once('close', resolve));
  const stop = () => watch.stop();
  void closed.then(stop);
  const timeout = setTimeout(stop, p.timeoutMs);
  // No bookmark among the initial ADDED objects (upstream's cacheWatcher sends its initial events
  // before anything from its input): they are the state as of `after`, and a client resuming
  // from a bookmark sent halfway would never get the rest.
  let initialSent = p.initial.length === 0;
  /** Set when the hub's watch has ended, with the error that ended it, if any. */
  let ended: { error?: Error } | undefined;
  let wakeOnEnd: (() => void) | undefined;
  void watch.ended.then((error) => {
    ended = { error };
    wakeOnEnd?.();
  });
  /**
   * Waits for the body to take more, unless the watch ends first (its timeout, the client gone,
   * the hub cutting it off): a client that stops reading but keeps its connection must not
   * hold the watch past its timeout. False when the watch ended; the response then ends too.
   * A failure other than being cut off is thrown, as the watch's iterator would have.
   */
  const drainedBeforeEnd = async (): Promise<boolean> => {
    const blocked = lines.blocked;
    if (blocked && !ended) {
      // Not Promise.race with `watch.ended`: each race would leave a reaction on that promise
      // for the watch's whole life, one per wait.
      await new Promise<void>((resolve) => {
        wakeOnEnd = resolve;
        void blocked.then(resolve);
      });
      wakeOnEnd = undefined;
    }
    if (lines.blocked === undefined) return true;
    if (ended?.error && !(ended.error instanceof WatchTooSlow)) throw ended.error;
    return false;
  };
  const bookmarkTimer = p.bookmarks
    ? setInterval(() => {
        if (!initialSent) return;
        // Mid-batch (waiting for the body to drain), only what was written: a bookmark at the
        // batch's end would come before events older than it, and a resume from it skip them.
        const rv = midBatch ? lastSeen : Math.max(lastSeen, watch.seen);
        lines.write(
          lineOf({
            type: 'BOOKMARK',
            object: { kind: t.kind, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(rv) } },
          }),
        );
      }, p.bookmarkIntervalMs)
    : undefined;

  try {
    for (const obj of p.initial) {
      lines.write(encode('ADDED', obj));
      if (lines.blocked && !(await drainedBeforeEnd())) {
        // Cut short inside the initial objects, which are not in resourceVersion order: a
        // clean end would let the client resume from the last one it got and never see the
        // rest. Broken off, the stream is an error, and the client lists again.
        breakOffResponse(res);
        return;
      }
    }
    initialSent = true;
    let expired = false;
    for await (const batch of watch.batches()) {
      if (responseGone(res) || expired) break;
      midBatch = true;
      for (const item of batch) {
        if (item.kind === 'bookmark') {
          lastSeen = item.seq;
          continue;
        }
        const e = item.event;
        lastSeen = e.seq;
        if (!e.object) {
          // Retention dropped this superseded payload (Leases, Events): the range is gone for
          // watches; the client relists (upstream's 410 Expired as an ERROR event).
          const status = new StatusError('Expired', `too old resource version: ${p.after} (${e.seq})`);
          lines.gather(lineOf({ type: 'ERROR', object: status.toStatus() }));
          expired = true;
          break;
        }
        if (t.namespaced && p.namespace && e.namespace !== p.namespace) continue;
        // Every watch of this kind gets the same served object: made once per event, not per watch.
        const memo = memoOf(e);
        const shared = sharedOf(memo, t);
        const obj = (shared.object ??= toServed(t, e.object as StoredObject));
        const matches =
          (!p.labelSelector || matchesLabels(p.labelSelector, obj.metadata.labels)) &&
          (!p.fieldSelector || matchesFields(p.fieldSelector, obj));
        const type = p.matching ? transition(p.matching, obj, e.type, matches) : matches ? e.type : undefined;
        if (type === undefined) continue;
        lines.gather(
          p.table || type !== e.type
            ? encode(type, obj)
            : (shared.line ??= lineOf({ type: e.type, object: obj })),
        );
        p.onDelivery?.((Date.now() - memo.committedAt) / 1000);
        // A watch far behind is handed thousands of events at once: written in full, they would
        // sit in the body's buffer rather than in the hub's queue, which bounds them.
        if (lines.blocked && !(await drainedBeforeEnd())) return;
      }
      midBatch = false;
      // The burst is whole: written now, not at the end of the turn. A hand-over to hundreds
      // of watches would otherwise run every watch's batch before any of them wrote.
      lines.flush();
      // While the body takes no more, the hub holds (and, past its limit, cuts) the watch.
      if (lines.blocked && !(await drainedBeforeEnd())) return;
    }
  } catch (e) {
    // A reader too slow to keep up is cut off; it resumes from the last resourceVersion it saw.
    if (!(e instanceof WatchTooSlow)) throw e;
  } finally {
    clearTimeout(timeout);
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    watch.stop();
    lines.flush();
    if (!responseGone(res)) body.end();
  }
}

/**
 * One watch event as its newline-terminated JSON line, in memory of its own: a shared line lives
 * as long as the watch ring keeps its event, and a small Buffer.from would pin a whole 8 KiB
 * slab of Node's pool for that long.
 */
function lineOf(event: { type: string; object: unknown }): Buffer {
  const text = `${JSON.stringify(event)}\n`;
  const line = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  line.write(text);
  return line;
}
