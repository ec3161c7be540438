import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type * as HarnessServers from './harness-servers.js';

export default async function globalTeardown(): Promise<void> {
  const { tsImport } = await import('tsx/esm/api');
  const setup = resolve('test/harness/harness-servers.ts');
  const mod = (await tsImport(pathToFileURL(setup).href, pathToFileURL(setup).href)) as typeof HarnessServers;
  await mod.stopHarnessServers();
}
