import { describe, expect, it } from '@jest/globals';

import { applyDefaults, defaultPullPolicy, qosClass } from './defaults.js';

describe('defaulting', () => {
  it('chooses the pull policy from the tag', () => {
    expect(defaultPullPolicy('nginx')).toBe('Always');
    expect(defaultPullPolicy('nginx:latest')).toBe('Always');
    expect(defaultPullPolicy('nginx:1.25')).toBe('IfNotPresent');
    expect(defaultPullPolicy('registry:5000/nginx')).toBe('Always');
    expect(defaultPullPolicy('nginx@sha256:abc')).toBe('IfNotPresent');
  });

  it('fills a Deployment as upstream does, keeping what was given', () => {
    const d: Record<string, unknown> = {
      spec: {
        replicas: 3,
        template: { spec: { containers: [{ name: 'a', image: 'x:1', ports: [{ containerPort: 80 }] }] } },
      },
    };
    applyDefaults('apps', 'deployments', d);
    expect(d.spec).toMatchObject({
      replicas: 3,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      template: {
        spec: {
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          containers: [{ imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 80, protocol: 'TCP' }] }],
        },
      },
    });
  });

  it('leaves a Recreate strategy without rolling parameters', () => {
    const d: Record<string, unknown> = {
      spec: { strategy: { type: 'Recreate' }, template: { spec: { containers: [] } } },
    };
    applyDefaults('apps', 'deployments', d);
    expect((d.spec as { strategy: unknown }).strategy).toEqual({ type: 'Recreate' });
  });

  it('defaults service ports and the namespace name label', () => {
    const s: Record<string, unknown> = { spec: { ports: [{ port: 80 }] } };
    applyDefaults('', 'services', s);
    expect(s.spec).toMatchObject({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    });
    const ns: Record<string, unknown> = { metadata: { name: 'dev' } };
    applyDefaults('', 'namespaces', ns);
    expect(ns).toMatchObject({
      metadata: { labels: { 'kubernetes.io/metadata.name': 'dev' } },
      status: { phase: 'Active' },
    });
  });

  it('classifies QoS', () => {
    expect(qosClass({ containers: [{}] })).toBe('BestEffort');
    expect(qosClass({ containers: [{ resources: { requests: { cpu: '1' } } }] })).toBe('Burstable');
    expect(qosClass({ containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }] })).toBe(
      'Guaranteed',
    );
  });
});
