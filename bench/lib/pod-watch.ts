import { request } from 'node:https';

import { type ApiServerProcess } from './api-server-process.js';

export interface WatchedObject {
  metadata: { name: string; namespace?: string; resourceVersion: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { state?: { running?: unknown } }[];
  };
}

/** The pods the node and scheduler benches watch. */
export type WatchedPod = WatchedObject;

/**
 * Watches `path` (a list URL) from `rv` and records when each object first satisfies
 * `reached`; a watch the server ends (timeout, a reader too slow) is opened again from the
 * last resourceVersion. `all` resolves once `want` objects have reached it.
 */
export function watchUntil(
  server: Pick<ApiServerProcess, 'url' | 'caCert' | 'token'>,
  path: string,
  rv: string,
  want: number,
  reached: (o: WatchedObject) => boolean,
  /** Sees every ADDED/MODIFIED/DELETED event, with when it arrived (for what `reached` cannot tell). */
  onEvent?: (type: string, o: WatchedObject, at: number) => void,
) {
  const reachedAt = new Map<string, number>();
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  let last = rv;
  let closed = false;
  let current: ReturnType<typeof request> | undefined;
  const open = () => {
    if (closed) return;
    const sep = path.includes('?') ? '&' : '?';
    current = request(
      new URL(`${path}${sep}watch=1&resourceVersion=${last}`, server.url),
      { ca: server.caCert, headers: { authorization: `Bearer ${server.token}` }, agent: false },
      (res) => {
        let partial = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const now = performance.now();
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            if (!line) continue;
            const e = JSON.parse(line) as { type: string; object: WatchedObject };
            if (e.type === 'ERROR') continue;
            last = e.object.metadata.resourceVersion;
            if (e.type === 'BOOKMARK') continue;
            onEvent?.(e.type, e.object, now);
            const { name } = e.object.metadata;
            if (!reachedAt.has(name) && reached(e.object)) {
              reachedAt.set(name, now);
              if (reachedAt.size >= want) done();
            }
          }
        });
        res.on('end', () => setTimeout(open, 10));
      },
    );
    current.on('error', () => setTimeout(open, 100));
    current.end();
  };
  open();
  return {
    reachedAt,
    all,
    close: () => {
      closed = true;
      current?.destroy();
    },
  };
}

/** A namespace's pods, as `watchUntil` follows them. */
export function watchPodsUntil(
  server: Pick<ApiServerProcess, 'url' | 'caCert' | 'token'>,
  namespace: string,
  rv: string,
  want: number,
  reached: (pod: WatchedObject) => boolean,
) {
  return watchUntil(server, `/api/v1/namespaces/${namespace}/pods`, rv, want, reached);
}

/** Waits for `p` (a watch's `all`), at most `ms`; the timer goes with it (a pending one would keep the bench from exiting). */
export async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
