import { withCpuProfile } from './lib/cpu-profile.js';

/** What the environment changes in the components a bench starts (see bench/lib/component-process.ts). */
const ENVIRONMENT = `environment, for the components a bench starts (API server, relay, ...):
  WAKE_BENCH_PROFILE_DIR=DIR   each writes a V8 CPU profile into DIR when it stops
  WAKE_BENCH_PROFILE_ONLY=LIST only these do (apiserver, relay, watch-worker, ...: comma-separated)
  WAKE_BENCH_NODE_FLAGS=FLAGS  more node flags, space-separated (e.g. --trace-gc); they win over Wake's own
  WAKE_BENCH_OUTPUT_DIR=DIR    each one's whole stdout and stderr also go to DIR/<name>.log`;

/**
 * `npm run bench -- <name> [options]`: runs one benchmark, prints a readable summary and
 * writes bench/results/<name>.json.
 */
const BENCHES: Record<string, () => Promise<{ run(argv: string[]): Promise<void>; description: string }>> = {
  api: () => import('./api.bench.js'),
  authz: () => import('./authz.bench.js'),
  'event-bus': () => import('./event-bus.bench.js'),
  'event-store': () => import('./event-store.bench.js'),
  load: () => import('./load.bench.js'),
  node: () => import('./node.bench.js'),
  planner: () => import('./planner.bench.js'),
  'port-forward': () => import('./port-forward.bench.js'),
  proxy: () => import('./proxy.bench.js'),
  scheduler: () => import('./scheduler.bench.js'),
  sim: () => import('./sim.bench.js'),
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h' || !BENCHES[name]) {
    const lines = await Promise.all(
      Object.entries(BENCHES).map(async ([n, load]) => `  ${n.padEnd(14)} ${(await load()).description}`),
    );
    console.log(
      `usage: npm run bench -- <name> [options]   (<name> --help for its options;\n       --cpu-profile FILE records a V8 CPU profile of the run)\n\n${lines.join('\n')}\n\n${ENVIRONMENT}`,
    );
    if (name && name !== '--help' && name !== '-h') {
      console.error(`\nunknown benchmark: ${name}`);
      process.exitCode = 2;
    }
    return;
  }
  const profileAt = rest.indexOf('--cpu-profile');
  const profile = profileAt >= 0 ? rest.splice(profileAt, 2)[1] : undefined;
  const bench = await BENCHES[name]();
  await withCpuProfile(profile, () => bench.run(rest));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
