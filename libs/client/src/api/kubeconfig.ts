import { readFile, writeFile } from 'node:fs/promises';

import yaml from 'js-yaml';

import { type ApiConnection } from './api-client.js';

interface Named<T> {
  name: string;
  [key: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

/**
 * The connection of a kubeconfig's current context (or `context`): server, CA and bearer
 * token — what `wake up` and the API server write, and what Wake's components read. Client
 * certificates and exec plugins are not supported: Wake's components authenticate by token.
 */
export function connectionFromKubeconfig(text: string, context?: string): ApiConnection {
  const doc = yaml.load(text) as {
    'current-context'?: string;
    contexts?: Named<{ cluster: string; user: string }>[];
    clusters?: Named<{ server: string; 'certificate-authority-data'?: string }>[];
    users?: Named<{ token?: string }>[];
  };
  const wanted = context ?? doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === wanted)?.context;
  if (!ctx) throw new Error(`kubeconfig: no context ${JSON.stringify(wanted)}`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx.user)?.user;
  if (!cluster?.server) throw new Error(`kubeconfig: context ${wanted} names no cluster with a server`);
  if (!user?.token) throw new Error(`kubeconfig: context ${wanted} names no user with a token`);
  const ca = cluster['certificate-authority-data'];
  if (!ca) throw new Error(`kubeconfig: cluster ${ctx.cluster} has no certificate-authority-data`);
  return { server: cluster.server, caCert: Buffer.from(ca, 'base64').toString('utf8'), token: user.token };
}

export async function readKubeconfig(path: string, context?: string): Promise<ApiConnection> {
  return connectionFromKubeconfig(await readFile(path, 'utf8'), context);
}

/** A kubeconfig for one user of one cluster, as kubectl and client libraries read it. */
export function kubeconfig(o: {
  server: string;
  caCert: string;
  token: string;
  user?: string;
  cluster?: string;
}): string {
  const cluster = o.cluster ?? 'wake';
  const user = o.user ?? 'admin';
  return `apiVersion: v1
kind: Config
clusters:
- name: ${cluster}
  cluster:
    server: ${o.server}
    certificate-authority-data: ${Buffer.from(o.caCert).toString('base64')}
users:
- name: ${user}
  user:
    token: ${o.token}
contexts:
- name: ${user}@${cluster}
  context:
    cluster: ${cluster}
    user: ${user}
    namespace: default
current-context: ${user}@${cluster}
`;
}

export async function writeKubeconfig(path: string, o: Parameters<typeof kubeconfig>[0]): Promise<void> {
  await writeFile(path, kubeconfig(o), { mode: 0o600 });
}
