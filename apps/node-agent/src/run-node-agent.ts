import { NestFactory } from '@nestjs/core';

import { readKubeconfig } from '@app/client';
import { createLogger, NestPinoLogger } from '@app/logging';

import { NodeAgent, type NodeAgentConfig, NodeAgentModule } from './node-agent.module.js';

/** The line supervisors and scripts wait for. */
export const NODE_AGENT_READY_LINE = 'node agent ready';

export interface RunningNodeAgent {
  agent: NodeAgent;
  close(): Promise<void>;
}

/** Starts a node agent (node registered, heartbeats running, pods synced) in this process. */
export async function startNodeAgent(config: NodeAgentConfig): Promise<RunningNodeAgent> {
  const app = await NestFactory.createApplicationContext(NodeAgentModule.forRoot(config), {
    logger: new NestPinoLogger(createLogger('node-agent')),
  });
  await app.init();
  return { agent: app.get(NodeAgent), close: () => app.close() };
}

/** `wake node-agent`: runs until SIGTERM/SIGINT, then stops, leaving its pods running. */
export async function runNodeAgent(
  o: Omit<NodeAgentConfig, 'connection'> & { kubeconfig: string },
): Promise<number> {
  const connection = await readKubeconfig(o.kubeconfig);
  const running = await startNodeAgent({ ...o, connection });
  const metrics = running.agent.metricsUrl;
  process.stdout.write(
    `${NODE_AGENT_READY_LINE} as node ${o.nodeName}${metrics ? `, metrics at ${metrics}/metrics` : ''}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await running.close();
  return 0;
}
