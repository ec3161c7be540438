import { type Address } from './tcp-measure.js';
import { forkWorker, whenReady } from './worker-process.js';

/** The reference pipe proxy in its own process (see pipe-proxy-worker.ts), on 127.0.0.1. */
export async function startPipeProxy(
  backends: Address[],
): Promise<{ at: Address; pid: number; stop(): Promise<void> }> {
  const worker = await whenReady<number>(
    'the reference pipe proxy',
    forkWorker(
      'bench/lib/pipe-proxy-worker.ts',
      backends.map((b) => `${b.host}:${b.port}`),
    ),
  );
  return { at: { host: '127.0.0.1', port: worker.ready }, pid: worker.pid, stop: worker.stop };
}
