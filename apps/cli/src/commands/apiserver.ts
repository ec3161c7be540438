import { startApiServer } from '../../../api-server/src/api-server.js';

export interface ApiServerCommandOptions {
  databaseUrl: string;
  natsUrl: string;
  pkiDir: string;
  host?: string;
  port: number;
  kubeconfig?: string;
}

/** Runs the API server in this process until SIGTERM; prints the ready line supervisors wait for. */
export async function apiserver(o: ApiServerCommandOptions): Promise<number> {
  const server = await startApiServer({
    databaseUrl: o.databaseUrl,
    natsUrl: o.natsUrl,
    pkiDir: o.pkiDir,
    host: o.host,
    port: o.port,
    kubeconfigPath: o.kubeconfig,
  });
  process.stdout.write(`api-server listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
  return 0;
}
