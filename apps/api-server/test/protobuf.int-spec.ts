import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';

import { encodeProtobufObject, kubernetesSchema, PROTOBUF_MAGIC } from '@app/api';
import { type ApiCluster, kubectlBinary, startApiCluster } from '@app/testing/api-cluster.js';
import protobuf from 'protobufjs';
import descriptorRoot from 'protobufjs/ext/descriptor/index.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON read back from kubectl

/** What each generator command creates, and how to read it back. */
function generators(ns: string, sfx: string): { args: string[]; get: string[]; created: string }[] {
  const n = ['-n', ns];
  return [
    {
      args: ['create', 'deployment', 'd', '--image=nginx:1.25', '--replicas=2', '--port=80', ...n],
      get: ['deployment', 'd', ...n],
      created: 'deployment.apps/d created',
    },
    {
      args: ['create', 'configmap', 'c', '--from-literal=a=b', ...n],
      get: ['configmap', 'c', ...n],
      created: 'configmap/c created',
    },
    {
      args: ['create', 'secret', 'generic', 's', '--from-literal=p=q', ...n],
      get: ['secret', 's', ...n],
      created: 'secret/s created',
    },
    {
      args: ['create', 'service', 'clusterip', 's', '--tcp=80:8080', ...n],
      get: ['service', 's', ...n],
      created: 'service/s created',
    },
    {
      args: ['create', 'job', 'j', '--image=busybox', ...n, '--', 'echo', 'hi'],
      get: ['job', 'j', ...n],
      created: 'job.batch/j created',
    },
    {
      args: [
        'create',
        'cronjob',
        'cj',
        '--image=busybox',
        '--schedule=*/5 * * * *',
        ...n,
        '--',
        'echo',
        'hi',
      ],
      get: ['cronjob', 'cj', ...n],
      created: 'cronjob.batch/cj created',
    },
    {
      args: ['create', 'serviceaccount', 'sa', ...n],
      get: ['serviceaccount', 'sa', ...n],
      created: 'serviceaccount/sa created',
    },
    {
      args: ['create', 'quota', 'q', '--hard=cpu=1,pods=2', ...n],
      get: ['resourcequota', 'q', ...n],
      created: 'resourcequota/q created',
    },
    {
      args: ['create', 'role', 'r', '--verb=get', '--resource=pods', ...n],
      get: ['role', 'r', ...n],
      created: 'role.rbac.authorization.k8s.io/r created',
    },
    {
      args: ['create', 'rolebinding', 'rb', '--role=r', '--user=bob', ...n],
      get: ['rolebinding', 'rb', ...n],
      created: 'rolebinding.rbac.authorization.k8s.io/rb created',
    },
    {
      args: ['create', 'clusterrole', `cr-${sfx}`, '--verb=get,list', '--resource=pods'],
      get: ['clusterrole', `cr-${sfx}`],
      created: `clusterrole.rbac.authorization.k8s.io/cr-${sfx} created`,
    },
    {
      args: ['create', 'clusterrolebinding', `crb-${sfx}`, `--clusterrole=cr-${sfx}`, '--group=devs'],
      get: ['clusterrolebinding', `crb-${sfx}`],
      created: `clusterrolebinding.rbac.authorization.k8s.io/crb-${sfx} created`,
    },
    {
      args: ['create', 'priorityclass', `pc-${sfx}`, '--value=1000', '--description=high'],
      get: ['priorityclass', `pc-${sfx}`],
      created: `priorityclass.scheduling.k8s.io/pc-${sfx} created`,
    },
    {
      args: ['create', 'ingress', 'ing', '--rule=foo.com/bar=svc1:8080', ...n],
      get: ['ingress', 'ing', ...n],
      created: 'ingress.networking.k8s.io/ing created',
    },
  ];
}

/** The stored object without what differs between two creations of the same thing. */
function comparable(o: Obj, sfx: string): Obj {
  const {
    uid: _u,
    resourceVersion: _rv,
    creationTimestamp: _ct,
    managedFields: _mf,
    namespace: _ns,
    ...meta
  } = o.metadata;
  const text = JSON.stringify({ ...o, metadata: meta })
    // A Job's generated selector and pod labels carry its uid.
    .replaceAll(String(o.metadata.uid), 'UID')
    .replaceAll(`-${sfx}`, '-SFX')
    .replace(/("clusterIPs?"):(\["[^"]*"\]|"[^"]*")/g, '$1:"allocated"');
  return JSON.parse(text) as Obj;
}

/** The path of every "", 0 or false under `o`: the junk gogo's zero values would leave behind. */
function zeros(o: unknown, path = ''): string[] {
  if (Array.isArray(o)) return o.flatMap((x, i) => zeros(x, `${path}[${i}]`));
  if (o && typeof o === 'object')
    return Object.entries(o).flatMap(([k, v]) => zeros(v, path ? `${path}.${k}` : k));
  return o === '' || o === 0 || o === false ? [path] : [];
}

/** The empty, zero and false values Kubernetes itself stores for these objects. */
const ZEROS = {
  deployment: [] as string[],
  service: [] as string[],
  role: ['[0].apiGroups[0]'],
  quota: [] as string[],
  priorityClass: [] as string[],
};

describe('protobuf request bodies (kubectl ≥ 1.32)', () => {
  let cluster: ApiCluster;

  beforeAll(async () => {
    cluster = await startApiCluster();
    // The JSON baseline: kubectl 1.31 sends the same generated objects as JSON.
    expect((await cluster.kubectl(31, ['create', 'namespace', 'json31'])).stdout).toBe(
      'namespace/json31 created\n',
    );
    for (const g of generators('json31', '31')) {
      const r = await cluster.kubectl(31, g.args);
      expect(r).toMatchObject({ code: 0, stdout: `${g.created}\n` });
    }
  });
  afterAll(() => cluster?.close());

  describe.each([33, 32])('kubectl 1.%i', (minor) => {
    const ns = `pb${minor}`;
    const sfx = String(minor);

    it('creates a namespace', async () => {
      const r = await cluster.kubectl(minor, ['create', 'namespace', ns]);
      expect(r.stdout).toBe(`namespace/${ns} created\n`);
      const got = JSON.parse(
        (await cluster.kubectl(minor, ['get', 'namespace', ns, '-o', 'json'])).stdout,
      ) as Obj;
      expect(got).toMatchObject({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
      expect(typeof got.metadata.creationTimestamp).toBe('string');
    });

    it('sends protobuf for the generator commands (not a JSON fallback)', async () => {
      const r = await cluster.kubectl(minor, [
        'create',
        'configmap',
        'proof',
        '--from-literal=x=y',
        '-n',
        ns,
        '-v=8',
      ]);
      expect(r.code).toBe(0);
      // -v=8 logs the request body as a hex dump, and the headers.
      expect(r.stderr).toMatch(/"Request Body" body=<\s+00000000\s+6b 38 73 00/);
      // The only protobuf Content-Type in the log is the request's (responses are JSON).
      expect(r.stderr).toMatch(/Content-Type: application\/vnd\.kubernetes\.protobuf/);
    });

    it.each(generators(`pb${minor}`, String(minor)).map((g) => [g.created, g] as const))(
      '%s, stored exactly as the same object sent as JSON',
      async (_created, g) => {
        const r = await cluster.kubectl(minor, g.args);
        expect(r).toMatchObject({ code: 0, stdout: `${g.created}\n`, stderr: '' });
        const got = JSON.parse((await cluster.kubectl(minor, ['get', ...g.get, '-o', 'json'])).stdout) as Obj;
        const viaJson = JSON.parse(
          (
            await cluster.kubectl(minor, [
              'get',
              ...g.get.map((a) => (a === ns ? 'json31' : a.replace(`-${sfx}`, '-31'))),
              '-o',
              'json',
            ])
          ).stdout,
        ) as Obj;
        expect(comparable(got, sfx)).toStrictEqual(comparable(viaJson, '31'));
      },
    );

    it('stores typed values with no empty-string or zero junk', async () => {
      const get = async (...args: string[]) =>
        JSON.parse((await cluster.kubectl(minor, ['get', ...args, '-n', ns, '-o', 'json'])).stdout) as Obj;
      const d = await get('deployment', 'd');
      expect(d.spec.replicas).toBe(2);
      expect(d.spec.selector).toEqual({ matchLabels: { app: 'd' } });
      expect(d.spec.template.spec.containers).toEqual([
        expect.objectContaining({
          name: 'nginx',
          image: 'nginx:1.25',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
        }),
      ]);
      expect(d.spec.template.spec.containers[0].resources).toEqual({});
      expect(d.spec.template.spec).not.toHaveProperty('hostNetwork');
      expect(d.spec.template.spec).not.toHaveProperty('nodeName');
      expect(d.spec).not.toHaveProperty('paused');
      const svc = await get('service', 's');
      expect(svc.spec.ports).toEqual([{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }]);
      const secret = await get('secret', 's');
      expect(secret.data).toEqual({ p: Buffer.from('q').toString('base64') });
      expect(secret.type).toBe('Opaque');
      const quota = await get('resourcequota', 'q');
      expect(quota.spec.hard).toEqual({ cpu: '1', pods: '2' });
      const role = await get('role', 'r');
      expect(role.rules).toEqual([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
      const pc = JSON.parse(
        (await cluster.kubectl(minor, ['get', 'priorityclass', `pc-${sfx}`, '-o', 'json'])).stdout,
      ) as Obj;
      expect(pc).toMatchObject({
        value: 1000,
        description: 'high',
        preemptionPolicy: 'PreemptLowerPriority',
      });
      // Only what a user or a default set may be empty, zero or false.
      expect({
        deployment: zeros(d.spec),
        service: zeros(svc.spec),
        role: zeros(role.rules),
        quota: zeros(quota.spec),
        priorityClass: zeros({ ...pc, metadata: {} }),
      }).toEqual(ZEROS);
    });
  });

  describe('raw protobuf requests', () => {
    const send = async (method: string, path: string, body: Buffer) => {
      const r = await cluster.api<Obj>(method, path, body, {
        'content-type': 'application/vnd.kubernetes.protobuf',
      });
      return { status: r.status, body: r.body };
    };
    const cm = (data: Record<string, string>, extra: Obj = {}) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'raw', namespace: 'json31', ...extra },
      data,
    });

    it('replaces with PUT', async () => {
      const created = await send(
        'POST',
        '/api/v1/namespaces/json31/configmaps',
        encodeProtobufObject(cm({ a: '1' })),
      );
      expect(created.status).toBe(201);
      const rv = created.body.metadata.resourceVersion as string;
      const replaced = await send(
        'PUT',
        '/api/v1/namespaces/json31/configmaps/raw',
        encodeProtobufObject(cm({ a: '2', b: '' }, { resourceVersion: rv })),
      );
      expect(replaced.status).toBe(200);
      expect(replaced.body.data).toEqual({ a: '2', b: '' });
      const stale = await send(
        'PUT',
        '/api/v1/namespaces/json31/configmaps/raw',
        encodeProtobufObject(cm({ a: '3' }, { resourceVersion: rv })),
      );
      expect(stale.body).toMatchObject({ code: 409, reason: 'Conflict' });
    });

    it('refuses a kind that does not match the URL (400), broken bytes (400) and kinds without a schema (415), creating nothing', async () => {
      const before = await cluster.api<Obj>('GET', '/api/v1/namespaces/json31/configmaps');
      const wrongKind = encodeProtobufObject({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'wrong' },
      });
      expect(await send('POST', '/api/v1/namespaces/json31/configmaps', wrongKind)).toMatchObject({
        status: 400,
        body: {
          reason: 'BadRequest',
          message: 'the kind in the data (Secret) does not match the expected kind (ConfigMap)',
        },
      });
      const wrongGroup = encodeProtobufObject({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'w' },
      });
      expect((await send('POST', '/apis/apps/v1/namespaces/json31/deployments', wrongGroup)).status).toBe(
        400,
      );
      const broken = Buffer.concat([PROTOBUF_MAGIC, Buffer.from('0a0f0a027631120943', 'hex')]);
      const b = await send('POST', '/api/v1/namespaces/json31/configmaps', broken);
      expect(b).toMatchObject({ status: 400, body: { reason: 'BadRequest', status: 'Failure' } });
      expect(b.body.message).toMatch(/could not be decoded as protobuf/);
      const unknown = kubernetesSchema().message('k8s.io.apimachinery.pkg.runtime.Unknown').type;
      const scale = Buffer.concat([
        PROTOBUF_MAGIC,
        unknown
          .encode({
            typeMeta: { apiVersion: 'autoscaling/v1', kind: 'Scale' },
            raw: Buffer.from('0a00', 'hex'),
          })
          .finish(),
      ]);
      const unknownKind = await send('POST', '/api/v1/namespaces/json31/configmaps', scale);
      expect(unknownKind).toMatchObject({
        status: 415,
        body: { reason: 'UnsupportedMediaType', status: 'Failure' },
      });
      const after = await cluster.api<Obj>('GET', '/api/v1/namespaces/json31/configmaps');
      expect(after.body.items).toHaveLength((before.body.items as unknown[]).length);
    });
  });
});

/** The parts of google.protobuf.FileDescriptorProto read here (the module ships no types for them). */
interface FieldDescriptor {
  name: string;
  number: number;
  label: number;
  type: number;
  typeName?: string;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  options?: { mapEntry?: boolean };
}
interface FileDescriptor {
  name: string;
  package: string;
  messageType: MessageDescriptor[];
}
const FileDescriptorProto = (descriptorRoot as unknown as { FileDescriptorProto: protobuf.Type })
  .FileDescriptorProto;

describe('the schema against the descriptors compiled into kubectl 1.33', () => {
  // gogo registers each generated.proto as a gzipped FileDescriptorProto: the wire format's facts.
  const files = new Map<string, FileDescriptor>();
  beforeAll(() => {
    const binary = readFileSync(kubectlBinary(33));
    const gzip = Buffer.from('1f8b080000000000', 'hex');
    for (let i = binary.indexOf(gzip); i >= 0; i = binary.indexOf(gzip, i + 1)) {
      let bytes: Buffer;
      try {
        bytes = gunzipSync(binary.subarray(i, i + 400_000), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      } catch {
        continue;
      }
      if (!bytes.subarray(0, 200).includes('generated.proto')) continue;
      const file = FileDescriptorProto.decode(bytes) as unknown as FileDescriptor;
      if (file.name.startsWith('k8s.io/')) files.set(file.package, file);
    }
  });

  it('has every message with exactly upstream field numbers, types and cardinality', () => {
    const schema = kubernetesSchema();
    const upstream = new Map<string, MessageDescriptor>();
    const walk = (prefix: string, list: MessageDescriptor[]) => {
      for (const m of list) {
        upstream.set(`${prefix}.${m.name}`, m);
        walk(`${prefix}.${m.name}`, m.nestedType);
      }
    };
    for (const [pkg, file] of files) walk(pkg, file.messageType);
    expect(upstream.size).toBeGreaterThan(500);

    const SCALAR: Record<number, string> = {
      1: 'double',
      2: 'float',
      3: 'int64',
      4: 'uint64',
      5: 'int32',
      8: 'bool',
      9: 'string',
      12: 'bytes',
      13: 'uint32',
    };
    const problems: string[] = [];
    let checked = 0;
    const types = (ns: protobuf.NamespaceBase): protobuf.Type[] =>
      ns.nestedArray.flatMap((n) =>
        n instanceof protobuf.Type ? [n] : n instanceof protobuf.Namespace ? types(n) : [],
      );
    for (const t of types(schema.root)) {
      const name = t.fullName.slice(1);
      const theirs = upstream.get(name);
      if (!theirs) {
        problems.push(`${name}: not upstream`);
        continue;
      }
      const mine = new Map(t.fieldsArray.map((f) => [f.id, f]));
      for (const u of theirs.field) {
        const f = mine.get(u.number);
        if (!f) {
          problems.push(`${name}: missing field ${u.number} ${u.name}`);
          continue;
        }
        checked++;
        const entry = u.typeName ? upstream.get(u.typeName.slice(1)) : undefined;
        if (entry?.options?.mapEntry) {
          const value = entry.field[1];
          const want = value.typeName ? value.typeName.slice(1) : SCALAR[value.type];
          const got =
            f instanceof protobuf.MapField ? (f.resolvedType?.fullName.slice(1) ?? f.type) : '(not a map)';
          if (want !== got) problems.push(`${name}.${u.name}: map of ${want}, schema has ${got}`);
          continue;
        }
        const want = u.typeName ? u.typeName.slice(1) : SCALAR[u.type];
        const got = f.resolvedType ? f.resolvedType.fullName.slice(1) : f.type;
        if (want !== got) problems.push(`${name}.${u.name}: ${want}, schema has ${got}`);
        if ((u.label === 3) !== f.repeated) problems.push(`${name}.${u.name}: repeated ${u.label === 3}`);
      }
      for (const id of mine.keys())
        if (!theirs.field.some((u) => u.number === id)) problems.push(`${name}: field ${id} is not upstream`);
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });
});
