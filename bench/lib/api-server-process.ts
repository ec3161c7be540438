import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** `wake apiserver` in its own process, as `wake up` runs it; the bench talks to it over HTTPS. */
export interface ApiServerProcess {
  url: string;
  caCert: string;
  token: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startApiServerProcess(
  databaseUrl: string,
  natsUrl: string,
  pkiDir: string,
): Promise<ApiServerProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      // WAKE_BENCH_PROFILE_DIR: a V8 CPU profile of the server, written when it stops.
      ...(process.env.WAKE_BENCH_PROFILE_DIR
        ? ['--cpu-prof', '--cpu-prof-dir', process.env.WAKE_BENCH_PROFILE_DIR]
        : []),
      resolve('apps/cli/src/main.ts'),
      'apiserver',
      '--database-url',
      databaseUrl,
      '--nats-url',
      natsUrl,
      '--pki-dir',
      pkiDir,
      '--port',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /api-server listening on (\S+)/.exec(out);
      if (m) resolveUrl(m[1]);
    });
    void exited.then((code) => reject(new Error(`the API server exited (${code}): ${stderr}`)));
  });
  const caCert = await readFile(join(pkiDir, 'ca.crt'), 'utf8');
  const tokens = await readFile(join(pkiDir, 'tokens.csv'), 'utf8');
  const token =
    tokens
      .split('\n')
      .find((l) => l.split(',')[1] === 'admin')
      ?.split(',')[0] ?? '';
  return {
    url,
    caCert,
    token,
    pid: child.pid as number,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
