import { describe, expect, it } from '@jest/globals';

import { RoundRobinBalancer } from './balancer.js';

const e = (n: number) => ({ ip: `172.17.0.${n}`, port: 8080 });

describe('RoundRobinBalancer (upstream LoadBalancerRR)', () => {
  it('goes round the endpoints in order, per service port', () => {
    const b = new RoundRobinBalancer({ shuffle: false });
    b.update('ns/web:http', [e(1), e(2), e(3)]);
    b.update('ns/other:', [e(9)]);
    const picks = Array.from({ length: 6 }, () => b.next('ns/web:http', '10.0.0.1')!.ip);
    expect(picks).toEqual([
      '172.17.0.1',
      '172.17.0.2',
      '172.17.0.3',
      '172.17.0.1',
      '172.17.0.2',
      '172.17.0.3',
    ]);
    expect(b.next('ns/other:', '10.0.0.1')).toEqual(e(9));
  });

  it('has nothing for a service port without endpoints, or one it does not know', () => {
    const b = new RoundRobinBalancer();
    b.update('ns/web:', []);
    expect(b.next('ns/web:', '10.0.0.1')).toBeUndefined();
    expect(b.next('ns/unknown:', '10.0.0.1')).toBeUndefined();
  });

  it('keeps its place when the same endpoints come again, and restarts when they change', () => {
    const b = new RoundRobinBalancer({ shuffle: false });
    b.update('k', [e(1), e(2), e(3)]);
    b.next('k', 'c');
    b.update('k', [e(3), e(2), e(1)]); // same set
    expect(b.next('k', 'c')).toEqual(e(2));
    b.update('k', [e(1), e(4)]);
    expect(b.endpoints('k')).toEqual([e(1), e(4)]);
    expect(b.next('k', 'c')).toEqual(e(1));
  });

  it('pins a client with ClientIP affinity until its timeout passes without use', () => {
    let now = 1_000_000;
    const b = new RoundRobinBalancer({ shuffle: false, now: () => now });
    b.update('k', [e(1), e(2), e(3)], 10);
    const first = b.next('k', '10.0.0.1')!;
    const other = b.next('k', '10.0.0.2')!;
    expect(other).not.toEqual(first);
    for (let i = 0; i < 5; i++) {
      now += 9_000; // each use renews the pin
      expect(b.next('k', '10.0.0.1')).toEqual(first);
    }
    now += 10_000;
    expect(b.next('k', '10.0.0.1')).not.toEqual(first);
  });

  it('a retry after a failed dial (reset) moves the client to the next endpoint and pins it there', () => {
    const b = new RoundRobinBalancer({ shuffle: false });
    b.update('k', [e(1), e(2)], 10_800);
    expect(b.next('k', 'c')).toEqual(e(1));
    expect(b.next('k', 'c', true)).toEqual(e(2));
    expect(b.next('k', 'c')).toEqual(e(2));
  });

  it('forgets pins to endpoints that went away, and all pins when affinity is turned off', () => {
    const b = new RoundRobinBalancer({ shuffle: false });
    b.update('k', [e(1), e(2)], 60);
    expect(b.next('k', 'a')).toEqual(e(1));
    expect(b.next('k', 'b')).toEqual(e(2));
    b.update('k', [e(2), e(3)], 60);
    expect(b.next('k', 'b')).toEqual(e(2)); // still pinned
    expect(b.next('k', 'a')).toEqual(e(2)); // its endpoint went: round robin from the start
    b.update('k', [e(2), e(3)]);
    expect([b.next('k', 'b'), b.next('k', 'b')]).toEqual([e(3), e(2)]);
  });

  it('shuffles a changed endpoint set by default, still covering every endpoint each round', () => {
    const b = new RoundRobinBalancer();
    b.update('k', [e(1), e(2), e(3), e(4)]);
    const round = new Set(Array.from({ length: 4 }, () => b.next('k', 'c')!.ip));
    expect(round.size).toBe(4);
  });
});
