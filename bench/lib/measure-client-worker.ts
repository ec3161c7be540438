// The proxy bench's client inside a pod network namespace (started by startNetnsClient through
// `ip netns exec`): runs the measurement it is asked over IPC and replies with its result.
import { type MeasureReply, type MeasureRequest } from './measure-client.js';
import {
  measureConnectionRate,
  measureRoundTrips,
  measureThroughput,
  probeWho,
  roundRobin,
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

process.on('message', (m: MeasureRequest) => {
  void measure(m).then(
    (result) => process.send?.({ id: m.id, result } satisfies MeasureReply),
    (e: unknown) =>
      process.send?.({ id: m.id, error: e instanceof Error ? e.message : String(e) } satisfies MeasureReply),
  );
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.send?.('ready');
