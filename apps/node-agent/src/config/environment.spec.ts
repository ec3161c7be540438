import { describe, expect, it } from '@jest/globals';

import { type Container, type Pod } from '../api-types.js';
import { type EnvironmentInputs, makeEnvironment } from './environment.js';
import { type ConfigMap, type Secret, type Service } from './kube-types.js';
import { type ObjectSource } from './object-source.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The objects of a small cluster, in memory: env building is pure logic over them. */
class Objects implements ObjectSource {
  configMaps = new Map<string, ConfigMap>();
  secrets = new Map<string, Secret>();
  serviceList: Service[] = [];
  reads: string[] = [];

  async configMap(ns: string, name: string) {
    this.reads.push(`cm ${ns}/${name}`);
    return this.configMaps.get(`${ns}/${name}`);
  }
  async secret(ns: string, name: string) {
    this.reads.push(`secret ${ns}/${name}`);
    return this.secrets.get(`${ns}/${name}`);
  }
  async services(ns: string) {
    return this.serviceList.filter((s) => s.metadata?.namespace === ns);
  }
  async persistentVolumeClaim() {
    return undefined;
  }
  async persistentVolume() {
    return undefined;
  }
}

function setup() {
  const objects = new Objects();
  objects.configMaps.set('shop/settings', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings' },
    data: { MODE: 'fast', LEVEL: '3', '1bad': 'x', 'has space': 'y' },
  });
  objects.secrets.set('shop/creds', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'creds' },
    data: { PASSWORD: b64('s3cret'), MODE: b64('from-secret') },
  });
  objects.serviceList = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default' },
      spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db', namespace: 'shop' },
      spec: { clusterIP: '10.96.0.7', ports: [{ port: 5432 }] },
    },
  ];
  const warnings: string[] = [];
  const inputs: EnvironmentInputs = {
    objects,
    addresses: { hostIPs: ['192.168.1.5'], podIPs: ['172.17.0.3'] },
    allocatable: { cpu: '4', memory: '8Gi' },
    warn: (reason, message) => warnings.push(`${reason}: ${message}`),
  };
  return { objects, inputs, warnings };
}

const pod = (containers: Container[], spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web' } },
  spec: { containers, nodeName: 'node-a', ...spec },
});

describe('a container’s environment (kubelet makeEnvironmentVariables)', () => {
  it('puts envFrom first (later sources win), then env in order with $(VAR) expansion, then Service variables', async () => {
    const { inputs, warnings } = setup();
    const c: Container = {
      name: 'app',
      envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'creds' }, prefix: 'S_' }],
      env: [
        { name: 'GREETING', value: 'mode=$(MODE) db=$(DB_SERVICE_HOST) $(UNKNOWN) $$(MODE)' },
        { name: 'MODE', value: 'overridden' },
        { name: 'AFTER', value: '$(MODE)' },
        { name: 'DB_SERVICE_HOST', value: 'mine' },
        { name: 'EMPTY', value: '' },
      ],
    };
    const env = await makeEnvironment(pod([c]), c, inputs);
    expect(env).toMatchObject({
      LEVEL: '3',
      S_PASSWORD: 's3cret',
      S_MODE: 'from-secret',
      GREETING: 'mode=fast db=10.96.0.7 $(UNKNOWN) $(MODE)',
      MODE: 'overridden',
      AFTER: 'overridden',
      DB_SERVICE_HOST: 'mine',
      EMPTY: '',
      DB_SERVICE_PORT: '5432',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
    });
    // envFrom keys that are no variable names are skipped, with upstream's warning.
    expect(env).not.toHaveProperty('1bad');
    expect(env).not.toHaveProperty('has space');
    expect(warnings).toEqual([
      'InvalidEnvironmentVariableNames: Keys [1bad, has space] from the EnvFrom configMap shop/settings were skipped since they are considered invalid environment variable names.',
    ]);
    // Declared variables first, Service variables after them.
    const keys = Object.keys(env);
    expect(keys.indexOf('EMPTY')).toBeLessThan(keys.indexOf('KUBERNETES_SERVICE_HOST'));
  });

  it('resolves configMapKeyRef, secretKeyRef, fieldRef and resourceFieldRef, reading each object once', async () => {
    const { inputs, objects } = setup();
    const c: Container = {
      name: 'app',
      resources: { limits: { memory: '64Mi' } },
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LEVEL' } } },
        { name: 'P', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      ],
    };
    const env = await makeEnvironment(pod([c], { enableServiceLinks: false }), c, inputs);
    expect(env).toMatchObject({
      A: 'fast',
      B: '3',
      P: 's3cret',
      NODE: 'node-a',
      IP: '172.17.0.3',
      APP: 'web',
      MEM: '64',
      CPU: '4',
    });
    expect(objects.reads).toEqual(['cm shop/settings', 'secret shop/creds']);
    // No service links: the master Service only.
    expect(env).not.toHaveProperty('DB_SERVICE_HOST');
    expect(env.KUBERNETES_SERVICE_HOST).toBe('10.96.0.1');
  });

  it('leaves optional references that are missing unset', async () => {
    const { inputs } = setup();
    const c: Container = {
      name: 'app',
      envFrom: [
        { configMapRef: { name: 'nope', optional: true } },
        { secretRef: { name: 'nope', optional: true } },
      ],
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nokey', optional: true } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } },
        { name: 'C', valueFrom: { secretKeyRef: { name: 'creds', key: 'nokey', optional: true } } },
      ],
    };
    const env = await makeEnvironment(pod([c]), c, inputs);
    expect(Object.keys(env).filter((k) => !k.includes('SERVICE') && !k.includes('_PORT'))).toEqual([]);
  });

  it.each([
    [
      { configMapKeyRef: { name: 'settings', key: 'nokey' } },
      "couldn't find key nokey in ConfigMap shop/settings",
    ],
    [{ configMapKeyRef: { name: 'nope', key: 'k' } }, 'configmap "nope" not found'],
    [{ secretKeyRef: { name: 'creds', key: 'nokey' } }, "couldn't find key nokey in Secret shop/creds"],
    [{ secretKeyRef: { name: 'nope', key: 'k' } }, 'secret "nope" not found'],
  ])('fails a missing, non-optional reference with upstream’s message: %j', async (valueFrom, message) => {
    const { inputs } = setup();
    const c: Container = { name: 'app', env: [{ name: 'X', valueFrom }] };
    await expect(makeEnvironment(pod([c]), c, inputs)).rejects.toThrow(message);
  });

  it('fails a missing envFrom source and a service listing that fails', async () => {
    const { inputs, objects } = setup();
    const c: Container = { name: 'app', envFrom: [{ secretRef: { name: 'gone' } }] };
    await expect(makeEnvironment(pod([c]), c, inputs)).rejects.toThrow('secret "gone" not found');
    objects.services = async () => {
      throw new Error('connection refused');
    };
    const plain: Container = { name: 'app' };
    await expect(makeEnvironment(pod([plain]), plain, inputs)).rejects.toThrow(
      'failed to list services when setting up env vars',
    );
  });
});
