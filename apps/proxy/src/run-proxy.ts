import { NestFactory } from '@nestjs/core';

import { readKubeconfig } from '@app/client';
import { createLogger, NestPinoLogger } from '@app/logging';

import { type HostNetwork } from './netfilter/host-network.js';
import { type ProxyConfig, ProxyModule, ProxyRuntime } from './proxy.module.js';

/** The line supervisors and scripts wait for. */
export const PROXY_READY_LINE = 'proxy ready';

export interface RunningProxy {
  runtime: ProxyRuntime;
  /** Stops listening and removes every rule and route this proxy made. */
  close(): Promise<void>;
}

/** Starts a proxy (rules installed, informers synced, first sync applied) in this process. */
export async function startProxy(
  config: ProxyConfig,
  o: { hostNetwork?: HostNetwork } = {},
): Promise<RunningProxy> {
  const log = createLogger('proxy');
  const app = await NestFactory.createApplicationContext(ProxyModule.forRoot(config, o), {
    logger: new NestPinoLogger(log),
  });
  try {
    await app.init();
  } catch (e) {
    // A half-started proxy still removes what it installed; the start failure is what is thrown.
    await app
      .close()
      .catch((closing: unknown) => log.error({ err: closing as Error }, 'cleaning up after a failed start'));
    throw e;
  }
  return { runtime: app.get(ProxyRuntime), close: () => app.close() };
}

/** `wake proxy`: runs until SIGTERM/SIGINT, then removes its rules and exits. */
export async function runProxy(o: Omit<ProxyConfig, 'connection'> & { kubeconfig: string }): Promise<number> {
  const connection = await readKubeconfig(o.kubeconfig);
  const proxy = await startProxy({ ...o, connection });
  const metrics = proxy.runtime.metricsUrl;
  process.stdout.write(
    `${PROXY_READY_LINE} on ${o.nodeName ?? 'this node'}${metrics ? `, metrics at ${metrics}/metrics` : ''}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await proxy.close();
  return 0;
}
