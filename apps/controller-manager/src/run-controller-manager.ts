import { readFile } from 'node:fs/promises';

import { NestFactory } from '@nestjs/core';

import { readKubeconfig } from '@app/client';
import { createLogger, NestPinoLogger } from '@app/logging';

import {
  type ControllerManagerConfig,
  ControllerManagerModule,
  ControllerManagerRuntime,
} from './controller-manager.module.js';

/** The line supervisors and scripts wait for. */
export const CONTROLLER_MANAGER_READY_LINE = 'controller-manager ready';

export interface RunningControllerManager {
  runtime: ControllerManagerRuntime;
  close(): Promise<void>;
}

/** Starts a controller manager (informers synced, campaigning or running its controllers) in this process. */
export async function startControllerManager(
  config: ControllerManagerConfig,
): Promise<RunningControllerManager> {
  const app = await NestFactory.createApplicationContext(ControllerManagerModule.forRoot(config), {
    logger: new NestPinoLogger(createLogger('controller-manager')),
  });
  await app.init();
  return { runtime: app.get(ControllerManagerRuntime), close: () => app.close() };
}

/** `wake controller-manager`: runs until SIGTERM/SIGINT, or until it loses the lease (exit 1, like upstream). */
export async function runControllerManager(
  o: Omit<ControllerManagerConfig, 'connection' | 'onLostLeadership' | 'rootCa'> & {
    kubeconfig: string;
    /** --root-ca-file: published instead of the kubeconfig's CA (upstream's rootCA). */
    rootCaFile?: string;
  },
): Promise<number> {
  const { rootCaFile, kubeconfig, ...config } = o;
  const connection = await readKubeconfig(kubeconfig);
  const rootCa = rootCaFile === undefined ? undefined : await readFile(rootCaFile, 'utf8');
  let lost!: () => void;
  const lostLease = new Promise<void>((resolve) => (lost = resolve));
  const cm = await startControllerManager({ ...config, connection, rootCa, onLostLeadership: lost });
  const metrics = cm.runtime.metricsUrl;
  process.stdout.write(
    `${CONTROLLER_MANAGER_READY_LINE} as ${cm.runtime.identity}${metrics ? `, metrics at ${metrics}/metrics` : ''}\n`,
  );
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const why = await Promise.race([signalled.then(() => 'signal'), lostLease.then(() => 'lease')]);
  await cm.close();
  return why === 'lease' ? 1 : 0;
}
