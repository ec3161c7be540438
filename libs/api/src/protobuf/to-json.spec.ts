import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { decodeProtobufObject, encodeProtobufObject } from './codec.js';
import { ProtobufSchema } from './schema.js';
import { type Decoded } from './special-types.js';
import { messageToJson } from './to-json.js';

// A made-up package exercising each Go shape the notation can express.
const schema = new ProtobufSchema([
  {
    name: 'k8s.io.apimachinery.pkg.apis.meta.v1',
    messages: { Time: '1 seconds int64\n2 nanos int32', MicroTime: '1 seconds int64\n2 nanos int32' },
  },
  {
    name: 'k8s.io.apimachinery.pkg.util.intstr',
    messages: { IntOrString: '1 type int64\n2 intVal int32\n3 strVal string' },
  },
  {
    name: 'example.v1',
    messages: {
      Thing: `
        1 name string always
        2 note string
        3 count int32
        4 limit *int32
        5 flag bool
        6 optionalFlag *bool
        7 tags []string
        8 required []string always
        9 labels map<string,string>
        10 inner Inner
        11 maybe *Inner
        12 shown *Inner always
        13 embedded Embedded inline
        14 at Time
        15 since *Time
        16 port IntOrString
        17 blob bytes
        18 big int64
      `,
      Inner: '1 value string',
      Embedded: '1 extra string\n2 level int32 always',
    },
  },
]);
const thing = schema.message('example.v1.Thing');
const render = (fields: Decoded) =>
  messageToJson(
    schema,
    thing,
    thing.type.decode(thing.type.encode(thing.type.fromObject(fields)).finish()) as unknown as Decoded,
  );

describe('rendering decoded messages as Go writes JSON', () => {
  it('renders what is unset as Go does: zero values without omitempty, null for nil slices and pointers, {} for structs', () => {
    expect(render({})).toStrictEqual({
      name: '',
      required: null,
      inner: {},
      shown: null,
      level: 0,
      at: null,
      port: 0,
    });
  });

  it('drops the zero values gogo writes for omitempty fields, and keeps pointers set to zero', () => {
    expect(
      render({
        name: '',
        note: '',
        count: 0,
        limit: 0,
        flag: false,
        optionalFlag: false,
        inner: {},
        embedded: { extra: '', level: 0 },
        at: {},
        port: { type: 0, intVal: 0, strVal: '' },
        blob: Buffer.alloc(0),
        big: 0,
      }),
    ).toStrictEqual({
      name: '',
      limit: 0,
      optionalFlag: false,
      required: null,
      inner: {},
      shown: null,
      level: 0,
      at: null,
      port: 0,
    });
  });

  it('renders set values with their JSON types: inline fields flattened, times, int-or-strings, bytes, int64', () => {
    expect(
      render({
        name: 'n',
        count: 3,
        tags: ['a'],
        required: ['r'],
        labels: { k: 'v' },
        maybe: { value: 'm' },
        embedded: { extra: 'x', level: 2 },
        at: { seconds: 1_763_791_200, nanos: 999_000_000 },
        since: { seconds: 0 },
        port: { type: 1, strVal: 'http' },
        blob: Buffer.from('hi'),
        big: 2 ** 40,
      }),
    ).toStrictEqual({
      name: 'n',
      count: 3,
      tags: ['a'],
      required: ['r'],
      labels: { k: 'v' },
      inner: {},
      maybe: { value: 'm' },
      shown: null,
      extra: 'x',
      level: 2,
      // metav1.Time keeps whole seconds; a sent zero is the Unix epoch, not Go's zero time.
      at: '2025-11-22T06:00:00Z',
      since: '1970-01-01T00:00:00Z',
      port: 'http',
      blob: Buffer.from('hi').toString('base64'),
      big: 2 ** 40,
    });
  });
});

describe('Go-style encode then decode', () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
  const labels = fc.dictionary(name, fc.string({ maxLength: 10 }), { maxKeys: 4, noNullPrototype: true });

  it('keeps any ConfigMap and Secret (empty values included)', () => {
    fc.assert(
      fc.property(
        name,
        labels,
        fc.dictionary(name, fc.string(), { maxKeys: 5, noNullPrototype: true }),
        (n, l, data) => {
          const meta = { name: n, creationTimestamp: null, ...(Object.keys(l).length ? { labels: l } : {}) };
          const cm = {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: meta,
            ...(Object.keys(data).length ? { data } : {}),
          };
          expect(decodeProtobufObject(encodeProtobufObject(cm))).toStrictEqual(cm);
          const b64 = Object.fromEntries(
            Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          );
          const secret = {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: meta,
            ...(Object.keys(b64).length ? { data: b64 } : {}),
          };
          expect(decodeProtobufObject(encodeProtobufObject(secret))).toStrictEqual(secret);
        },
      ),
    );
  });

  it('keeps Deployment replicas and other pointer ints, zero included', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.option(fc.nat(100), { nil: undefined }), (replicas, history) => {
        const d = {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'd', creationTimestamp: null },
          spec: {
            replicas,
            selector: { matchLabels: { app: 'd' } },
            template: {
              metadata: { creationTimestamp: null },
              spec: { containers: [{ name: 'c', image: 'i', resources: {} }] },
            },
            strategy: {},
            ...(history === undefined ? {} : { revisionHistoryLimit: history }),
          },
          status: {},
        };
        expect(decodeProtobufObject(encodeProtobufObject(d))).toStrictEqual(d);
      }),
    );
  });
});
