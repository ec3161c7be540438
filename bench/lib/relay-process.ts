import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** `wake relay` in its own process, as `wake up` runs it. */
export interface RelayProcess {
  stop(): Promise<void>;
}

export async function startRelayProcess(
  databaseUrl: string,
  natsUrl: string,
  stream: { name: string; maxMessages: number },
): Promise<RelayProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      resolve('apps/cli/src/main.ts'),
      'relay',
      '--database-url',
      databaseUrl,
      '--nats-url',
      natsUrl,
      '--stream',
      stream.name,
      '--max-messages',
      String(stream.maxMessages),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  await new Promise<void>((resolveActive, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('relay active') && resolveActive());
    void exited.then((code) => reject(new Error(`the relay exited (${code}): ${stderr}`)));
  });
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
