import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type * as HarnessServers from './harness-servers.js';

/**
 * Jest loads global setup outside its module system, where neither TypeScript sources nor the
 * @app/* aliases resolve; tsx loads the real setup module with both.
 */
export default async function globalSetup(): Promise<void> {
  const { tsImport } = await import('tsx/esm/api');
  const setup = resolve('test/harness/harness-servers.ts');
  const mod = (await tsImport(pathToFileURL(setup).href, pathToFileURL(setup).href)) as typeof HarnessServers;
  await mod.startHarnessServers();
}
