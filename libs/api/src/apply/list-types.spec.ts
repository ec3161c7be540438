import { describe, expect, it } from '@jest/globals';

import { listTypeOf } from './list-types.js';
import { mergeApplied } from './object-fields.js';

const DEPLOY = { group: 'apps', plural: 'deployments' };
const POD = { group: '', plural: 'pods' };
const SERVICE = { group: '', plural: 'services' };
const JOB = { group: 'batch', plural: 'jobs' };
const POD_SPEC = ['spec', 'template', 'spec'];

describe('the list-type table', () => {
  it.each([
    [DEPLOY, [...POD_SPEC, 'containers'], { type: 'map', keys: ['name'] }],
    [DEPLOY, [...POD_SPEC, 'initContainers'], { type: 'map', keys: ['name'] }],
    [POD, ['spec', 'ephemeralContainers'], { type: 'map', keys: ['name'] }],
    [DEPLOY, [...POD_SPEC, 'volumes'], { type: 'map', keys: ['name'] }],
    [DEPLOY, [...POD_SPEC, 'imagePullSecrets'], { type: 'map', keys: ['name'] }],
    [DEPLOY, [...POD_SPEC, 'containers', 'env'], { type: 'map', keys: ['name'] }],
    [DEPLOY, [...POD_SPEC, 'containers', 'volumeMounts'], { type: 'map', keys: ['mountPath'] }],
    [
      DEPLOY,
      [...POD_SPEC, 'containers', 'ports'],
      { type: 'map', keys: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } },
    ],
    [SERVICE, ['spec', 'ports'], { type: 'map', keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } }],
    [DEPLOY, ['metadata', 'ownerReferences'], { type: 'map', keys: ['uid'] }],
    [DEPLOY, ['metadata', 'finalizers'], { type: 'set' }],
    [DEPLOY, ['status', 'conditions'], { type: 'map', keys: ['type'] }],
    [POD, ['status', 'podIPs'], { type: 'map', keys: ['ip'] }],
    [JOB, ['status', 'conditions'], { type: 'atomic' }],
    [DEPLOY, [...POD_SPEC, 'tolerations'], { type: 'atomic' }],
    [DEPLOY, [...POD_SPEC, 'containers', 'args'], { type: 'atomic' }],
    [DEPLOY, [...POD_SPEC, 'containers', 'command'], { type: 'atomic' }],
    [DEPLOY, [...POD_SPEC, 'containers', 'envFrom'], { type: 'atomic' }],
  ])('%j %j is %j', (kind, path, expected) => {
    expect(listTypeOf(kind, path)).toEqual(expected);
  });
});

describe('merging the built-in lists', () => {
  it('merges env by name and container ports by containerPort and defaulted protocol', () => {
    const live = {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                env: [
                  { name: 'A', value: '1' },
                  { name: 'B', value: '2' },
                ],
                ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }],
              },
            ],
          },
        },
      },
    };
    const config = {
      spec: {
        template: {
          spec: {
            containers: [{ name: 'app', env: [{ name: 'B', value: '3' }], ports: [{ containerPort: 80 }] }],
          },
        },
      },
    };
    expect(mergeApplied(DEPLOY, live, config)).toEqual({
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                env: [
                  { name: 'A', value: '1' },
                  { name: 'B', value: '3' },
                ],
                ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }],
              },
            ],
          },
        },
      },
    });
  });

  it('keeps a Service port of another protocol apart, and replaces tolerations whole', () => {
    const svc = mergeApplied(
      SERVICE,
      { spec: { ports: [{ port: 53, protocol: 'UDP' }] } },
      { spec: { ports: [{ port: 53 }] } },
    );
    expect(svc).toEqual({ spec: { ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }] } });
    const pod = mergeApplied(
      POD,
      { spec: { tolerations: [{ key: 'a' }, { key: 'b' }] } },
      { spec: { tolerations: [{ key: 'c' }] } },
    );
    expect(pod).toEqual({ spec: { tolerations: [{ key: 'c' }] } });
  });

  it('replaces an atomic selector whole instead of merging its labels', () => {
    const out = mergeApplied(
      DEPLOY,
      { spec: { selector: { matchLabels: { a: '1', b: '2' } } } },
      { spec: { selector: { matchLabels: { c: '3' } } } },
    );
    expect(out).toEqual({ spec: { selector: { matchLabels: { c: '3' } } } });
  });
});
