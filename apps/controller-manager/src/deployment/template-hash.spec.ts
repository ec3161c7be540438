import { describe, expect, it } from '@jest/globals';

import { type PodTemplate } from './deployment-types.js';
import { computeHash, equalIgnoreHash, fnv32a, safeEncodeString } from './template-hash.js';

const template = (labels: Record<string, string>, image = 'nginx:1.25') => ({
  metadata: { labels },
  spec: { containers: [{ name: 'app', image }] },
});

describe('template hash (controller_utils.go ComputeHash)', () => {
  it('is FNV-1a 32 and the safe alphabet', () => {
    // The FNV-1a test vectors (hash/fnv).
    expect(fnv32a(Buffer.from(''))).toBe(0x811c9dc5);
    expect(fnv32a(Buffer.from('a'))).toBe(0xe40c292c);
    expect(fnv32a(Buffer.from('foobar'))).toBe(0xbf9cf968);
    // Digits map by byte value modulo 27: '0' is 48 → index 21 ('4'), '6' is 54 → index 0 ('b').
    expect(safeEncodeString('0123456789')).toBe('456789bcdf');
  });

  it('is deterministic whatever the key order, blind to typed-zero noise, and changes with the template and collisionCount', () => {
    const a = computeHash(template({ app: 'x' }));
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(
      computeHash({
        spec: { containers: [{ image: 'nginx:1.25', name: 'app' }] },
        metadata: { labels: { app: 'x' } },
      }),
    ).toBe(a);
    expect(
      // As `kubectl rollout undo` sends it.
      computeHash(
        JSON.parse(
          '{"metadata":{"creationTimestamp":null,"labels":{"app":"x"}},"spec":{"containers":[{"name":"app","image":"nginx:1.25","resources":{}}]}}',
        ) as PodTemplate,
      ),
    ).toBe(a);
    expect(computeHash(template({ app: 'x' }, 'nginx:1.27'))).not.toBe(a);
    expect(computeHash(template({ app: 'x' }), 1)).not.toBe(a);
    expect(computeHash(template({ app: 'x' }), 1)).not.toBe(computeHash(template({ app: 'x' }), 2));
  });

  // TestEqualIgnoreHash.
  it.each([
    [
      'same labels, different hashes',
      template({ app: 'x', 'pod-template-hash': 'a' }),
      template({ app: 'x', 'pod-template-hash': 'b' }),
      true,
    ],
    [
      'one with a hash, one without',
      template({ app: 'x', 'pod-template-hash': 'a' }),
      template({ app: 'x' }),
      true,
    ],
    [
      'different labels',
      template({ app: 'x', 'pod-template-hash': 'a' }),
      template({ app: 'y', 'pod-template-hash': 'a' }),
      false,
    ],
    ['different containers', template({ app: 'x' }), template({ app: 'x' }, 'nginx:1.27'), false],
  ])('%s: %p', (_name, a, b, equal) => {
    expect(equalIgnoreHash(a, b)).toBe(equal);
    expect(equalIgnoreHash(b, a)).toBe(equal);
  });
});
