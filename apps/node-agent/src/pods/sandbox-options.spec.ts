import { describe, expect, it } from '@jest/globals';

import { type Pod } from '../api-types.js';
import { type RuntimePodStatus } from './runtime-pod.js';
import { pidNamespace, sandboxHostOptions } from './sandbox-options.js';

function pod(spec: Partial<NonNullable<Pod['spec']>>): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [], ...spec } };
}

describe('sandboxHostOptions (generatePodSandboxConfig)', () => {
  it('publishes the regular containers’ hostPorts by protocol, on their hostIP when given', () => {
    const options = sandboxHostOptions(
      pod({
        initContainers: [{ name: 'init', ports: [{ containerPort: 1, hostPort: 1001 }] }],
        containers: [
          {
            name: 'a',
            ports: [
              { containerPort: 80, hostPort: 8080 },
              { containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '127.0.0.1' },
              { containerPort: 9090 },
            ],
          },
        ],
      }),
    );
    expect(options).toEqual({
      portMappings: [
        { containerPort: 80, hostPort: 8080, protocol: 'tcp' },
        { containerPort: 53, hostPort: 5353, protocol: 'udp', hostIP: '127.0.0.1' },
      ],
    });
  });

  it('a host-network pod asks for the node’s namespaces and publishes nothing (its ports are the node’s)', () => {
    expect(
      sandboxHostOptions(
        pod({
          hostNetwork: true,
          hostPID: true,
          hostIPC: true,
          containers: [{ name: 'a', ports: [{ containerPort: 80, hostPort: 80 }] }],
        }),
      ),
    ).toEqual({ hostNetwork: true, hostPID: true, hostIPC: true });
  });
});

describe('pidNamespace (namespacesForPod, startSpec.getTargetID)', () => {
  const engine = (state: 'running' | 'exited'): RuntimePodStatus => ({
    uid: 'u',
    sandboxes: [],
    containers: [{ id: 'app-id', name: 'app', state, restartCount: 0, image: 'x' }],
  });
  const debuggerOf = (target?: string) => ({
    name: 'dbg',
    ...(target ? { targetContainerName: target } : {}),
  });

  it('the node’s for hostPID (a target then has no effect), the sandbox’s for shareProcessNamespace', () => {
    expect(
      pidNamespace(pod({ hostPID: true, shareProcessNamespace: true }), debuggerOf('app'), engine('running')),
    ).toEqual({
      namespace: { of: 'node' },
    });
    expect(pidNamespace(pod({ shareProcessNamespace: true }), { name: 'app' }, engine('running'))).toEqual({
      namespace: { of: 'sandbox' },
    });
  });

  it('an ephemeral container’s running target’s; while the target does not run, an error; else its own', () => {
    expect(pidNamespace(pod({}), debuggerOf('app'), engine('running'))).toEqual({
      namespace: { of: 'container', id: 'app-id' },
    });
    expect(pidNamespace(pod({}), debuggerOf('app'), engine('exited'))).toEqual({
      error: 'unable to find target container app',
    });
    expect(pidNamespace(pod({}), debuggerOf(), engine('running'))).toEqual({});
    expect(pidNamespace(pod({}), { name: 'app' }, engine('running'))).toEqual({});
  });
});
