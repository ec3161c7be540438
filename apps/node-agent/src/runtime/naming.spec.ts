import { describe, expect, it } from '@jest/globals';

import { containerLabels, containerName, parseName, sandboxLabels, sandboxName } from './naming.js';

const pod = { name: 'web-0', namespace: 'prod', uid: '5f1c2b9e-0d3a-4c7e-9a61-2b8f7e3d4c10' };

describe('dockershim names', () => {
  it('names sandboxes k8s_POD_<pod>_<namespace>_<uid>_<attempt>', () => {
    expect(sandboxName(pod, 0)).toBe(`k8s_POD_web-0_prod_${pod.uid}_0`);
  });

  it('names containers k8s_<container>_<pod>_<namespace>_<uid>_<attempt>', () => {
    expect(containerName(pod, 'nginx', 3)).toBe(`k8s_nginx_web-0_prod_${pod.uid}_3`);
  });

  it('reads its names back, with or without Docker’s leading slash or a random suffix', () => {
    const parsed = { containerName: 'nginx', podName: 'web-0', namespace: 'prod', uid: pod.uid, attempt: 3 };
    expect(parseName(containerName(pod, 'nginx', 3))).toEqual(parsed);
    expect(parseName(`/${containerName(pod, 'nginx', 3)}`)).toEqual(parsed);
    expect(parseName(`${containerName(pod, 'nginx', 3)}_1a2b3c4d`)).toEqual(parsed);
    expect(parseName(`/${sandboxName(pod, 1)}`)).toMatchObject({ containerName: 'POD', attempt: 1 });
  });

  it('does not read names it did not write', () => {
    expect(parseName('/festive_hopper')).toBeUndefined();
    expect(parseName('k8s_a_b_c_d')).toBeUndefined();
    expect(parseName('k8s_a_b_c_d_x')).toBeUndefined();
    expect(parseName('k9s_a_b_c_d_0')).toBeUndefined();
  });

  it('refuses parts that would make a name ambiguous', () => {
    expect(() => containerName(pod, 'my_app', 0)).toThrow(/_/);
    expect(() => sandboxName({ ...pod, namespace: '' }, 0)).toThrow(/empty/);
    expect(() => sandboxName(pod, -1)).toThrow(/attempt/);
    expect(() => sandboxName(pod, 1.5)).toThrow(/attempt/);
  });
});

describe('dockershim labels', () => {
  it('labels a sandbox with the pod, its type and the cluster', () => {
    expect(sandboxLabels('c1', pod)).toEqual({
      'io.kubernetes.pod.name': 'web-0',
      'io.kubernetes.pod.namespace': 'prod',
      'io.kubernetes.pod.uid': pod.uid,
      'io.kubernetes.docker.type': 'podsandbox',
      'wake.dev/cluster': 'c1',
    });
  });

  it('labels a container with its name and sandbox as well', () => {
    expect(containerLabels('c1', pod, 'nginx', 'abc123')).toEqual({
      'io.kubernetes.pod.name': 'web-0',
      'io.kubernetes.pod.namespace': 'prod',
      'io.kubernetes.pod.uid': pod.uid,
      'io.kubernetes.container.name': 'nginx',
      'io.kubernetes.docker.type': 'container',
      'io.kubernetes.sandbox.id': 'abc123',
      'wake.dev/cluster': 'c1',
    });
  });
});
