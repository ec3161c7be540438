import { describe, expect, it } from '@jest/globals';

import { MAX_CONFIG_DATA_BYTES, validateConfigMap, validateSecret } from './config-data.js';
import { MAX_ANNOTATIONS_BYTES, nameRuleFor, validateObjectMeta } from './object-meta.js';
import { validateObjectMetaUpdate } from './object-meta-update.js';
import { validateShape } from './shape.js';

const fields = (causes: { field?: string }[]) => causes.map((c) => c.field);

describe('size limits', () => {
  const rule = nameRuleFor('', 'configmaps');

  it('counts annotations in bytes: 256 KiB is accepted, a byte more is TooLong', () => {
    const at = { a: 'x'.repeat(MAX_ANNOTATIONS_BYTES - 1) };
    expect(validateObjectMeta({ name: 'n', annotations: at }, rule)).toEqual([]);
    const over = validateObjectMeta(
      { name: 'n', annotations: { a: 'é'.repeat(MAX_ANNOTATIONS_BYTES / 2) } },
      rule,
    );
    expect(over).toEqual([
      {
        reason: 'FieldValueTooLong',
        message: 'Too long: may not be more than 262144 bytes',
        field: 'metadata.annotations',
      },
    ]);
  });

  it('counts ConfigMap data and decoded binaryData together against 1 MiB', () => {
    const half = MAX_CONFIG_DATA_BYTES / 2;
    const binaryData = { b: Buffer.alloc(half).toString('base64') };
    expect(validateConfigMap({ data: { a: 'x'.repeat(half) }, binaryData })).toEqual([]);
    expect(validateConfigMap({ data: { a: 'x'.repeat(half + 1) }, binaryData })).toEqual([
      expect.objectContaining({ reason: 'FieldValueTooLong', field: 'data' }),
    ]);
  });

  it('checks config keys, value types, base64 and keys in both maps', () => {
    expect(fields(validateConfigMap({ data: { 'a/b': 'x', '..x': 'y', ok: 1 } }))).toEqual([
      'data',
      'data',
      'data[ok]',
    ]);
    expect(fields(validateConfigMap({ data: { a: 'x' }, binaryData: { a: 'eA==' } }))).toEqual([
      'binaryData',
    ]);
    expect(fields(validateConfigMap({ binaryData: { a: 'not base64' } }))).toEqual(['binaryData[a]']);
    const secret = validateSecret({ data: { k: 'not base64!' } });
    expect(fields(secret)).toEqual(['data[k]']);
    expect(JSON.stringify(secret)).not.toContain('not base64!');
    expect(validateSecret({ data: { k: Buffer.alloc(MAX_CONFIG_DATA_BYTES).toString('base64') } })).toEqual(
      [],
    );
    expect(
      fields(validateSecret({ data: { k: Buffer.alloc(MAX_CONFIG_DATA_BYTES + 1).toString('base64') } })),
    ).toEqual(['data']);
  });
});

describe('finalizers and owner references', () => {
  const rule = nameRuleFor('', 'configmaps');

  it('wants qualified finalizer names, not orphan and foregroundDeletion together', () => {
    expect(validateObjectMeta({ name: 'n', finalizers: ['example.com/x', 'kubernetes'] }, rule)).toEqual([]);
    expect(fields(validateObjectMeta({ name: 'n', finalizers: ['bad name'] }, rule))).toEqual([
      'metadata.finalizers[0]',
    ]);
    expect(
      fields(validateObjectMeta({ name: 'n', finalizers: ['orphan', 'foregroundDeletion'] }, rule)),
    ).toEqual(['metadata.finalizers']);
  });

  it('wants owner references complete and at most one controller', () => {
    const ref = (name: string, controller: boolean) => ({
      apiVersion: 'v1',
      kind: 'K',
      name,
      uid: name,
      controller,
    });
    expect(
      validateObjectMeta({ name: 'n', ownerReferences: [ref('a', true), ref('b', false)] }, rule),
    ).toEqual([]);
    expect(
      fields(validateObjectMeta({ name: 'n', ownerReferences: [ref('a', true), ref('b', true)] }, rule)),
    ).toEqual(['metadata.ownerReferences']);
    expect(fields(validateObjectMeta({ name: 'n', ownerReferences: [{ kind: 'K' }] }, rule))).toEqual([
      'metadata.ownerReferences[0].apiVersion',
      'metadata.ownerReferences[0].name',
      'metadata.ownerReferences[0].uid',
    ]);
  });
});

describe('metadata on update', () => {
  const current = { name: 'n', uid: 'u1', creationTimestamp: '2020-01-01T00:00:00Z', finalizers: ['a/b'] };

  it('refuses a new uid (unless it is a PUT precondition), a deletion mark and a grace period', () => {
    const causes = validateObjectMetaUpdate(
      { ...current, uid: 'u2', deletionTimestamp: '2030-01-01T00:00:00Z', deletionGracePeriodSeconds: 1 },
      current,
      { checkUid: true },
    );
    expect(fields(causes)).toEqual([
      'metadata.uid',
      'metadata.deletionTimestamp',
      'metadata.deletionGracePeriodSeconds',
    ]);
    expect(causes[0].message).toBe('Invalid value: "u2": field is immutable');
    expect(validateObjectMetaUpdate({ ...current, uid: 'u2' }, current, { checkUid: false })).toEqual([]);
  });

  it('ignores what the server keeps (creationTimestamp, a deletion under way) and forbids new finalizers while deleting', () => {
    expect(
      validateObjectMetaUpdate({ ...current, creationTimestamp: 'x', uid: '' }, current, { checkUid: true }),
    ).toEqual([]);
    const deleting = { ...current, deletionTimestamp: '2030-01-01T00:00:00Z', deletionGracePeriodSeconds: 0 };
    expect(validateObjectMetaUpdate({ ...current, finalizers: [] }, deleting, { checkUid: true })).toEqual(
      [],
    );
    expect(
      validateObjectMetaUpdate({ ...current, finalizers: ['a/b', 'c/d'] }, deleting, { checkUid: true }),
    ).toEqual([
      {
        reason: 'FieldValueForbidden',
        message:
          'Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"c/d"}',
        field: 'metadata.finalizers',
      },
    ]);
  });
});

describe('shapes defaulting relies on', () => {
  it('finds fields of the wrong JSON type, with their paths', () => {
    expect(validateShape('', 'pods', { spec: { containers: [{ name: 'c' }] } })).toEqual([]);
    expect(fields(validateShape('', 'pods', { spec: { containers: [true, null, { ports: {} }] } }))).toEqual([
      'spec.containers[0]',
      'spec.containers[1]',
      'spec.containers[2].ports',
    ]);
    expect(
      fields(
        validateShape('apps', 'deployments', {
          spec: { template: { spec: { volumes: [{ secret: 'x' }] } } },
        }),
      ),
    ).toEqual(['spec.template.spec.volumes[0].secret']);
    expect(validateShape('', 'configmaps', { data: [] })).toEqual([]);
  });
});
