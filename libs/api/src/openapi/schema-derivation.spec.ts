import { describe, expect, it } from '@jest/globals';

import { BUILTIN_TYPES } from '../registry/builtin-types.js';
import { ResourceRegistry } from '../registry/resource-registry.js';
import { parseDts } from './dts-model.js';
import { OpenApiDocuments, toV2Schema } from './documents.js';
import { type Schema, SchemaCatalog } from './schema-derivation.js';

const catalog = new SchemaCatalog();
const ref = (def: string) => `#/components/schemas/${def}`;
const props = (def: string) => catalog.schema(def)?.properties as Record<string, Schema>;
const POD_SPEC = 'io.k8s.api.core.v1.PodSpec';

describe('OpenAPI schemas derived from kubernetes-models', () => {
  it('gives every served kind a schema tagged with its group-version-kind, and its list', () => {
    for (const t of BUILTIN_TYPES) {
      const def = catalog.definitionOf(t.group, t.version, t.kind) as string;
      expect(def).toMatch(new RegExp(`\\.${t.version}\\.${t.kind}$`));
      expect(catalog.schema(def)?.['x-kubernetes-group-version-kind']).toContainEqual({
        group: t.group,
        version: t.version,
        kind: t.kind,
      });
      expect(catalog.definitionOf(t.group, t.version, `${t.kind}List`)).toBe(`${def}List`);
    }
    expect(catalog.definitionOf('rbac.authorization.k8s.io', 'v1', 'ClusterRole')).toBe(
      'io.k8s.api.rbac.v1.ClusterRole',
    );
    expect(catalog.definitionOf('events.k8s.io', 'v1', 'Event')).toBe('io.k8s.api.events.v1.Event');
    expect(catalog.definitionOf('example.com', 'v1', 'Nothing')).toBeUndefined();
  });

  it('keeps structure, descriptions and required fields: PodSpec.containers is an array of Container', () => {
    const spec = catalog.schema(POD_SPEC) as Schema;
    expect(spec.description).toBe('PodSpec is a description of a pod.');
    expect(spec.required).toEqual(['containers']);
    expect(props(POD_SPEC).containers).toEqual({
      description: expect.stringMatching(/^List of containers belonging to the pod\./),
      type: 'array',
      items: { $ref: ref('io.k8s.api.core.v1.Container') },
    });
    expect(props('io.k8s.api.core.v1.Container').name).toMatchObject({ type: 'string' });
    expect(catalog.schema('io.k8s.api.core.v1.Container')?.required).toEqual(['name']);
  });

  it('turns literal unions into enums, with upstream descriptions kept line for line', () => {
    const policy = props(POD_SPEC).restartPolicy;
    expect(policy.type).toBe('string');
    expect(policy.enum).toEqual(['Always', 'Never', 'OnFailure']);
    expect(policy.description).toContain('\n\nPossible enum values:\n - `"Always"`');
  });

  it('types numbers with client-node formats (integer int32/int64) and marks byte strings', () => {
    expect(props('io.k8s.api.core.v1.ContainerPort').containerPort).toMatchObject({
      type: 'integer',
      format: 'int32',
    });
    expect(props(POD_SPEC).activeDeadlineSeconds).toMatchObject({ type: 'integer', format: 'int64' });
    expect(props('io.k8s.api.core.v1.Secret').data).toMatchObject({
      type: 'object',
      additionalProperties: { type: 'string', format: 'byte' },
    });
  });

  it('writes maps as additionalProperties', () => {
    expect(props('io.k8s.api.core.v1.ConfigMap').data).toMatchObject({
      type: 'object',
      additionalProperties: { type: 'string' },
    });
    expect(props('io.k8s.api.core.v1.ResourceRequirements').limits).toMatchObject({
      type: 'object',
      additionalProperties: { $ref: ref('io.k8s.apimachinery.pkg.api.resource.Quantity') },
    });
  });

  it('handles the special apimachinery types: IntOrString, Quantity, Time, RawExtension, FieldsV1', () => {
    expect(catalog.schema('io.k8s.apimachinery.pkg.util.intstr.IntOrString')).toMatchObject({
      format: 'int-or-string',
      oneOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
    });
    expect(props('io.k8s.api.core.v1.ServicePort').targetPort.$ref).toBe(
      ref('io.k8s.apimachinery.pkg.util.intstr.IntOrString'),
    );
    expect(catalog.schema('io.k8s.apimachinery.pkg.api.resource.Quantity')).toEqual({
      oneOf: [{ type: 'string' }, { type: 'number' }],
    });
    expect(catalog.schema('io.k8s.apimachinery.pkg.apis.meta.v1.Time')).toMatchObject({
      type: 'string',
      format: 'date-time',
    });
    for (const free of [
      'io.k8s.apimachinery.pkg.runtime.RawExtension',
      'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
    ])
      expect(catalog.schema(free)).toMatchObject({
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
      });
  });

  it('describes apiVersion and kind as upstream does, and does not require them', () => {
    const pod = catalog.schema('io.k8s.api.core.v1.Pod') as Schema;
    expect(props('io.k8s.api.core.v1.Pod').apiVersion).toMatchObject({
      type: 'string',
      description: expect.stringMatching(/^APIVersion defines/),
    });
    expect(pod.required).toBeUndefined();
  });

  it('keeps object types written inline (StatefulSetSpec.volumeClaimTemplates)', () => {
    const templates = props('io.k8s.api.apps.v1.StatefulSetSpec').volumeClaimTemplates;
    expect(templates).toMatchObject({ type: 'array', items: { type: 'object' } });
    expect(Object.keys((templates.items as Schema).properties as object)).toEqual([
      'apiVersion',
      'kind',
      'metadata',
      'spec',
      'status',
    ]);
  });

  it('references only definitions it has derived', () => {
    const all = catalog.closure([catalog.definitionOf('apps', 'v1', 'Deployment') as string]);
    expect(all.has(POD_SPEC)).toBe(true);
    expect(all.has('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')).toBe(true);
  });
});

describe('the generated declaration reader', () => {
  const file = (body: string) => `import { IIoK8sApiCoreV1Thing } from "./Thing.js";
/**
 * A widget.
 *
 * Second paragraph.
 */
export interface IWidget {
${body}
}
export type { IWidget as IIoK8sApiCoreV1Widget, Widget as IoK8sApiCoreV1Widget };
`;

  it('reads descriptions, optionality, arrays, maps, enums and references', () => {
    const { model, fullName } = parseDts(
      file(`    /**
     * How many.
     */
    "count"?: number;
    "mode": "A" | "B";
    "things"?: Array<IIoK8sApiCoreV1Thing>;
    "tags"?: {
        [key: string]: string;
    };`),
    );
    expect(fullName).toBe('IIoK8sApiCoreV1Widget');
    expect(model).toEqual({
      kind: 'interface',
      description: 'A widget.\n\nSecond paragraph.',
      properties: [
        { name: 'count', optional: true, description: 'How many.', type: { kind: 'number' } },
        { name: 'mode', optional: false, type: { kind: 'enum', values: ['A', 'B'] } },
        {
          name: 'things',
          optional: true,
          type: { kind: 'array', items: { kind: 'ref', name: 'IIoK8sApiCoreV1Thing', from: './Thing.js' } },
        },
        { name: 'tags', optional: true, type: { kind: 'map', values: { kind: 'string' } } },
      ],
    });
  });

  it('refuses what it does not understand rather than guessing', () => {
    expect(() => parseDts(file('    "x": Promise<string>;'))).toThrow(/unsupported type/);
    expect(() => parseDts(file('    "x": IUnimported;'))).toThrow(/not imported/);
  });
});

describe('the OpenAPI documents', () => {
  const registry = new ResourceRegistry();
  const docs = new OpenApiDocuments(registry, catalog, 'test');

  it('has a root entry for every served group-version and a PATCH with fieldValidation for every kind', () => {
    const root = docs.root();
    for (const t of registry.types) {
      const gv = t.group ? `apis/${t.group}/${t.version}` : 'api/v1';
      expect(root.paths[gv].serverRelativeURL).toBe(`/openapi/v3/${gv}?hash=${docs.v3(gv)?.hash}`);
      const doc = JSON.parse(docs.v3(gv)?.json as string) as {
        paths: Record<
          string,
          Record<
            string,
            { parameters?: { name: string; in: string }[]; 'x-kubernetes-group-version-kind': object }
          >
        >;
        components: { schemas: Record<string, unknown> };
      };
      const base = `/${gv}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
      const patch = doc.paths[`${base}/{name}`].patch;
      expect(patch['x-kubernetes-group-version-kind']).toEqual({
        group: t.group,
        version: t.version,
        kind: t.kind,
      });
      expect(patch.parameters).toContainEqual(
        expect.objectContaining({ name: 'fieldValidation', in: 'query' }),
      );
      expect(doc.paths[base].post).toBeDefined();
      // Every reference resolves inside the document.
      for (const m of docs.v3(gv)?.json.matchAll(/"#\/components\/schemas\/([^"]+)"/g) ?? [])
        expect(doc.components.schemas).toHaveProperty([m[1]]);
    }
    expect(docs.v3('apis/nope/v1')).toBeUndefined();
  });

  it('writes Swagger 2.0 with #/definitions references and string IntOrString', () => {
    const v2 = JSON.parse(docs.v2().json) as { swagger: string; definitions: Record<string, Schema> };
    expect(v2.swagger).toBe('2.0');
    expect(v2.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({
      type: 'string',
      format: 'int-or-string',
    });
    expect(docs.v2().json).not.toContain('#/components/schemas/');
    expect(toV2Schema({ properties: { a: { $ref: ref('x.Y') } } })).toEqual({
      properties: { a: { $ref: '#/definitions/x.Y' } },
    });
  });
});
