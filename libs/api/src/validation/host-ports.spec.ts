import { describe, expect, it } from '@jest/globals';

import { applyDefaults } from '../defaults/index.js';
import { validateHostPorts } from './host-ports.js';

type Json = Record<string, unknown>;

const container = (name: string, ports: Json[]) => ({ name, image: 'x', ports });

describe('host ports of a pod spec (validateHostNetwork, checkHostPortConflicts)', () => {
  it('refuses two ports claiming one protocol, address and port of the node, across containers', () => {
    const spec = {
      containers: [
        container('a', [{ containerPort: 80, hostPort: 8080 }]),
        container('b', [
          { containerPort: 81, hostPort: 8080 },
          { containerPort: 81, hostPort: 8080, protocol: 'UDP' },
          { containerPort: 82, hostPort: 8080, hostIP: '10.0.0.1' },
        ]),
      ],
    };
    expect(validateHostPorts(spec, 'spec')).toEqual([
      {
        reason: 'FieldValueDuplicate',
        message: 'Duplicate value: "TCP//8080"',
        field: 'spec.containers[1].ports[0].hostPort',
      },
    ]);
  });

  it('under hostNetwork a hostPort must be the containerPort; pods get it defaulted so', () => {
    expect(
      validateHostPorts(
        { hostNetwork: true, containers: [container('a', [{ containerPort: 80, hostPort: 8080 }])] },
        'spec',
      ),
    ).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: 80: must match `hostPort` when `hostNetwork` is true',
        field: 'spec.containers[0].ports[0].containerPort',
      },
    ]);
    const pod: Json = { spec: { hostNetwork: true, containers: [container('a', [{ containerPort: 80 }])] } };
    applyDefaults('', 'pods', pod);
    expect(pod).toMatchObject({
      spec: { containers: [{ ports: [{ containerPort: 80, hostPort: 80, protocol: 'TCP' }] }] },
    });
    expect(validateHostPorts(pod.spec as Json, 'spec')).toEqual([]);
  });
});
