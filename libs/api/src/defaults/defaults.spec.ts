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

  it('writes a Secret’s stringData into data as base64, overwriting, and never keeps stringData', () => {
    const secret = { data: { a: 'b2xk', keep: 'eA==' }, stringData: { a: 'new', pw: 's3cret é' } };
    applyDefaults('', 'secrets', secret);
    expect(secret).toEqual({
      type: 'Opaque',
      data: {
        a: Buffer.from('new').toString('base64'),
        keep: 'eA==',
        pw: Buffer.from('s3cret é').toString('base64'),
      },
    });
  });

  it('classifies QoS', () => {
    expect(qosClass({ containers: [{}] })).toBe('BestEffort');
    expect(qosClass({ containers: [{ resources: { requests: { cpu: '1' } } }] })).toBe('Burstable');
    expect(qosClass({ containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }] })).toBe(
      'Guaranteed',
    );
  });

  it('fills StatefulSets and DaemonSets with their update strategies', () => {
    const sts: Record<string, unknown> = {
      spec: { template: { spec: { containers: [{ name: 'a', image: 'x:1' }] } } },
    };
    applyDefaults('apps', 'statefulsets', sts);
    expect(sts.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
    const ondelete: Record<string, unknown> = { spec: { updateStrategy: { type: 'OnDelete' } } };
    applyDefaults('apps', 'statefulsets', ondelete);
    expect((ondelete.spec as { updateStrategy: unknown }).updateStrategy).toEqual({ type: 'OnDelete' });
    const ds: Record<string, unknown> = {
      spec: { template: { spec: { containers: [{ name: 'a', image: 'x' }] } } },
    };
    applyDefaults('apps', 'daemonsets', ds);
    expect(ds.spec).toMatchObject({
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      template: { spec: { restartPolicy: 'Always', containers: [{ imagePullPolicy: 'Always' }] } },
    });
  });

  it('fills Jobs as upstream: both counts unset is one pod, parallelism alone is a work queue', () => {
    const one: Record<string, unknown> = { spec: { template: { spec: { containers: [] } } } };
    applyDefaults('batch', 'jobs', one);
    expect(one.spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      podReplacementPolicy: 'TerminatingOrFailed',
    });
    const queue: Record<string, unknown> = { spec: { parallelism: 3, template: { spec: {} } } };
    applyDefaults('batch', 'jobs', queue);
    expect((queue.spec as { completions?: number }).completions).toBeUndefined();
    const withPolicy: Record<string, unknown> = {
      spec: { podFailurePolicy: { rules: [] }, template: { spec: {} } },
    };
    applyDefaults('batch', 'jobs', withPolicy);
    expect(withPolicy.spec).toMatchObject({ podReplacementPolicy: 'Failed' });
    const cron: Record<string, unknown> = {
      spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: {} } } } },
    };
    applyDefaults('batch', 'cronjobs', cron);
    expect(cron.spec).toMatchObject({
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: { spec: { completions: 1, parallelism: 1, backoffLimit: 6 } },
    });
  });

  it('fills volumes, claims and priority classes, keeping what was given', () => {
    const pv: Record<string, unknown> = { spec: { persistentVolumeReclaimPolicy: 'Delete' } };
    applyDefaults('', 'persistentvolumes', pv);
    expect(pv).toEqual({
      spec: { persistentVolumeReclaimPolicy: 'Delete', volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    });
    const pvc: Record<string, unknown> = { spec: {} };
    applyDefaults('', 'persistentvolumeclaims', pvc);
    expect(pvc).toEqual({ spec: { volumeMode: 'Filesystem' }, status: { phase: 'Pending' } });
    const pc: Record<string, unknown> = { value: 10 };
    applyDefaults('scheduling.k8s.io', 'priorityclasses', pc);
    expect(pc).toEqual({ value: 10, preemptionPolicy: 'PreemptLowerPriority' });
    const never: Record<string, unknown> = { value: 10, preemptionPolicy: 'Never' };
    applyDefaults('scheduling.k8s.io', 'priorityclasses', never);
    expect(never.preemptionPolicy).toBe('Never');
  });
});
