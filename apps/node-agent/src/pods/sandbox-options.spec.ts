import { describe, expect, it } from '@jest/globals';

import { type Pod } from '../api-types.js';
import { sandboxHostOptions } from './sandbox-options.js';

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
