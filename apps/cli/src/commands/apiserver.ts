import { runApiServer } from '../../../api-server/src/run-api-server.js';

export interface ApiServerCommandOptions {
  databaseUrl: string;
  natsUrl: string;
  pkiDir: string;
  host?: string;
  port: number;
  kubeconfig?: string;
  tlsSans?: string[];
  allowSha1TlsSignatures?: boolean;
  externalKubeconfig?: { path: string; server: string };
  componentKubeconfigs?: string;
}

/** `wake apiserver`: the API server in this process until SIGTERM (as `wake up` supervises it). */
export function apiserver(o: ApiServerCommandOptions): Promise<number> {
  return runApiServer({
    databaseUrl: o.databaseUrl,
    natsUrl: o.natsUrl,
    pkiDir: o.pkiDir,
    host: o.host,
    port: o.port,
    kubeconfigPath: o.kubeconfig,
    servingIps: o.tlsSans,
    allowSha1TlsSignatures: o.allowSha1TlsSignatures,
    externalKubeconfig: o.externalKubeconfig,
    componentKubeconfigDir: o.componentKubeconfigs,
  });
}
