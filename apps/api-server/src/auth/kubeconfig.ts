import { writeFile } from 'node:fs/promises';

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
