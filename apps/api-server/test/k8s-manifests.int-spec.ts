import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';

import { findRepoRoot } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}

type PodSpec = {
  containers: { name: string; terminationMessagePath?: string; imagePullPolicy?: string }[];
  restartPolicy?: string;
  dnsPolicy?: string;
  schedulerName?: string;
};

const DIR = join(findRepoRoot(), 'k8s-manifests');

/**
 * k8s-manifests/ against a running Wake with the real kubectl: `kubectl apply --dry-run=server`
 * accepts every object, and what comes back has the API server's defaults filled in, as it
 * would be stored. The files still marked .pending (components not built yet) are checked too.
 */
describe('k8s-manifests', () => {
  let cluster: ApiCluster;
  /** Every object of the directory, with whether its file is still .pending. */
  let sent: (Manifest & { pending: boolean })[];

  beforeAll(async () => {
    cluster = await startApiCluster();
    const files = (await readdir(DIR)).filter((f) => /\.ya?ml(\.pending)?$/.test(f)).sort();
    sent = [];
    for (const f of files) {
      const objects = yaml.loadAll(await readFile(join(DIR, f), 'utf8')) as Manifest[];
      sent.push(...objects.map((m) => ({ ...m, pending: f.endsWith('.pending') })));
    }
    // A dry run creates nothing, so the objects in it would find no namespace `wake`: it is
    // made for real first, as `kubectl apply -f k8s-manifests/` makes it before the rest.
    const ns = await cluster.kubectl(33, ['apply', '-f', join(DIR, '00-namespace.yaml')]);
    expect(ns).toMatchObject({ code: 0, stdout: 'namespace/wake created\n' });
  });

  afterAll(async () => {
    await cluster?.close();
  });

  async function dryRun(args: string[], input?: string): Promise<Manifest[]> {
    const r = await cluster.kubectl(33, ['apply', '--dry-run=server', '-o', 'json', ...args], { input });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const out = JSON.parse(r.stdout) as Manifest | { kind: 'List'; items: Manifest[] };
    return 'items' in out ? out.items : [out];
  }

  it('accepts every object of the directory, and stores none of them', async () => {
    const accepted = await dryRun(['-f', DIR]);
    const key = (m: Manifest) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
    const applied = sent.filter((m) => !m.pending);
    expect(accepted.map(key).sort()).toEqual(applied.map(key).sort());
    // Dry run: nothing but the namespace exists afterwards.
    const deployments = await cluster.kubectl(33, [
      'get',
      'deployments,statefulsets,daemonsets',
      '-n',
      'wake',
    ]);
    expect(deployments).toMatchObject({ code: 0, stdout: '' });
    expect(deployments.stderr).toContain('No resources found');
  });

  it('has no pending manifest left: the proxy DaemonSet is among those applied', async () => {
    const pending = sent.filter((m) => m.pending).map(({ pending: _pending, ...m }) => m);
    // None left: every component has landed.
    expect(pending.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([]);
    expect(sent.map((m) => `${m.kind}/${m.metadata.name}`)).toContain('DaemonSet/wake-proxy');
  });

  it('fills in the defaults: Deployment strategy, StatefulSet policies, container fields', async () => {
    const accepted = await dryRun(['-f', DIR]);
    const find = (kind: string, name: string) => {
      const m = accepted.find((o) => o.kind === kind && o.metadata.name === name);
      if (!m) throw new Error(`${kind}/${name} not in the dry run's answer`);
      return m.spec as Record<string, unknown> & { template: { spec: PodSpec } };
    };
    const apiserver = find('Deployment', 'wake-apiserver');
    expect(apiserver).toMatchObject({
      replicas: 3,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    expect(apiserver.template.spec).toMatchObject({
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
    });
    expect(apiserver.template.spec.containers[0]).toMatchObject({
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: 'IfNotPresent',
    });

    // Left unset here: OrderedReady; NATS asks for Parallel and keeps it.
    expect(find('StatefulSet', 'wake-postgres')).toMatchObject({
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
    });
    const nats = find('StatefulSet', 'wake-nats');
    expect(nats).toMatchObject({ replicas: 3, podManagementPolicy: 'Parallel' });
    expect(nats.template.spec.containers[0]).toMatchObject({
      terminationMessagePath: '/dev/termination-log',
    });

    expect(find('DaemonSet', 'wake-node-agent')).toMatchObject({
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
    });
    for (const name of ['wake-scheduler', 'wake-controller-manager', 'wake-relay'])
      expect(find('Deployment', name)).toMatchObject({ replicas: 2 });
  });

  it('keeps the event stream R3 on the three-server NATS: the relay asks for three replicas', () => {
    const relay = sent.find((m) => m.kind === 'Deployment' && m.metadata.name === 'wake-relay')!;
    const args = (relay.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec
      .containers[0]!.args;
    expect(args).toContain('--stream-replicas=3');
    const config = sent.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'wake-nats') as unknown as {
      data: Record<string, string>;
    };
    const routes = config.data['nats.conf']!.match(/nats:\/\/wake-nats-\d\.wake-nats\.wake\.svc:6222/g);
    expect(routes).toHaveLength(3);
    expect(config.data['nats.conf']).toContain('jetstream');
  });
});
