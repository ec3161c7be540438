import { request } from 'node:https';

import { type ApiServerProcess } from './api-server-process.js';

export interface WatchedPod {
  metadata: { name: string; resourceVersion: string };
  spec?: { nodeName?: string };
  status?: {
    containerStatuses?: { state?: { running?: unknown } }[];
  };
}

/**
 * Watches a namespace's pods from `rv` and records when each first satisfies `reached`; a
 * watch the server ends (timeout, a reader too slow) is opened again from the last
 * resourceVersion. `all` resolves once `want` pods have reached it.
 */
export function watchPodsUntil(
  server: Pick<ApiServerProcess, 'url' | 'caCert' | 'token'>,
  namespace: string,
  rv: string,
  want: number,
  reached: (pod: WatchedPod) => boolean,
) {
  const reachedAt = new Map<string, number>();
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  let last = rv;
  let closed = false;
  let current: ReturnType<typeof request> | undefined;
  const open = () => {
    if (closed) return;
    current = request(
      new URL(`/api/v1/namespaces/${namespace}/pods?watch=1&resourceVersion=${last}`, server.url),
      { ca: server.caCert, headers: { authorization: `Bearer ${server.token}` }, agent: false },
      (res) => {
        let partial = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const now = performance.now();
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            const e = JSON.parse(line) as { object: WatchedPod };
            last = e.object.metadata.resourceVersion;
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
