import { describe, expect, it } from '@jest/globals';

import { applyDefaults } from '../defaults/index.js';
import { validatePodUpdate } from './pod-update.js';
import { validateKind, validateKindChange } from './workloads.js';

type Json = Record<string, unknown>;

// Cases after pkg/apis/core/validation TestValidatePodUpdate: an old pod, the spec change
// made to it, and whether the update is allowed (else the field and reason of each refusal).
function pod(spec: Json): Json {
  return {
    metadata: { name: 'p', namespace: 'ns' },
    spec: {
      containers: [{ name: 'app', image: 'nginx:1', imagePullPolicy: 'IfNotPresent' }],
      restartPolicy: 'Always',
      ...spec,
    },
  };
}

function refusals(oldSpec: Json, newSpec: Json) {
  return validatePodUpdate(pod(newSpec), pod(oldSpec)).map((c) => [c.field, c.reason]);
}

const forbiddenSpec = [['spec', 'FieldValueForbidden']];

describe('validatePodUpdate (ValidatePodUpdate)', () => {
  it('allows an unchanged spec, and treats absent, null, empty and zero values as the same', () => {
    expect(refusals({}, {})).toEqual([]);
    expect(refusals({ tolerations: [] }, { tolerations: null, volumes: [] })).toEqual([]);
    // What a client decoding into Go structs sends back (omitempty drops false and "").
    expect(
      refusals(
        { hostNetwork: false, containers: [{ name: 'app', image: 'nginx:1', stdin: false, workingDir: '' }] },
        { containers: [{ name: 'app', image: 'nginx:1' }] },
      ),
    ).toEqual([]);
  });

  it('allows a new image for a container and an init container', () => {
    const init = (image: string) => ({ initContainers: [{ name: 'setup', image }] });
    expect(
      refusals(init('busybox:1'), {
        ...init('busybox:2'),
        containers: [{ name: 'app', image: 'nginx:2', imagePullPolicy: 'IfNotPresent' }],
      }),
    ).toEqual([]);
  });

  it('refuses an added or removed container, and a container without an image', () => {
    expect(
      refusals(
        {},
        {
          containers: [
            { name: 'app', image: 'nginx:1' },
            { name: 'side', image: 'nginx:1' },
          ],
        },
      ),
    ).toEqual([['spec.containers', 'FieldValueForbidden']]);
    // A missing image is validatePodSpec's to report, once.
    expect(
      refusals({}, { containers: [{ name: 'app', image: '', imagePullPolicy: 'IfNotPresent' }] }),
    ).toEqual([]);
    expect(
      refusals({}, { containers: [{ name: 'app', image: ' nginx:1', imagePullPolicy: 'IfNotPresent' }] }),
    ).toEqual([['spec.containers[0].image', 'FieldValueInvalid']]);
  });

  it('refuses a change to anything else of a container (its command) with the fields upstream lets change', () => {
    const causes = validatePodUpdate(
      pod({ containers: [{ name: 'app', image: 'nginx:1', command: ['sh'] }] }),
      pod({ containers: [{ name: 'app', image: 'nginx:1' }] }),
    );
    expect(causes).toHaveLength(1);
    expect(causes[0]).toMatchObject({ field: 'spec', reason: 'FieldValueForbidden' });
    expect(causes[0]!.message).toMatch(
      /^Forbidden: pod updates may not change fields other than `spec\.containers\[\*\]\.image`,.*\nchanged: spec\.containers$/s,
    );
  });

  it('activeDeadlineSeconds: set, or lowered; not raised, removed or out of range', () => {
    expect(refusals({}, { activeDeadlineSeconds: 30 })).toEqual([]);
    expect(refusals({ activeDeadlineSeconds: 30 }, { activeDeadlineSeconds: 10 })).toEqual([]);
    expect(refusals({ activeDeadlineSeconds: 30 }, { activeDeadlineSeconds: 31 })).toEqual([
      ['spec.activeDeadlineSeconds', 'FieldValueInvalid'],
    ]);
    expect(refusals({ activeDeadlineSeconds: 30 }, {})).toEqual([
      ['spec.activeDeadlineSeconds', 'FieldValueInvalid'],
    ]);
    expect(refusals({}, { activeDeadlineSeconds: -1 })).toEqual([
      ['spec.activeDeadlineSeconds', 'FieldValueInvalid'],
    ]);
    // A removed deadline does not stop the other checks.
    expect(refusals({ activeDeadlineSeconds: 30, nodeName: 'a' }, { nodeName: 'b' })).toEqual([
      ['spec.activeDeadlineSeconds', 'FieldValueInvalid'],
      ['spec', 'FieldValueForbidden'],
    ]);
  });

  it('tolerations: added, or a tolerationSeconds changed; an existing one not changed or removed', () => {
    const t = (o: Json = {}) => ({ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute', ...o });
    expect(refusals({ tolerations: [t()] }, { tolerations: [t(), t({ key: 'k2' })] })).toEqual([]);
    expect(
      refusals(
        { tolerations: [t({ tolerationSeconds: 10 })] },
        { tolerations: [t({ tolerationSeconds: 20 })] },
      ),
    ).toEqual([]);
    expect(refusals({ tolerations: [t()] }, { tolerations: [t({ value: 'w' })] })).toEqual([
      ['spec.tolerations', 'FieldValueForbidden'],
    ]);
    expect(refusals({ tolerations: [t()] }, {})).toEqual([['spec.tolerations', 'FieldValueForbidden']]);
  });

  it('scheduling gates: removed, never added; a gated pod may gain nodeSelector entries only', () => {
    const gates = (...names: string[]) => ({ schedulingGates: names.map((name) => ({ name })) });
    expect(refusals(gates('a', 'b'), gates('b'))).toEqual([]);
    expect(refusals(gates('a'), gates('a', 'c'))).toEqual([
      ['spec.schedulingGates[1].name', 'FieldValueForbidden'],
    ]);
    expect(
      refusals(
        { ...gates('a'), nodeSelector: { x: '1' } },
        { ...gates('a'), nodeSelector: { x: '1', y: '2' } },
      ),
    ).toEqual([]);
    expect(
      refusals({ ...gates('a'), nodeSelector: { x: '1' } }, { ...gates('a'), nodeSelector: { x: '2' } }),
    ).toEqual(forbiddenSpec);
    expect(refusals({ nodeSelector: { x: '1' } }, { nodeSelector: { x: '1', y: '2' } })).toEqual(
      forbiddenSpec,
    );
  });

  it('terminationGracePeriodSeconds: only a negative one set to 1', () => {
    expect(refusals({ terminationGracePeriodSeconds: -1 }, { terminationGracePeriodSeconds: 1 })).toEqual([]);
    expect(refusals({ terminationGracePeriodSeconds: 30 }, { terminationGracePeriodSeconds: 1 })).toEqual(
      forbiddenSpec,
    );
  });

  it('refuses nodeName, ephemeral containers and volumes changed by a plain update', () => {
    expect(refusals({}, { nodeName: 'n1' })).toEqual(forbiddenSpec);
    expect(refusals({}, { ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] })).toEqual(forbiddenSpec);
    expect(refusals({ ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] }, {})).toEqual(forbiddenSpec);
    expect(refusals({}, { volumes: [{ name: 'v', emptyDir: {} }] })).toEqual(forbiddenSpec);
  });
});

describe('pod changes through validateKindChange', () => {
  it('compares with the stored pod defaulted: a default added since it was written is no change', () => {
    // Stored before ephemeral containers got their defaults (say): no terminationMessagePath.
    const stored = pod({ ephemeralContainers: [{ name: 'dbg', image: 'busybox:1' }] });
    const sent = structuredClone(stored);
    (sent.metadata as Json).labels = { a: 'b' };
    // The write's pod is defaulted before it is validated.
    applyDefaults('', 'pods', sent);
    expect(validateKindChange('', 'pods', sent, stored)).toEqual([]);
    expect(validateKindChange('', 'pods', sent, stored, 'ephemeralcontainers')).toEqual([]);
  });

  it('a pod template may not have ephemeral containers', () => {
    const deployment = {
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: {
          metadata: { labels: { a: 'b' } },
          spec: {
            containers: [{ name: 'app', image: 'x' }],
            ephemeralContainers: [{ name: 'dbg', image: 'x' }],
          },
        },
      },
    };
    expect(validateKind('apps', 'deployments', deployment)).toContainEqual({
      reason: 'FieldValueForbidden',
      message: 'Forbidden: ephemeral containers not allowed in pod template',
      field: 'spec.template.spec.ephemeralContainers',
    });
  });
});
