import { describe, expect, it } from '@jest/globals';

import { type ContainerPort } from '../api-types.js';
import { filterReasons, makeNode, makePod, snapshotOf } from '../test-fixtures.js';
import { NodePorts } from './node-ports.js';

const CONFLICT = "node(s) didn't have free ports for the requested pod ports";

/** "PROTO/IP/PORT" as in upstream's tests. */
const ports = (...specs: string[]): ContainerPort[] =>
  specs.map((s) => {
    const [protocol, hostIP, port] = s.split('/');
    return { protocol, hostIP, hostPort: Number(port), containerPort: Number(port) };
  });
const podWith = (name: string, ...specs: string[]) =>
  makePod(name, { containers: [{ name: 'c', ports: ports(...specs) }] });

function fits(existing: string[], wanted: string[]): boolean {
  const snapshot = snapshotOf([makeNode('n'), [podWith('existing', ...existing)]]);
  const reasons = filterReasons(new NodePorts(), podWith('new', ...wanted), snapshot).n;
  if (reasons.length > 0) expect(reasons).toEqual([CONFLICT]);
  return reasons.length === 0;
}

describe('NodePorts', () => {
  it.each([
    ['nothing running', [], ['UDP/127.0.0.1/8080'], true],
    ['other port', ['UDP/127.0.0.1/9090'], ['UDP/127.0.0.1/8080'], true],
    ['same udp port', ['UDP/127.0.0.1/8080'], ['UDP/127.0.0.1/8080'], false],
    ['same tcp port', ['TCP/127.0.0.1/8080'], ['TCP/127.0.0.1/8080'], false],
    ['different host ip', ['TCP/127.0.0.1/8080'], ['TCP/127.0.0.2/8080'], true],
    ['different protocol', ['TCP/127.0.0.1/8080'], ['UDP/127.0.0.1/8080'], true],
    ['second udp port conflict', ['UDP/127.0.0.1/8080'], ['UDP/127.0.0.1/8080', 'UDP/127.0.0.1/8081'], false],
    [
      'first tcp port conflict',
      ['TCP/127.0.0.1/8001', 'UDP/127.0.0.1/8081'],
      ['TCP/127.0.0.1/8001', 'UDP/127.0.0.1/8081'],
      false,
    ],
    ['tcp conflict with an existing 0.0.0.0', ['TCP/0.0.0.0/8001'], ['TCP/127.0.0.1/8001'], false],
    ['0.0.0.0 conflicts with any existing address', ['TCP/10.0.10.10/8001'], ['TCP/0.0.0.0/8001'], false],
    ['0.0.0.0 with a different protocol', ['TCP/0.0.0.0/8001'], ['UDP/127.0.0.1/8001'], true],
    ['both 0.0.0.0', ['UDP/0.0.0.0/8001'], ['UDP/0.0.0.0/8001'], false],
  ] as const)('%s', (_name, existing, wanted, expected) => {
    expect(fits([...existing], [...wanted])).toBe(expected);
  });

  it('defaults an empty hostIP to 0.0.0.0 and an empty protocol to TCP', () => {
    const snapshot = snapshotOf([
      makeNode('n'),
      [makePod('e', { containers: [{ name: 'c', ports: [{ hostPort: 80 }] }] })],
    ]);
    const wanted = makePod('w', {
      containers: [{ name: 'c', ports: [{ hostPort: 80, protocol: 'TCP', hostIP: '10.1.1.1' }] }],
    });
    expect(filterReasons(new NodePorts(), wanted, snapshot).n).toEqual([CONFLICT]);
  });

  it('ignores container ports without a host port', () => {
    const snapshot = snapshotOf([makeNode('n'), [podWith('e', 'TCP/0.0.0.0/80')]]);
    const wanted = makePod('w', { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] });
    expect(filterReasons(new NodePorts(), wanted, snapshot).n).toEqual([]);
  });
});
