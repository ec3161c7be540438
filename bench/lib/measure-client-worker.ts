// The proxy bench's client inside a pod network namespace (started by startNetnsClient through
// `ip netns exec`): runs the measurement it is asked over IPC and replies with its result.
import { type MeasureReply, type MeasureRequest } from './measure-client.js';
import {
  measureConnectionRate,
  measureRoundTrips,
  measureThroughput,
  probeWho,
  roundRobin,
  socketErrors,
} from './tcp-measure.js';

async function measure(m: MeasureRequest): Promise<unknown> {
  switch (m.op) {
    case 'throughput':
      return measureThroughput(roundRobin(m.to), m.o);
    case 'roundTrips':
      return measureRoundTrips(roundRobin(m.to), m.o);
    case 'connectionRate':
      return measureConnectionRate(roundRobin(m.to), m.o);
    case 'who':
      return probeWho(m.to[0]!);
  }
}

/** The reply, with the socket errors since the previous one (the parent adds them to its own). */
function reply(r: Omit<MeasureReply, 'socketErrors'>): void {
  process.send?.({ ...r, socketErrors: { ...socketErrors } } satisfies MeasureReply);
  socketErrors.count = 0;
  socketErrors.first = undefined;
}

process.on('message', (m: MeasureRequest) => {
  void measure(m).then(
    (result) => reply({ id: m.id, result }),
    (e: unknown) => reply({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.send?.('ready');
