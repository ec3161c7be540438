import { describe, expect, it } from '@jest/globals';

import { BUILTIN_TYPES } from '../registry/builtin-types.js';
import { type ResourceType } from '../registry/resource-type.js';
import { validateSchema } from './schema-validation.js';

const typeOf = (group: string, kind: string) =>
  BUILTIN_TYPES.find((t) => t.group === group && t.kind === kind) as ResourceType;
const POD = typeOf('', 'Pod');

describe('schema validation with kubernetes-models validators', () => {
  it('reports type, required and enum violations as causes with Kubernetes field paths', async () => {
    const causes = await validateSchema(POD, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'x' },
      spec: {
        restartPolicy: 'Sometimes',
        containers: [{ name: 'c', ports: [{ containerPort: 'http' }] }, { image: 'y' }],
      },
    });
    expect(causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "http": must be of type integer',
        field: 'spec.containers[0].ports[0].containerPort',
      },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[1].name' },
      {
        reason: 'FieldValueNotSupported',
        message: 'Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
        field: 'spec.restartPolicy',
      },
    ]);
  });

  it('accepts nulls and empty objects, as kubectl rollout undo sends them', async () => {
    const causes = await validateSchema(typeOf('apps', 'Deployment'), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', creationTimestamp: null },
      spec: {
        replicas: null,
        selector: { matchLabels: { app: 'd' } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'd' } },
          spec: {
            containers: [
              { name: 'a', image: 'x', resources: {}, ports: [{ containerPort: 80, protocol: null }] },
            ],
          },
        },
      },
    });
    expect(causes).toEqual([]);
  });

  it('words an IntOrString of the wrong type once, and checks int32 ranges', async () => {
    const causes = await validateSchema(typeOf('', 'Service'), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { ports: [{ port: 2 ** 40, targetPort: { no: 1 } }] },
    });
    expect(causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${2 ** 40}: must be of format int32`,
        field: 'spec.ports[0].port',
      },
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "object": must be an integer or a string',
        field: 'spec.ports[0].targetPort',
      },
    ]);
  });

  it('validates events.k8s.io Events in the shape they are served in', async () => {
    const eventsV1 = typeOf('events.k8s.io', 'Event');
    // Stored in the core shape: `involvedObject` is served as `regarding`.
    const stored = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e' },
      eventTime: null,
      involvedObject: { kind: 3 },
    };
    expect(await validateSchema(eventsV1, stored)).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: 3: must be of type string',
        field: 'regarding.kind',
      },
    ]);
  });
});
