import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { startComponent } from './component-process.js';

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
  const component = await startComponent(
    'API server',
    ['apiserver', '--database-url', databaseUrl, '--nats-url', natsUrl, '--pki-dir', pkiDir, '--port', '0'],
    /api-server listening on \S+\n/,
  );
  const url = /api-server listening on (\S+)/.exec(component.readyOutput)?.[1] ?? '';
  const caCert = await readFile(join(pkiDir, 'ca.crt'), 'utf8');
  const tokens = await readFile(join(pkiDir, 'tokens.csv'), 'utf8');
  const token =
    tokens
      .split('\n')
      .find((l) => l.split(',')[1] === 'admin')
      ?.split(',')[0] ?? '';
  return { url, caCert, token, pid: component.pid, stop: () => component.stop() };
}
