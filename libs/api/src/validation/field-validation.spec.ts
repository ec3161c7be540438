import { describe, expect, it } from '@jest/globals';

import { isStatusError, type StatusError } from '../errors/index.js';
import { schemaCatalog } from '../openapi/schema-derivation.js';
import { FieldValidation, parseFieldValidation, pruneUnknownFields } from './field-validation.js';

const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };
const def = (group: string, kind: string) => schemaCatalog().definitionOf(group, 'v1', kind) as string;

function deployment(): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      labels: { any: 'label' },
      bogus: 1,
      managedFields: [{ fieldsV1: { 'f:free': {} } }],
    },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      strategy: { rollingUpdate: { maxSurge: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'a', image: 'x', resources: { limits: { cpu: '1' } } },
            { name: 'b', image: 'y', imagee: 'typo', ports: [{ containerPort: 80, hostPortt: 1 }] },
          ],
        },
      },
      replicaz: 3,
    },
  };
}

function thrown(fn: () => void): StatusError {
  try {
    fn();
  } catch (e) {
    if (isStatusError(e)) return e;
    throw e;
  }
  throw new Error('nothing thrown');
}

describe('unknown fields', () => {
  it('drops every field the schema does not declare and names each with its path, in document order', () => {
    const obj = deployment();
    const unknown = pruneUnknownFields(schemaCatalog(), def('apps', 'Deployment'), obj);
    expect(unknown).toEqual([
      'metadata.bogus',
      'spec.template.spec.containers[1].imagee',
      'spec.template.spec.containers[1].ports[0].hostPortt',
      'spec.replicaz',
    ]);
    const spec = obj.spec as { template: { spec: { containers: Record<string, unknown>[] } } };
    expect(spec.template.spec.containers[1]).toEqual({
      name: 'b',
      image: 'y',
      ports: [{ containerPort: 80 }],
    });
    expect(obj.metadata).not.toHaveProperty('bogus');
  });

  it('leaves maps, free-form JSON and IntOrString values alone', () => {
    const obj = deployment();
    pruneUnknownFields(schemaCatalog(), def('apps', 'Deployment'), obj);
    const meta = obj.metadata as { labels: object; managedFields: { fieldsV1: object }[] };
    expect(meta.labels).toEqual({ any: 'label' });
    expect(meta.managedFields[0].fieldsV1).toEqual({ 'f:free': {} });
    const revision = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      revision: 1,
      data: { anything: { goes: 1 } },
    };
    expect(pruneUnknownFields(schemaCatalog(), def('apps', 'ControllerRevision'), revision)).toEqual([]);
  });

  it('treats prototype names as the unknown fields they are', () => {
    const obj = JSON.parse('{"metadata":{"name":"x"},"__proto__":{"polluted":1},"constructor":1}') as object;
    expect(pruneUnknownFields(schemaCatalog(), def('', 'ConfigMap'), obj)).toEqual([
      '__proto__',
      'constructor',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('ignores values of the wrong type (schema validation reports those)', () => {
    const obj = { spec: 'not an object', metadata: { labels: ['x'] } };
    expect(pruneUnknownFields(schemaCatalog(), def('', 'Pod'), obj)).toEqual([]);
  });
});

describe('fieldValidation modes', () => {
  it('defaults to Warn and refuses unknown directives with the supported values', () => {
    expect(parseFieldValidation(undefined)).toBe('Warn');
    expect(parseFieldValidation('')).toBe('Warn');
    expect(parseFieldValidation('Strict')).toBe('Strict');
    const e = thrown(() => parseFieldValidation('strict'));
    expect(e.code).toBe(400);
    expect(e.message).toBe(
      'fieldValidation: Unsupported value: "strict": supported values: "Ignore", "Warn", "Strict"',
    );
  });

  it("Strict fails with upstream's strict decoding error, unknown then duplicate fields", () => {
    const fv = new FieldValidation('Strict', ['metadata.name']);
    const e = thrown(() => fv.check(DEPLOYMENT, deployment()));
    expect(e.reason).toBe('BadRequest');
    expect(e.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "metadata.bogus", unknown field "spec.template.spec.containers[1].imagee", unknown field "spec.template.spec.containers[1].ports[0].hostPortt", unknown field "spec.replicaz", duplicate field "metadata.name"',
    );
    expect(thrown(() => new FieldValidation('Strict', ['a']).check(DEPLOYMENT, {}, false)).message).toBe(
      'strict decoding error: duplicate field "a"',
    );
    expect(() => new FieldValidation('Strict').check(DEPLOYMENT, { spec: { replicas: 1 } })).not.toThrow();
  });

  it('Warn drops and warns; Ignore drops silently; both keep going', () => {
    const warn = new FieldValidation('Warn', ['x']);
    const obj = { spec: { replicaz: 1 } };
    warn.check(DEPLOYMENT, obj);
    expect(obj).toEqual({ spec: {} });
    expect(warn.warnings()).toEqual(['unknown field "spec.replicaz"', 'duplicate field "x"']);
    const ignore = new FieldValidation('Ignore');
    const other = { spec: { replicaz: 1 } };
    ignore.check(DEPLOYMENT, other);
    expect(other).toEqual({ spec: {} });
    expect(ignore.warnings()).toEqual([]);
  });

  it('reports a retried check once (a patch retried on conflict checks again)', () => {
    const warn = new FieldValidation('Warn');
    warn.check(DEPLOYMENT, { spec: { replicaz: 1 } });
    warn.check(DEPLOYMENT, { spec: { replicaz: 1 } });
    expect(warn.warnings()).toEqual(['unknown field "spec.replicaz"']);
  });
});
