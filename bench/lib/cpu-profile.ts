import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * Records a V8 CPU profile of this process around `work` and writes it to `file` (open it in
 * Chrome DevTools or summarise it with `npm run bench -- profile-summary <file>`). In-process
 * through the inspector, so it works under any loader (tsx), unlike `node --cpu-prof`.
 */
export async function withCpuProfile<T>(file: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!file) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
    process.stderr.write(`[bench] CPU profile written to ${file}\n`);
  }
}

/**
 * Node flags that make a process the bench starts (a component, a watch worker) write a V8 CPU
 * profile into WAKE_BENCH_PROFILE_DIR when it exits; none when that is unset. With
 * WAKE_BENCH_PROFILE_ONLY (comma-separated: `apiserver`, `relay`, `watch-worker`, ...) only
 * those are profiled: the profiler's own cost in every process would change what is measured.
 */
export function childProfileFlags(kind: string): string[] {
  const dir = process.env.WAKE_BENCH_PROFILE_DIR;
  const only = process.env.WAKE_BENCH_PROFILE_ONLY?.split(',').map((k) => k.trim());
  if (!dir || (only && !only.includes(kind))) return [];
  return ['--cpu-prof', '--cpu-prof-dir', dir];
}
