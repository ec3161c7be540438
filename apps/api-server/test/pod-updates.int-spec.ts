import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

/**
 * What may change in a pod once it exists, through the real API server, log and bus: a plain
 * update only images, a lower deadline, added tolerations (ValidatePodUpdate), and
 * `pods/ephemeralcontainers` only spec.ephemeralContainers, only by adding; the validation of
 * an ephemeral container; each refusal a 422 Status with upstream's field path that stores
 * nothing.
 */

const ns = 'ephemeral';
const PODS = `/api/v1/namespaces/${ns}/pods`;
const SMP = { 'content-type': 'application/strategic-merge-patch+json' };

interface Pod {
  metadata: {
    name: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    managedFields?: unknown[];
  };
  spec: {
    containers: { name: string }[];
    ephemeralContainers?: Record<string, unknown>[];
    activeDeadlineSeconds?: number;
  };
  status?: Record<string, unknown>;
}

interface Status {
  kind: string;
  code: number;
  reason: string;
  details?: { causes?: { field?: string; reason?: string; message?: string }[] };
}

describe('pod updates and pods/ephemeralcontainers', () => {
  let c: ApiCluster;

  beforeAll(async () => {
    c = await startApiCluster();
    await c.ok('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  });
  afterAll(async () => {
    await c?.close();
  });

  async function createPod(name: string): Promise<Pod> {
    return c.ok<Pod>('POST', PODS, {
      metadata: { name, labels: { app: name } },
      spec: {
        containers: [{ name: 'app', image: 'busybox' }],
        initContainers: [{ name: 'setup', image: 'busybox' }],
      },
    });
  }

  const debuggerContainer = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    image: 'busybox',
    stdin: true,
    tty: true,
    targetContainerName: 'app',
    ...extra,
  });

  /** A refusal as a 422 Status naming these causes (field and reason), the pod unchanged. */
  async function expectRefused(
    pod: string,
    reply: { status: number; body: unknown },
    causes: { field: string; reason: string; message?: string }[],
  ): Promise<void> {
    const before = await c.ok<Pod>('GET', `${PODS}/${pod}`);
    expect(reply.status).toBe(422);
    const status = reply.body as Status;
    expect(status).toMatchObject({ kind: 'Status', code: 422, reason: 'Invalid' });
    expect(status.details?.causes).toEqual(
      causes.map((k) => expect.objectContaining(k.message ? k : { field: k.field, reason: k.reason })),
    );
    const after = await c.ok<Pod>('GET', `${PODS}/${pod}`);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  }

  it('is in discovery with get, patch and update, returning a Pod', async () => {
    const list = await c.ok<{ resources: { name: string; kind: string; verbs: string[] }[] }>(
      'GET',
      '/api/v1',
    );
    expect(list.resources.find((r) => r.name === 'pods/ephemeralcontainers')).toEqual(
      expect.objectContaining({ kind: 'Pod', verbs: ['get', 'patch', 'update'] }),
    );
  });

  it('adds a debugger with a strategic merge patch (as kubectl debug sends it), defaulted, changing nothing else', async () => {
    const pod = await createPod('web');
    const patched = await c.ok<Pod>(
      'PATCH',
      `${PODS}/web/ephemeralcontainers?fieldManager=kubectl-debug`,
      JSON.stringify({
        // Everything but the ephemeral container is dropped, as upstream's strategy drops it.
        metadata: { labels: { app: 'changed' } },
        spec: { activeDeadlineSeconds: 5, ephemeralContainers: [debuggerContainer('debugger-abcde')] },
      }),
      SMP,
    );
    expect(patched.spec.ephemeralContainers).toEqual([
      {
        ...debuggerContainer('debugger-abcde'),
        imagePullPolicy: 'Always',
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
    ]);
    expect(patched.metadata.labels).toEqual({ app: 'web' });
    expect(patched.spec.activeDeadlineSeconds).toBeUndefined();
    expect(Number(patched.metadata.resourceVersion)).toBeGreaterThan(Number(pod.metadata.resourceVersion));
    expect(patched.metadata.managedFields).toContainEqual(
      expect.objectContaining({
        manager: 'kubectl-debug',
        operation: 'Update',
        subresource: 'ephemeralcontainers',
      }),
    );
    // GET through the subresource is the pod.
    const got = await c.ok<Pod>('GET', `${PODS}/web/ephemeralcontainers`);
    expect(got.spec.ephemeralContainers?.map((e) => e.name)).toEqual(['debugger-abcde']);

    // A second one is added beside it; a PUT that keeps both and adds a third works too.
    const two = await c.ok<Pod>(
      'PATCH',
      `${PODS}/web/ephemeralcontainers`,
      JSON.stringify({ spec: { ephemeralContainers: [debuggerContainer('debugger-fghij')] } }),
      SMP,
    );
    expect(two.spec.ephemeralContainers?.map((e) => e.name)).toEqual(['debugger-abcde', 'debugger-fghij']);
    const three = await c.ok<Pod>('PUT', `${PODS}/web/ephemeralcontainers`, {
      ...two,
      spec: {
        ...two.spec,
        ephemeralContainers: [...two.spec.ephemeralContainers!, { name: 'shell', image: 'busybox' }],
      },
    });
    expect(three.spec.ephemeralContainers?.map((e) => e.name)).toEqual([
      'debugger-abcde',
      'debugger-fghij',
      'shell',
    ]);
  });

  it('refuses to remove or change an existing ephemeral container', async () => {
    await createPod('keep');
    const added = await c.ok<Pod>(
      'PATCH',
      `${PODS}/keep/ephemeralcontainers`,
      JSON.stringify({ spec: { ephemeralContainers: [debuggerContainer('dbg')] } }),
      SMP,
    );
    await expectRefused(
      'keep',
      await c.api('PUT', `${PODS}/keep/ephemeralcontainers`, {
        ...added,
        spec: { ...added.spec, ephemeralContainers: [] },
      }),
      [
        {
          field: 'spec.ephemeralContainers',
          reason: 'FieldValueForbidden',
          message: 'Forbidden: existing ephemeral containers "dbg" may not be removed\n',
        },
      ],
    );
    await expectRefused(
      'keep',
      await c.api(
        'PATCH',
        `${PODS}/keep/ephemeralcontainers`,
        JSON.stringify({ spec: { ephemeralContainers: [{ name: 'dbg', image: 'alpine' }] } }),
        SMP,
      ),
      [{ field: 'spec.ephemeralContainers', reason: 'FieldValueForbidden' }],
    );
  });

  it('refuses what an ephemeral container may not have: ports, probes, resources, lifecycle, subPath, an unknown target, a taken name', async () => {
    await createPod('strict');
    const at = 'spec.ephemeralContainers[0]';
    await expectRefused(
      'strict',
      await c.api(
        'PATCH',
        `${PODS}/strict/ephemeralcontainers`,
        JSON.stringify({
          spec: {
            ephemeralContainers: [
              debuggerContainer('dbg', {
                targetContainerName: 'nope',
                ports: [{ containerPort: 80 }],
                readinessProbe: { exec: { command: ['true'] } },
                resources: { limits: { cpu: '1' } },
                lifecycle: { preStop: { exec: { command: ['true'] } } },
                volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'x' }],
              }),
            ],
          },
        }),
        SMP,
      ),
      [
        `${at}.ports`,
        `${at}.resources`,
        `${at}.readinessProbe`,
        `${at}.lifecycle`,
        `${at}.volumeMounts[0].subPath`,
      ]
        .map((field) => ({
          field,
          reason: 'FieldValueForbidden',
          message: 'Forbidden: cannot be set for an Ephemeral Container',
        }))
        .concat([
          { field: `${at}.targetContainerName`, reason: 'FieldValueNotFound', message: 'Not found: "nope"' },
        ]),
    );
    // Names are unique across init, regular and ephemeral containers.
    await expectRefused(
      'strict',
      await c.api(
        'PATCH',
        `${PODS}/strict/ephemeralcontainers`,
        JSON.stringify({ spec: { ephemeralContainers: [{ name: 'setup', image: 'busybox' }] } }),
        SMP,
      ),
      [{ field: `${at}.name`, reason: 'FieldValueDuplicate', message: 'Duplicate value: "setup"' }],
    );
    // An init container is a valid target.
    const ok = await c.api(
      'PATCH',
      `${PODS}/strict/ephemeralcontainers`,
      JSON.stringify({
        spec: { ephemeralContainers: [debuggerContainer('dbg', { targetContainerName: 'setup' })] },
      }),
      SMP,
    );
    expect(ok.status).toBe(200);
  });

  it('refuses ephemeral containers on create and in a plain pod update, which keeps them as they are otherwise', async () => {
    const created = await c.api('POST', PODS, {
      metadata: { name: 'born-with' },
      spec: {
        containers: [{ name: 'app', image: 'busybox' }],
        ephemeralContainers: [{ name: 'dbg', image: 'busybox' }],
      },
    });
    expect(created.status).toBe(422);
    expect((created.body as Status).details?.causes).toEqual([
      {
        field: 'spec.ephemeralContainers',
        reason: 'FieldValueForbidden',
        message: 'Forbidden: cannot be set on create',
      },
    ]);
    expect((await c.api('GET', `${PODS}/born-with`)).status).toBe(404);

    const pod = await createPod('plain');
    await expectRefused(
      'plain',
      await c.api(
        'PATCH',
        `${PODS}/plain`,
        JSON.stringify({ spec: { ephemeralContainers: [debuggerContainer('dbg')] } }),
        SMP,
      ),
      [{ field: 'spec', reason: 'FieldValueForbidden' }],
    );
    const added = await c.ok<Pod>(
      'PATCH',
      `${PODS}/plain/ephemeralcontainers`,
      JSON.stringify({ spec: { ephemeralContainers: [debuggerContainer('dbg')] } }),
      SMP,
    );
    // A plain update that carries them unchanged (a label) goes through.
    const labelled = await c.ok<Pod>('PUT', `${PODS}/plain`, {
      ...added,
      metadata: { ...added.metadata, labels: { app: 'plain', more: 'yes' } },
    });
    expect(labelled.metadata.labels).toEqual({ app: 'plain', more: 'yes' });
    expect(labelled.spec.ephemeralContainers?.map((e) => e.name)).toEqual(['dbg']);
    expect(pod.spec.ephemeralContainers).toBeUndefined();
  });

  it('a plain update changes images, a lower deadline and added tolerations, and nothing else (kubectl)', async () => {
    await createPod('fixed');
    const kubectl = (...args: string[]) => c.kubectl(33, ['-n', ns, ...args]);
    expect((await kubectl('set', 'image', 'pod/fixed', 'app=busybox:2')).code).toBe(0);
    // A toleration is added to those the pod has (admission gave it some): a JSON patch appends.
    const patched = await kubectl(
      'patch',
      'pod',
      'fixed',
      '--type=json',
      '-p',
      '[{"op":"add","path":"/spec/activeDeadlineSeconds","value":60},{"op":"add","path":"/spec/tolerations/-","value":{"key":"k","operator":"Exists"}}]',
    );
    expect(patched.code).toBe(0);
    const pod = await c.ok<Pod & { spec: { containers: { image: string }[] } }>('GET', `${PODS}/fixed`);
    expect(pod.spec.containers[0]!.image).toBe('busybox:2');
    expect(pod.spec.activeDeadlineSeconds).toBe(60);

    const before = pod.metadata.resourceVersion;
    const command = await kubectl(
      'patch',
      'pod',
      'fixed',
      '-p',
      '{"spec":{"containers":[{"name":"app","command":["sleep","1"]}]}}',
    );
    expect(command.code).toBe(1);
    expect(command.stderr).toContain(
      'Forbidden: pod updates may not change fields other than `spec.containers[*].image`',
    );
    const raised = await kubectl(
      'patch',
      'pod',
      'fixed',
      '--type=merge',
      '-p',
      '{"spec":{"activeDeadlineSeconds":61}}',
    );
    expect(raised.stderr).toContain(
      'spec.activeDeadlineSeconds: Invalid value: 61: must be less than or equal to previous value',
    );
    const added = await kubectl(
      'patch',
      'pod',
      'fixed',
      '--type=json',
      '-p',
      '[{"op":"add","path":"/spec/containers/-","value":{"name":"side","image":"busybox"}}]',
    );
    expect(added.stderr).toContain(
      'spec.containers: Forbidden: pod updates may not add or remove containers',
    );
    expect((await c.ok<Pod>('GET', `${PODS}/fixed`)).metadata.resourceVersion).toBe(before);
  });

  it('server-side apply through pods/ephemeralcontainers owns the ephemeral containers it adds', async () => {
    await createPod('applied');
    const applied = await c.ok<Pod>(
      'PATCH',
      `${PODS}/applied/ephemeralcontainers?fieldManager=debugger`,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'applied' },
        spec: { ephemeralContainers: [{ name: 'dbg', image: 'busybox' }], activeDeadlineSeconds: 9 },
      }),
      { 'content-type': 'application/apply-patch+yaml' },
    );
    expect(applied.spec.ephemeralContainers?.map((e) => e.name)).toEqual(['dbg']);
    expect(applied.spec.activeDeadlineSeconds).toBeUndefined();
    expect(applied.metadata.managedFields).toContainEqual(
      expect.objectContaining({
        manager: 'debugger',
        operation: 'Apply',
        subresource: 'ephemeralcontainers',
      }),
    );
  });

  it('refuses ephemeral containers in a pod template (they could never be created)', async () => {
    const r = await c.api('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
      metadata: { name: 'templated' },
      spec: {
        selector: { matchLabels: { app: 't' } },
        template: {
          metadata: { labels: { app: 't' } },
          spec: {
            containers: [{ name: 'app', image: 'busybox' }],
            ephemeralContainers: [{ name: 'dbg', image: 'busybox' }],
          },
        },
      },
    });
    expect(r.status).toBe(422);
    expect((r.body as Status).details?.causes).toEqual([
      {
        field: 'spec.template.spec.ephemeralContainers',
        reason: 'FieldValueForbidden',
        message: 'Forbidden: ephemeral containers not allowed in pod template',
      },
    ]);
  });
});
