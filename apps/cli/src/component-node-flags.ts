/**
 * The V8 flags `wake <command>` runs with when Wake starts it (`wake up`, the benches; the
 * compose file and manifests set the same through NODE_OPTIONS).
 *
 * The API server and the scheduler allocate young objects per request and per event, thousands
 * a second. V8's default semi-space (16 MB) makes them scavenge every few milliseconds and
 * promote objects that die soon after, which then cost full collections. At 64 MB the API
 * server spent 6–10 % less CPU per write (`npm run bench -- api`, `-- scheduler`, A/B runs);
 * the other components idle most of the time and keep the default, and its smaller heap.
 */
const THROUGHPUT_FLAGS = ['--max-semi-space-size=64'];
const THROUGHPUT_COMMANDS = new Set(['apiserver', 'scheduler']);

export function nodeFlagsFor(command: string | undefined): string[] {
  return command !== undefined && THROUGHPUT_COMMANDS.has(command) ? THROUGHPUT_FLAGS : [];
}
