import { describe, expect, it } from '@jest/globals';

import { emptySet, insert, toFieldsV1 } from './field-set.js';
import {
  decodeManagedFields,
  encodeManagedFields,
  identityOf,
  isReset,
  type Manager,
} from './managed-fields.js';
import { compareObjects } from './object-fields.js';
import { ANCIENT_CHANGES, MAX_UPDATE_MANAGERS, trackUpdate, UNTRACKED } from './server-side-apply.js';

const DEPLOY = { group: 'apps', plural: 'deployments' };

function manager(name: string, operation: 'Apply' | 'Update', time: string, field = name): Manager {
  const set = emptySet();
  insert(set, ['f:metadata', 'f:labels', `f:${field}`]);
  return { manager: name, operation, apiVersion: 'apps/v1', time, set };
}

describe('managedFields entries', () => {
  it('sorts Apply before Update, then by time and manager, and drops empty entries', () => {
    const entries = encodeManagedFields([
      manager('u2', 'Update', '2026-01-01T00:00:02Z'),
      manager('u1', 'Update', '2026-01-01T00:00:02Z'),
      manager('a', 'Apply', '2026-01-01T00:00:09Z'),
      manager('u0', 'Update', '2026-01-01T00:00:01Z'),
      { ...manager('empty', 'Update', '2026-01-01T00:00:00Z'), set: emptySet() },
    ]);
    expect(entries.map((e) => e.manager)).toEqual(['a', 'u0', 'u1', 'u2']);
    expect(entries[0]).toEqual({
      manager: 'a',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: '2026-01-01T00:00:09Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:labels': { 'f:a': {} } } },
    });
  });

  it('decodes what it encodes, and refuses entries upstream refuses', () => {
    const entries = encodeManagedFields([manager('a', 'Apply', '2026-01-01T00:00:00Z')]);
    const [m] = decodeManagedFields(entries);
    expect(toFieldsV1(m.set)).toEqual(entries[0].fieldsV1);
    expect(() => decodeManagedFields([{ ...entries[0], operation: 'Patch' }])).toThrow('operation');
    expect(() => decodeManagedFields([{ ...entries[0], fieldsType: 'FieldsV2' }])).toThrow('fieldsType');
    expect(() => decodeManagedFields([{ ...entries[0], apiVersion: '' }])).toThrow('apiVersion');
    expect(() => decodeManagedFields([entries[0], entries[0]])).toThrow('duplicate');
    expect(() => decodeManagedFields([{ ...entries[0], fieldsV1: { 'x:y': {} } }])).toThrow('fieldsV1');
  });

  it('identifies appliers without their apiVersion, updaters with it (upstream identifiers)', () => {
    expect(identityOf({ manager: 'k', operation: 'Apply', apiVersion: 'apps/v1' })).toBe(
      '{"manager":"k","operation":"Apply"}',
    );
    expect(
      identityOf({ manager: 'k', operation: 'Update', apiVersion: 'apps/v1', subresource: 'status' }),
    ).toBe('{"manager":"k","operation":"Update","apiVersion":"apps/v1","subresource":"status"}');
  });

  it('recognises only [{}] (not []) as a reset', () => {
    expect(isReset([{}])).toBe(true);
    expect(isReset([])).toBe(false);
    expect(isReset([{ manager: 'x' }])).toBe(false);
  });

  it('merges the oldest of more than 10 Update entries into ancient-changes', () => {
    const many = Array.from({ length: MAX_UPDATE_MANAGERS + 1 }, (_, i) =>
      manager(`m${String(i).padStart(2, '0')}`, 'Update', `2026-01-01T00:00:${String(10 + i)}Z`),
    );
    const live = { metadata: { labels: {}, managedFields: encodeManagedFields(many) } };
    const next = { metadata: { labels: { fresh: 'x' }, managedFields: encodeManagedFields(many) } };
    const out =
      trackUpdate({
        kind: DEPLOY,
        apiVersion: 'apps/v1',
        manager: 'newest',
        now: '2026-01-01T00:01:00Z',
        ignored: UNTRACKED,
        live,
        next,
      }) ?? [];
    expect(out).toHaveLength(MAX_UPDATE_MANAGERS);
    const ancient = out.find((e) => e.manager === ANCIENT_CHANGES);
    expect(ancient?.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:m00': {}, 'f:m01': {}, 'f:m02': {} } },
    });
    expect(out.some((e) => e.manager === 'newest')).toBe(true);
  });
});

describe('compare, as Update tracking sees it', () => {
  it('marks a map that appears as a whole with ".", as upstream records labels', () => {
    const { changed } = compareObjects(DEPLOY, { metadata: {} }, { metadata: { labels: { app: 'x' } } });
    expect(toFieldsV1(changed)).toEqual({ 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } });
  });

  it('records an emptied-out object as a leaf change, and unchanged values not at all', () => {
    const { changed, removed } = compareObjects(
      DEPLOY,
      { spec: { replicas: 1, template: { spec: { securityContext: null } } } },
      { spec: { replicas: 1, template: { spec: { securityContext: {} } } } },
    );
    expect(toFieldsV1(changed)).toEqual({
      'f:spec': { 'f:template': { 'f:spec': { 'f:securityContext': {} } } },
    });
    expect(toFieldsV1(removed)).toEqual({});
  });
});
