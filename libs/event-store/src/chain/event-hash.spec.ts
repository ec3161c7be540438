import { createHash } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { type StoredEvent } from '../model/index.js';
import { canonicalJson } from './canonical-json.js';
import { eventHash, GENESIS_HASH, type HashedFields, objectDigest } from './event-hash.js';

const HEX64 = /^[0-9a-f]{64}$/;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

const base: HashedFields = {
  seq: 10,
  at: '2024-05-06T07:08:09.123Z',
  type: 'MODIFIED',
  group: 'apps',
  resource: 'deployments',
  namespace: 'prod',
  name: 'api',
  uid: '11111111-2222-4333-8444-555555555555',
  objectDigest: sha256('{}'),
  actor: { user: 'alice', uid: 'u-1', groups: ['dev', 'ops'], credential: 'token:sha256:ab12' },
  verb: 'update',
  requestId: 'req-1',
  userAgent: 'kubectl/v1.30',
  sourceIp: '10.0.0.1',
  cause: 9,
};

const PREV = 'ab'.repeat(32);

describe('GENESIS_HASH', () => {
  it('is 64 zeros (32 zero bytes in hex)', () => {
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(GENESIS_HASH).toMatch(HEX64);
    expect(Buffer.from(GENESIS_HASH, 'hex')).toEqual(Buffer.alloc(32));
  });
});

describe('objectDigest', () => {
  it('is the SHA-256 of the canonical JSON, in lower-case hex', () => {
    expect(objectDigest({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    const object = { metadata: { name: 'n', labels: { b: '2', a: '1' } }, spec: [1, 2] };
    expect(objectDigest(object)).toBe(sha256(canonicalJson(object)));
    expect(objectDigest(object)).toMatch(HEX64);
  });

  it.each<[string, unknown, unknown]>([
    ['flat', { a: 1, b: 2 }, { b: 2, a: 1 }],
    [
      'nested',
      { m: { x: 1, y: 2 }, s: { p: [{ q: 1, r: 2 }] } },
      { s: { p: [{ r: 2, q: 1 }] }, m: { y: 2, x: 1 } },
    ],
    ['with undefined properties', { a: 1, b: undefined }, { a: 1 }],
    [
      'parsed from differently ordered JSON',
      JSON.parse('{"a":{"b":1,"c":2}}'),
      JSON.parse('{"a":{"c":2,"b":1}}'),
    ],
  ])('is stable across key order: %s', (_name, one, other) => {
    expect(objectDigest(one)).toBe(objectDigest(other));
  });

  it.each<[string, unknown, unknown]>([
    ['a changed value', { a: 1 }, { a: 2 }],
    ['a changed type', { a: 1 }, { a: '1' }],
    ['an added key', { a: 1 }, { a: 1, b: 2 }],
    ['null versus missing', { a: 1, b: null }, { a: 1 }],
    ['array order', { a: [1, 2] }, { a: [2, 1] }],
    ['a nested change', { a: { b: { c: 1 } } }, { a: { b: { c: 0 } } }],
    ['unicode normalisation form', { a: 'é' }, { a: 'e\u0301' }],
  ])('differs for different content: %s', (_name, one, other) => {
    expect(objectDigest(one)).not.toBe(objectDigest(other));
  });

  it('rejects objects with non-finite numbers', () => {
    expect(() => objectDigest({ spec: { n: NaN } })).toThrow(TypeError);
  });
});

describe('eventHash', () => {
  it('is SHA-256(prev hash bytes ‖ canonical JSON of the covered fields)', () => {
    const expected = createHash('sha256')
      .update(Buffer.from(PREV, 'hex'))
      .update(canonicalJson(base))
      .digest('hex');
    expect(eventHash(PREV, base)).toBe(expected);
    expect(eventHash(PREV, base)).toMatch(HEX64);
  });

  it('hashes the fields as UTF-8, characters beyond ASCII included', () => {
    const wide: HashedFields = { ...base, userAgent: 'kubectl/ünïcödé ✓ 😀', name: 'naïve' };
    const expected = createHash('sha256')
      .update(Buffer.from(PREV, 'hex'))
      .update(Buffer.from(canonicalJson(wide), 'utf8'))
      .digest('hex');
    expect(eventHash(PREV, wide)).toBe(expected);
  });

  it('is deterministic and independent of key order', () => {
    const reordered = Object.fromEntries(Object.entries(base).reverse()) as unknown as HashedFields;
    reordered.actor = { groups: ['dev', 'ops'], credential: 'token:sha256:ab12', uid: 'u-1', user: 'alice' };
    expect(eventHash(PREV, base)).toBe(eventHash(PREV, { ...base }));
    expect(eventHash(PREV, reordered)).toBe(eventHash(PREV, base));
  });

  it.each<[keyof HashedFields, unknown]>([
    ['seq', 11],
    ['at', '2024-05-06T07:08:09.124Z'],
    ['type', 'DELETED'],
    ['group', ''],
    ['resource', 'statefulsets'],
    ['namespace', 'dev'],
    ['name', 'api2'],
    ['uid', '11111111-2222-4333-8444-555555555556'],
    ['objectDigest', sha256('{"a":1}')],
    ['actor', { user: 'mallory', uid: 'u-1', groups: ['dev', 'ops'], credential: 'token:sha256:ab12' }],
    ['verb', 'patch'],
    ['requestId', 'req-2'],
    ['requestId', null],
    ['userAgent', 'curl/8'],
    ['userAgent', null],
    ['sourceIp', '10.0.0.2'],
    ['sourceIp', null],
    ['cause', 8],
    ['cause', null],
  ])('changes when %s changes (to %j)', (field, value) => {
    const changed = { ...base, [field]: value } as HashedFields;
    expect(eventHash(PREV, changed)).not.toBe(eventHash(PREV, base));
  });

  it.each<[string, HashedFields['actor']]>([
    ['the actor’s groups', { user: 'alice', uid: 'u-1', groups: ['dev'], credential: 'token:sha256:ab12' }],
    [
      'the order of the actor’s groups',
      { user: 'alice', uid: 'u-1', groups: ['ops', 'dev'], credential: 'token:sha256:ab12' },
    ],
    [
      'the actor’s uid',
      { user: 'alice', uid: 'u-2', groups: ['dev', 'ops'], credential: 'token:sha256:ab12' },
    ],
    [
      'the actor’s credential',
      { user: 'alice', uid: 'u-1', groups: ['dev', 'ops'], credential: 'x509:CN=alice' },
    ],
    ['dropping the actor’s credential', { user: 'alice', uid: 'u-1', groups: ['dev', 'ops'] }],
  ])('changes when %s change', (_name, actor) => {
    expect(eventHash(PREV, { ...base, actor })).not.toBe(eventHash(PREV, base));
  });

  it.each<[string, string]>([
    ['genesis', GENESIS_HASH],
    ['another hash', 'cd'.repeat(32)],
    ['one bit flipped', `ab`.repeat(31) + 'aa'],
  ])('changes when the previous hash changes (%s)', (_name, other) => {
    expect(eventHash(other, base)).not.toBe(eventHash(PREV, base));
  });

  it.each(['', 'ab'.repeat(31), 'zz'.repeat(32), 'ab'.repeat(33)])(
    'refuses a previous hash that is not 32 bytes of hex (%j)',
    (bad) => {
      expect(() => eventHash(bad, base)).toThrow('the previous hash must be 64 hex digits');
    },
  );

  it('hashes the previous hash as bytes, so hex case does not matter', () => {
    expect(eventHash('AB'.repeat(32), base)).toBe(eventHash(PREV, base));
  });

  it('ignores the payload and the chain fields of a full event: they are covered by digest and by chaining', () => {
    const full: StoredEvent = {
      ...base,
      object: { metadata: { name: 'api' } },
      prevHash: PREV,
      hash: 'ff'.repeat(32),
    };
    const other: StoredEvent = { ...full, object: null, prevHash: GENESIS_HASH, hash: '00'.repeat(32) };
    expect(eventHash(PREV, full)).toBe(eventHash(PREV, base));
    expect(eventHash(PREV, other)).toBe(eventHash(PREV, base));
  });

  it('ignores fields that are not part of the event', () => {
    const extra = { ...base, comment: 'not covered' } as HashedFields;
    expect(eventHash(PREV, extra)).toBe(eventHash(PREV, base));
  });

  it('chains: a change to an earlier event changes every later hash', () => {
    const chain = (events: HashedFields[]) => {
      let prev = GENESIS_HASH;
      return events.map((e) => (prev = eventHash(prev, e)));
    };
    const events = [1, 2, 3, 4].map((seq) => ({ ...base, seq }));
    const original = chain(events);
    const tampered = chain([events[0], { ...events[1], name: 'evil' }, events[2], events[3]]);
    expect(tampered[0]).toBe(original[0]);
    tampered.slice(1).forEach((h, i) => expect(h).not.toBe(original[i + 1]));
    expect(new Set(original).size).toBe(4);
  });
});
