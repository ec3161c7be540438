import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Container, type Pod, type Volume } from '../api-types.js';
import {
  type ConfigMap,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Secret,
} from './kube-types.js';
import { type ObjectSource } from './object-source.js';
import { PodConfigurer } from './pod-configurer.js';
import { type IssuedToken, type TokenRequestSpec, type TokenSource } from './token-manager.js';

/** A cluster's objects in memory; the configurer's file work happens on the real file system. */
class Objects implements ObjectSource {
  configMaps = new Map<string, ConfigMap>();
  secrets = new Map<string, Secret>();
  claims = new Map<string, PersistentVolumeClaim>();
  volumes = new Map<string, PersistentVolume>();
  async configMap(ns: string, name: string) {
    return this.configMaps.get(`${ns}/${name}`);
  }
  async secret(ns: string, name: string) {
    return this.secrets.get(`${ns}/${name}`);
  }
  async services() {
    return [];
  }
  async persistentVolumeClaim(ns: string, name: string) {
    return this.claims.get(`${ns}/${name}`);
  }
  async persistentVolume(name: string) {
    return this.volumes.get(name);
  }
}

class Tokens implements TokenSource {
  requests: { namespace: string; serviceAccount: string; spec: TokenRequestSpec }[] = [];
  async requestToken(
    namespace: string,
    serviceAccount: string,
    spec: TokenRequestSpec,
  ): Promise<IssuedToken> {
    this.requests.push({ namespace, serviceAccount, spec });
    return {
      token: `jwt-${this.requests.length}`,
      expirationTimestamp: new Date(Date.now() + 3600_000).toISOString(),
      expirationSeconds: 3600,
    };
  }
}

describe('PodConfigurer volume and container rules (real files, in-memory objects)', () => {
  let root: string;
  let socketServer: Server;
  const objects = new Objects();
  const tokens = new Tokens();
  let configurer: PodConfigurer;
  let n = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'wake-configurer-'));
    configurer = new PodConfigurer(objects, tokens, { podsDir: join(root, 'pods') });
    objects.configMaps.set('ns/ca', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ca' },
      data: { 'ca.crt': 'CERT' },
    });
    objects.secrets.set('ns/s', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { k: Buffer.from('v').toString('base64') },
    });
    socketServer = createServer();
    await new Promise<void>((r) => socketServer.listen(join(root, 'agent.sock'), r));
  });
  afterAll(async () => {
    await new Promise((r) => socketServer.close(r));
    await rm(root, { recursive: true, force: true });
  });

  const pod = (volumes: Volume[], spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: `uid-${++n}`, labels: { a: 'b' } },
    spec: { containers: [], volumes, serviceAccountName: 'robot', ...spec },
  });
  const container = (extra: Partial<Container> = {}): Container => ({ name: 'c', image: 'i', ...extra });

  it('projects a bound token, a ConfigMap, a Secret and downward API fields into one volume', async () => {
    const p = pod([
      {
        name: 'api',
        projected: {
          defaultMode: 0o644,
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3607, audience: 'vault' } },
            { configMap: { name: 'ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { secret: { name: 's' } },
            { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
          ],
        },
      },
    ]);
    await configurer.preparePod(p);
    await configurer.preparePod(p);
    const dir = join(configurer.podDir(p.metadata!.uid!), 'volumes', 'kubernetes.io~projected', 'api');
    expect(await readFile(join(dir, 'token'), 'utf8')).toBe('jwt-1');
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe('CERT');
    expect(await readFile(join(dir, 'k'), 'utf8')).toBe('v');
    expect(await readFile(join(dir, 'labels'), 'utf8')).toBe('a="b"');
    // One request for both syncs, as the kubelet's token manager: bound to the pod, for its account.
    expect(tokens.requests).toEqual([
      {
        namespace: 'ns',
        serviceAccount: 'robot',
        spec: {
          audiences: ['vault'],
          expirationSeconds: 3607,
          boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: p.metadata!.uid },
        },
      },
    ]);
    const spec = await configurer.containerSpec(
      p,
      container({ volumeMounts: [{ name: 'api', mountPath: '/run/api' }] }),
    );
    expect(spec.mounts).toContainEqual({ hostPath: dir, containerPath: '/run/api', readOnly: true });
  });

  it('reports every failing projected source and key', async () => {
    const p = pod([
      {
        name: 'bad',
        projected: {
          sources: [
            { configMap: { name: 'none' } },
            { secret: { name: 's', items: [{ key: 'nokey', path: 'x' }] } },
            { configMap: { name: 'none', optional: true } },
          ],
        },
      },
    ]);
    await expect(configurer.preparePod(p)).rejects.toMatchObject({
      name: 'VolumeSetupError',
      message:
        'MountVolume.SetUp failed for volume "bad" : [configmap "none" not found, references non-existent secret key: nokey]',
    });
  });

  it('checks hostPath types as upstream', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    const check = (path: string, type: NonNullable<NonNullable<Volume['hostPath']>['type']>) =>
      configurer.preparePod(pod([{ name: 'h', hostPath: { path, type } }]));
    await expect(check(file, 'Directory')).rejects.toThrow(
      `hostPath type check failed: ${file} is not a directory`,
    );
    await expect(check(root, 'File')).rejects.toThrow(`hostPath type check failed: ${root} is not a file`);
    await expect(check(file, 'Socket')).rejects.toThrow(
      `hostPath type check failed: ${file} is not a socket file`,
    );
    await expect(check(file, 'CharDevice')).rejects.toThrow('is not a character device');
    // @ts-expect-error: a type the API would not accept
    await expect(check(file, 'Nonsense')).rejects.toThrow('Nonsense is an invalid volume type');
    await expect(check(join(root, 'missing'), 'Directory')).rejects.toThrow('is not a directory');
    await check(join(root, 'agent.sock'), 'Socket');
    await check('/dev/null', 'CharDevice');
    await check(join(root, 'made/deep'), 'DirectoryOrCreate');
    expect((await stat(join(root, 'made/deep'))).isDirectory()).toBe(true);
    await check(join(root, 'made/new-file'), 'FileOrCreate');
    expect((await stat(join(root, 'made/new-file'))).isFile()).toBe(true);
    await expect(check(join(root, 'no-parent/f'), 'FileOrCreate')).rejects.toThrow();
    // Unset: nothing is checked.
    await check(join(root, 'whatever'), '');
  });

  it('resolves a PVC only when it is bound to a PV that claims it', async () => {
    const hostDir = join(root, 'pv');
    await mkdir(hostDir);
    const claim = (o: Partial<PersistentVolumeClaim> = {}): PersistentVolumeClaim => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'c', uid: 'claim-uid' },
      spec: { volumeName: 'pv' },
      status: { phase: 'Bound' },
      ...o,
    });
    const volume = (claimRef?: { uid: string }): PersistentVolume => ({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'pv' },
      spec: { hostPath: { path: hostDir }, ...(claimRef ? { claimRef } : {}) },
    });
    const prepare = () =>
      configurer.preparePod(
        pod([{ name: 'data', persistentVolumeClaim: { claimName: 'c', readOnly: true } }]),
      );
    const failsWith = async (why: string) =>
      expect(prepare()).rejects.toMatchObject({
        name: 'VolumeSetupError',
        message: `error processing PVC ns/c: ${why}`,
      });

    await failsWith('failed to fetch PVC from API server: persistentvolumeclaims "c" not found');
    objects.claims.set('ns/c', claim({ status: { phase: 'Pending' } }));
    await failsWith('PVC is not bound');
    objects.claims.set('ns/c', claim({ spec: {} }));
    await failsWith('PVC has empty pvc.Spec.VolumeName');
    objects.claims.set(
      'ns/c',
      claim({ metadata: { name: 'c', uid: 'claim-uid', deletionTimestamp: '2026-01-01T00:00:00Z' } }),
    );
    await failsWith('PVC is being deleted');
    objects.claims.set('ns/c', claim());
    await failsWith('failed to fetch PV pv from API server: persistentvolumes "pv" not found');
    objects.volumes.set('pv', volume());
    await failsWith(
      'found PV object pv but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim',
    );
    objects.volumes.set('pv', volume({ uid: 'other' }));
    await failsWith(
      'found PV object pv but its pv.Spec.ClaimRef.UID (other) does not point to claim.UID (claim-uid)',
    );
    objects.volumes.set('pv', volume({ uid: 'claim-uid' }));
    const p = pod([{ name: 'data', persistentVolumeClaim: { claimName: 'c', readOnly: true } }]);
    await configurer.preparePod(p);
    const spec = await configurer.containerSpec(
      p,
      container({ volumeMounts: [{ name: 'data', mountPath: '/d' }] }),
    );
    expect(spec.mounts).toContainEqual({ hostPath: hostDir, containerPath: '/d', readOnly: true });
  });

  it('makes subPaths inside the volume, expands subPathExpr, and refuses escapes', async () => {
    const p = pod([{ name: 'e', emptyDir: {} }]);
    await configurer.preparePod(p);
    const volume = join(configurer.podDir(p.metadata!.uid!), 'volumes', 'kubernetes.io~empty-dir', 'e');
    const mountOf = async (
      m: Partial<NonNullable<Container['volumeMounts']>[number]>,
      env: Container['env'] = [],
    ) =>
      (
        await configurer.containerSpec(
          p,
          container({ env, volumeMounts: [{ name: 'e', mountPath: '/m', ...m }] }),
        )
      ).mounts![0]!;
    expect(await mountOf({ subPath: 'a/b' })).toEqual({
      hostPath: join(volume, 'a/b'),
      containerPath: '/m',
      readOnly: false,
    });
    expect((await stat(join(volume, 'a/b'))).isDirectory()).toBe(true);
    expect((await mountOf({ subPathExpr: 'logs/$(POD)' }, [{ name: 'POD', value: 'p1' }])).hostPath).toBe(
      join(volume, 'logs/p1'),
    );
    await expect(
      mountOf({ subPathExpr: '$(NOPE)/$(EMPTY)' }, [{ name: 'EMPTY', value: '' }]),
    ).rejects.toMatchObject({ name: 'ContainerConfigError', message: 'missing value for EMPTY, NOPE' });
    await expect(mountOf({ subPath: '/etc' })).rejects.toThrow(
      'error SubPath `/etc` must not be an absolute path',
    );
    await expect(mountOf({ subPath: 'a/../../x' })).rejects.toThrow(
      "unable to provision SubPath `a/../../x`: must not contain '..'",
    );
    await symlink('/etc', join(volume, 'escape'));
    await expect(mountOf({ subPath: 'escape' })).rejects.toThrow('not within volume path');
    await expect(mountOf({ name: 'absent' })).rejects.toThrow(
      'cannot find volume "absent" to mount into container "c"',
    );
  });

  it('takes the user from the container’s security context over the pod’s, as the dockershim', async () => {
    const p = pod([], { securityContext: { runAsUser: 1000, runAsGroup: 100 } });
    expect((await configurer.containerSpec(p, container())).user).toBe('1000:100');
    expect((await configurer.containerSpec(p, container({ securityContext: { runAsUser: 5 } }))).user).toBe(
      '5:100',
    );
    expect((await configurer.containerSpec(pod([]), container())).user).toBeUndefined();
    await expect(
      configurer.containerSpec(pod([]), container({ securityContext: { runAsGroup: 7 } })),
    ).rejects.toMatchObject({
      name: 'ContainerConfigError',
      message: 'runAsGroup is specified without a runAsUser',
    });
    await expect(
      configurer.containerSpec(pod([]), container({ securityContext: { runAsUser: 0, runAsNonRoot: true } })),
    ).rejects.toThrow("container's runAsUser breaks non-root policy");
  });

  it('shares the PID namespace only when the pod asks, and passes tty, stdin and workingDir through', async () => {
    const spec = await configurer.containerSpec(
      pod([], { shareProcessNamespace: true }),
      container({
        tty: true,
        stdin: true,
        stdinOnce: true,
        workingDir: '/w',
        command: ['a'],
        args: ['$(X)'],
      }),
    );
    expect(spec).toMatchObject({
      tty: true,
      stdin: true,
      stdinOnce: true,
      workingDir: '/w',
      command: ['a'],
      args: ['$(X)'],
    });
    // Whose PID namespace a container joins is the pod workers' (pidNamespace), not the configurer's.
    expect(spec.pid).toBeUndefined();
  });
});
