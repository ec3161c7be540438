import { describe, expect, it } from '@jest/globals';

import { StatusError } from '../errors/index.js';
import { listStrategy } from './patch-strategies.js';
import { applyStrategicMergePatch as smp } from './strategic-merge-patch.js';

const deployment = () => ({
  spec: {
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'shop' } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'nginx:1.25',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
            ports: [{ containerPort: 80, protocol: 'TCP' }],
            resources: { limits: { cpu: '1' } },
          },
          { name: 'sidecar', image: 'busybox' },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    },
  },
});

function badRequest(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    expect((e as StatusError).code).toBe(400);
    return e as StatusError;
  }
  throw new Error('expected a 400');
}

describe('strategic merge patch: what kubectl sends', () => {
  it('set env: adds and changes one variable by name, keeping the order it names', () => {
    const out = smp(deployment(), {
      spec: {
        template: {
          spec: {
            containers: [
              {
                '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }, { name: 'C' }],
                env: [
                  { name: 'B', value: 'two' },
                  { name: 'C', value: '3' },
                ],
                name: 'app',
              },
            ],
          },
        },
      },
    }) as ReturnType<typeof deployment>;
    expect(out.spec.template.spec.containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
    ]);
    expect(out.spec.template.spec.containers[1]).toEqual({ name: 'sidecar', image: 'busybox' });
  });

  it('set resources: merges the resources map of the named container only', () => {
    const out = smp(deployment(), {
      spec: {
        template: {
          spec: {
            containers: [{ name: 'app', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
          },
        },
      },
    }) as ReturnType<typeof deployment>;
    expect(out.spec.template.spec.containers[0].resources).toEqual({
      limits: { cpu: '1' },
      requests: { cpu: '100m', memory: '64Mi' },
    });
  });

  it('rollout restart: adds a template annotation and changes nothing else', () => {
    const before = deployment();
    const out = smp(before, {
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } },
    }) as ReturnType<typeof deployment> & {
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    };
    expect(out.spec.template.metadata).toEqual({
      labels: { app: 'shop' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' },
    });
    expect(out.spec.template.spec).toEqual(before.spec.template.spec);
  });

  it('client-side apply switching strategy type: $retainKeys clears the other branch', () => {
    const out = smp(deployment(), {
      spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } },
    }) as ReturnType<typeof deployment>;
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('a volume changing its source with $retainKeys keeps only the named keys', () => {
    const out = smp(deployment(), {
      spec: {
        template: {
          spec: {
            volumes: [{ $retainKeys: ['configMap', 'name'], name: 'data', configMap: { name: 'cfg' } }],
          },
        },
      },
    }) as ReturnType<typeof deployment>;
    expect(out.spec.template.spec.volumes).toEqual([{ name: 'data', configMap: { name: 'cfg' } }]);
  });

  it('a list element with $patch: replace replaces the whole list', () => {
    const out = smp(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } },
    }) as ReturnType<typeof deployment>;
    expect(out.spec.template.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('a map with $patch: replace replaces the map; $patch: delete removes it', () => {
    const out = smp(deployment(), {
      spec: {
        strategy: { $patch: 'replace', type: 'Recreate' },
        template: { metadata: { $patch: 'delete' } },
      },
    }) as ReturnType<typeof deployment>;
    expect(out.spec.strategy).toEqual({ type: 'Recreate' });
    expect(out.spec.template.metadata).toBeUndefined();
  });

  it('$setElementOrder keeps elements the client did not know of after the ones it names', () => {
    const live = { spec: { containers: [{ name: 'a' }, { name: 'injected' }, { name: 'b' }] } };
    const out = smp(live, {
      spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] },
    }) as typeof live;
    expect(out.spec.containers.map((c) => c.name)).toEqual(['b', 'a', 'injected']);
  });
});

describe('strategic merge patch: merge keys depend on where a list sits', () => {
  it('container ports merge by containerPort, Service ports by port', () => {
    expect(listStrategy('ports', ['spec', 'template', 'spec', 'containers'])).toEqual(
      expect.objectContaining({ mergeKey: 'containerPort' }),
    );
    const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    const out = smp(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }) as typeof svc;
    expect(out.spec.ports).toEqual([{ port: 80, targetPort: 9090 }, { port: 443 }]);
  });

  it('an EndpointSlice`s ports and a Namespace`s spec.finalizers are atomic', () => {
    const slice = { ports: [{ port: 80 }, { port: 81 }] };
    expect(smp(slice, { ports: [{ port: 82 }] })).toEqual({ ports: [{ port: 82 }] });
    const ns = { spec: { finalizers: ['kubernetes'] }, metadata: { finalizers: ['a'] } };
    expect(smp(ns, { spec: { finalizers: ['x'] }, metadata: { finalizers: ['b'] } })).toEqual({
      spec: { finalizers: ['x'] },
      metadata: { finalizers: ['a', 'b'] },
    });
  });

  it('conditions merge by type under status; tolerations and args are replaced whole', () => {
    const pod = {
      spec: { tolerations: [{ key: 'a' }], containers: [{ name: 'c', args: ['1', '2'] }] },
      status: {
        conditions: [
          { type: 'Ready', status: 'False' },
          { type: 'PodScheduled', status: 'True' },
        ],
      },
    };
    const out = smp(pod, {
      spec: { tolerations: [{ key: 'b' }], containers: [{ name: 'c', args: ['3'] }] },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(out).toEqual({
      spec: { tolerations: [{ key: 'b' }], containers: [{ name: 'c', args: ['3'] }] },
      status: {
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'PodScheduled', status: 'True' },
        ],
      },
    });
  });
});

describe('strategic merge patch: malformed patches are 400, and data keys stay data', () => {
  it('refuses an unknown $patch, a list element without its merge key, and a bad $retainKeys', () => {
    expect(badRequest(() => smp({}, { spec: { $patch: 'explode' } })).message).toContain(
      'Unknown patch type',
    );
    expect(
      badRequest(() => smp(deployment(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }))
        .message,
    ).toContain('does not contain declared merge key: name');
    expect(
      badRequest(() =>
        smp(deployment(), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } }),
      ).message,
    ).toContain('$retainKeys');
    badRequest(() => smp({}, { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } }));
    badRequest(() => smp({}, { metadata: { finalizers: [{ a: 1 }] } }));
  });

  it('keeps `__proto__` and `constructor` as own data keys and never touches a prototype', () => {
    const patch = JSON.parse('{"data":{"__proto__":{"polluted":true},"constructor":"c"}}') as unknown;
    const out = smp({ data: { a: '1' } }, patch) as { data: Record<string, unknown> };
    expect(Object.getPrototypeOf(out.data)).toBe(Object.prototype);
    expect(Object.keys(out.data).sort()).toEqual(['__proto__', 'a', 'constructor']);
    expect(JSON.stringify(out)).toBe('{"data":{"a":"1","__proto__":{"polluted":true},"constructor":"c"}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not change its inputs', () => {
    const live = deployment();
    const snapshot = JSON.stringify(live);
    const patch = { spec: { template: { spec: { containers: [{ name: 'app', $patch: 'delete' }] } } } };
    const patchSnapshot = JSON.stringify(patch);
    smp(live, patch);
    expect(JSON.stringify(live)).toBe(snapshot);
    expect(JSON.stringify(patch)).toBe(patchSnapshot);
  });
});
