import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { freePort, waitFor } from '@app/dev-servers';
import { type Checkpoint, EventStore } from '@app/event-store';
import { kubectlBinary } from '@app/testing/kubectl.js';

const run = promisify(execFile);
const MAIN = resolve('apps/cli/src/main.ts');
const PLUGIN = resolve('bin/kubectl-wake');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function settle(p: Promise<{ stdout: string; stderr: string }>): Promise<Result> {
  try {
    const { stdout, stderr } = await p;
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : 1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    };
  }
}

/** The real CLI, from source through tsx, as wake-cli.int-spec.ts runs it. */
const wake = (...args: string[]) =>
  settle(run(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeout: 120_000 }));

/** A version row of `wake history`: the table's cells, split on kubectl's column padding. */
function rows(table: string): string[][] {
  return table
    .split('\n')
    .filter((line) => line && !line.startsWith(' '))
    .map((line) => line.trim().split(/\s{2,}/));
}

/** The diff lines printed under the row of revision `seq`. */
function diffOf(table: string, seq: number): string[] {
  const lines = table.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${seq} `));
  expect(at).toBeGreaterThan(0);
  const after = lines.slice(at + 1);
  const end = after.findIndex((l) => !l.startsWith(' '));
  return after.slice(0, end).map((l) => l.trim());
}

const deployment = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "${image}"}]
`;

/** A node the cluster's scheduler can place pods on; no agent runs it (`--runtime none`). */
const NODE = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'audit-node', labels: { 'kubernetes.io/hostname': 'audit-node' } },
  status: {
    capacity: { cpu: '4', memory: '8Gi', pods: '110' },
    allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True' }],
  },
};

describe('audit commands against a cluster started by wake up', () => {
  let dir: string;
  let dataDir: string[];
  let kubectl: (...args: string[]) => Promise<Result>;
  /** The resourceVersions kubectl's writes to deployment web got: create, apply, scale, delete. */
  const rv = { created: 0, applied: 0, scaled: 0, deleted: 0 };
  let appliedAt = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wake-audit-'));
    await chmod(dir, 0o755);
    dataDir = ['--data-dir', dir];
    const up = await wake(
      'up',
      '--detach',
      ...dataDir,
      '--api-port',
      String(await freePort()),
      '--runtime',
      'none',
    );
    expect(up.stdout).toMatch(/running in the background/);
    kubectl = (...args) =>
      settle(
        run(kubectlBinary(33), args, {
          env: { ...process.env, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') },
          timeout: 60_000,
        }),
      );
  });
  afterAll(async () => {
    await wake('down', ...dataDir);
    await rm(dir, { recursive: true, force: true });
  });

  it('every audit command has --help', async () => {
    for (const cmd of ['history', 'get', 'why', 'replay']) {
      const res = await wake(cmd, '--help');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`^usage: wake ${cmd} `));
    }
    expect((await wake('--help')).stdout).toMatch(/history +every version of an object/);
  });

  it('history: every version kubectl made, with who (and who acted as them), verb and a field diff', async () => {
    const file = join(dir, 'web.yaml');
    await writeFile(file, deployment('busybox:1'));
    expect(await kubectl('apply', '-f', file)).toMatchObject({
      code: 0,
      stdout: 'deployment.apps/web created\n',
    });
    await writeFile(file, deployment('busybox:2'));
    expect(await kubectl('apply', '-f', file)).toMatchObject({ code: 0 });
    // The admin scales it acting as another user: the log names both.
    expect(
      await kubectl('scale', 'deploy/web', '--replicas=3', '--as=jane', '--as-group=system:masters'),
    ).toMatchObject({ code: 0 });
    expect(await kubectl('delete', 'deploy', 'web')).toMatchObject({ code: 0 });

    const res = await wake('history', 'deploy/web', ...dataDir);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const table = rows(res.stdout);
    expect(table[0]).toEqual(['REVISION', 'TIME', 'WHO', 'AGENT', 'VERB', 'CAUSE']);
    const versions = table.slice(1);
    // kubectl's four versions, interleaved with the Deployment controller's (status, revision), each
    // of which names a version before it as its cause.
    const byKubectl = versions.filter(([, , , agent]) => agent.startsWith('kubectl'));
    const byController = versions.filter(([, , , agent]) => agent === 'wake-controller-manager');
    expect(byKubectl.length + byController.length).toBe(versions.length);
    for (const [seq, , , , , cause] of byController) expect(Number(cause)).toBeLessThan(Number(seq));
    // The controller manager writes as its own user, not the admin whose kubeconfig it once had.
    expect(byController.length).toBeGreaterThan(0);
    expect(new Set(byController.map(([, , who]) => who))).toEqual(
      new Set(['system:kube-controller-manager']),
    );
    [rv.created, rv.applied, rv.scaled, rv.deleted] = byKubectl.map(([seq]) => Number(seq));
    expect(byKubectl.map(([, , who, agent, verb, cause]) => [who, agent, verb, cause])).toEqual([
      ['admin', 'kubectl.1.33/v1.33.1', 'create', '<none>'],
      ['admin', 'kubectl.1.33/v1.33.1', 'patch', '<none>'],
      ['jane (impersonated by admin)', 'kubectl.1.33/v1.33.1', 'patch', '<none>'],
      ['admin', 'kubectl.1.33/v1.33.1', 'delete', '<none>'],
    ]);
    expect(rv.created).toBeLessThan(rv.applied);
    expect(rv.applied).toBeLessThan(rv.scaled);
    expect(rv.deleted).toBeGreaterThan(rv.scaled);
    for (const [, time] of versions) expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The first version is the whole object added; each later one only what changed.
    expect(diffOf(res.stdout, rv.created)).toEqual(
      expect.arrayContaining([
        '+ kind: "Deployment"',
        '+ metadata.name: "web"',
        '+ spec.replicas: 1',
        '+ spec.template.spec.containers[0].image: "busybox:1"',
      ]),
    );
    expect(diffOf(res.stdout, rv.applied).filter((l) => !l.includes('last-applied-configuration'))).toEqual([
      '- metadata.generation: 1',
      '+ metadata.generation: 2',
      '- spec.template.spec.containers[0].image: "busybox:1"',
      '+ spec.template.spec.containers[0].image: "busybox:2"',
    ]);
    expect(diffOf(res.stdout, rv.applied)).toHaveLength(6);
    expect(diffOf(res.stdout, rv.scaled)).toEqual([
      '- metadata.generation: 2',
      '+ metadata.generation: 3',
      '- spec.replicas: 1',
      '+ spec.replicas: 3',
    ]);
    expect(diffOf(res.stdout, rv.deleted)).toEqual([]);

    // kubectl's other spellings of the kind name the same object; -o json gives the events.
    expect((await wake('history', 'deployments.apps', 'web', '-n', 'default', ...dataDir)).stdout).toBe(
      res.stdout,
    );
    expect(
      (await wake('history', 'Deployment/web', '--no-diff', ...dataDir)).stdout.split('\n'),
    ).toHaveLength(versions.length + 2);
    const json = JSON.parse((await wake('history', 'deploy/web', '-o', 'json', ...dataDir)).stdout) as {
      seq: number;
      at: string;
      verb: string;
      userAgent: string;
      object: { spec: { replicas: number } };
      diff: { op: string; path: string; value?: unknown }[];
    }[];
    expect(json.map((e) => e.seq)).toEqual(versions.map(([seq]) => Number(seq)));
    const kubectlEvents = json.filter((e) => e.userAgent.startsWith('kubectl'));
    expect(kubectlEvents.map((e) => e.seq)).toEqual([rv.created, rv.applied, rv.scaled, rv.deleted]);
    expect(kubectlEvents[2].diff).toContainEqual({ op: 'replace', path: '/spec/replicas', value: 3 });
    expect(kubectlEvents[0].userAgent).toMatch(/^kubectl\.1\.33\//);
    appliedAt = kubectlEvents[1].at;

    const missing = await wake('history', 'deploy/nothing', ...dataDir);
    expect(missing).toMatchObject({
      code: 1,
      stderr: 'Error: deployment.apps/nothing has no history in namespace default\n',
    });
    expect((await wake('history', 'widgets/x', ...dataDir)).stderr).toMatch(
      `wake: the server doesn't have a resource type "widgets"`,
    );
  });

  it('get --as-of: the objects as they were at a resourceVersion or a time, printed as kubectl get prints them', async () => {
    const atApply = await wake('get', 'deploy', '--as-of', String(rv.applied), ...dataDir);
    expect(atApply).toMatchObject({ code: 0 });
    expect(rows(atApply.stdout)).toEqual([
      ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
      // spec.replicas 1 at the apply; the counts are whatever status the controller had written by then.
      [
        'web',
        expect.stringMatching(/^\d+\/1$/),
        expect.stringMatching(/^\d+$/),
        expect.stringMatching(/^\d+$/),
        expect.stringMatching(/^\d+s$/),
      ],
    ]);
    const atScale = JSON.parse(
      (await wake('get', 'deploy/web', '--as-of', String(rv.scaled), '-o', 'json', ...dataDir)).stdout,
    ) as {
      metadata: { resourceVersion: string };
      spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
    };
    expect(atScale.metadata.resourceVersion).toBe(String(rv.scaled));
    expect(atScale.spec.replicas).toBe(3);
    expect(atScale.spec.template.spec.containers[0].image).toBe('busybox:2');

    // A time names the last event at or before it: the apply's own time is the applied version.
    const atTime = await wake(
      'get',
      'deployments.apps',
      'web',
      '--as-of',
      appliedAt,
      '-o',
      'yaml',
      ...dataDir,
    );
    expect(atTime.stdout).toMatch(/^apiVersion: apps\/v1\nkind: Deployment\nmetadata:\n/);
    expect(atTime.stdout).toContain(`resourceVersion: "${rv.applied}"`);
    expect(atTime.stdout).toContain('image: busybox:2');
    expect(atTime.stdout).not.toContain('managedFields'); // as kubectl get -o yaml hides them
    expect(atTime.stdout).toMatch(/\n {2}replicas: 1\n/);
    const beforeCreate = new Date(Date.parse(appliedAt) - 24 * 3600_000).toISOString();
    expect(await wake('get', 'deploy', '--as-of', beforeCreate, ...dataDir)).toMatchObject({
      code: 0,
      stdout: '',
      stderr: 'No resources found in default namespace at resourceVersion 0.\n',
    });
    expect(
      await wake('get', 'deploy', '--as-of', String(rv.created), '-o', 'name', ...dataDir),
    ).toMatchObject({
      stdout: 'deployment.apps/web\n',
    });

    // After the deletion it is gone, at the deletion and now, as kubectl would say.
    expect(await wake('get', 'deploy', 'web', '--as-of', String(rv.deleted), ...dataDir)).toMatchObject({
      code: 1,
      stderr: `Error from server (NotFound): deployments.apps "web" not found at resourceVersion ${rv.deleted}\n`,
    });
    expect((await wake('get', 'deploy', 'web', ...dataDir)).code).toBe(1);
    // Cluster-scoped kinds and every namespace.
    expect(rows((await wake('get', 'ns', ...dataDir)).stdout).map((r) => r.slice(0, 2))).toEqual([
      ['NAME', 'STATUS'],
      ['default', 'Active'],
      ['kube-node-lease', 'Active'],
      ['kube-public', 'Active'],
      ['kube-system', 'Active'],
    ]);
    expect(rows((await wake('get', 'lease', '-A', ...dataDir)).stdout)[0]).toEqual([
      'NAMESPACE',
      'NAME',
      'HOLDER',
      'AGE',
    ]);
    expect((await wake('get', 'deploy', '--as-of', 'yesterday', ...dataDir)).stderr).toMatch(
      /--as-of: want an RFC 3339 time/,
    );
  });

  it('why: a change a service account made names the grant RBAC allowed it under', async () => {
    expect(await kubectl('create', 'serviceaccount', 'writer')).toMatchObject({ code: 0 });
    expect(
      await kubectl(
        'create',
        'rolebinding',
        'writer-edit',
        '--clusterrole=edit',
        '--serviceaccount=default:writer',
      ),
    ).toMatchObject({ code: 0 });
    const token = (await kubectl('create', 'token', 'writer')).stdout.trim();
    await waitFor('the writer’s grant to apply', async () =>
      (await kubectl('--token', token, 'create', 'configmap', 'by-writer')).code === 0 ? true : undefined,
    );
    const res = await wake('why', 'configmap/by-writer', ...dataDir);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toMatch(
      /started by system:serviceaccount:default:writer \(kubectl[^\n]*\): create \S*by-writer in namespace default at seq \d+\n {2}RBAC: allowed by RoleBinding "writer-edit\/default" of ClusterRole "edit" to ServiceAccount "writer\/default"\n$/,
    );
  });

  it('why: from the scheduler`s binding back to the user`s create', async () => {
    await writeFile(join(dir, 'node.json'), JSON.stringify(NODE));
    expect(await kubectl('create', '-f', join(dir, 'node.json'))).toMatchObject({ code: 0 });
    expect(
      await kubectl('run', 'sched', '--image=busybox', '--restart=Never', '--', 'sleep', '3600'),
    ).toMatchObject({
      code: 0,
    });
    const nodeName = await waitFor('the pod bound by the cluster`s scheduler', async () => {
      const got = await kubectl('get', 'pod', 'sched', '-o', 'jsonpath={.spec.nodeName}');
      return got.stdout || undefined;
    });
    expect(nodeName).toBe('audit-node');
    const history = rows((await wake('history', 'pod/sched', '--no-diff', ...dataDir)).stdout).slice(1);
    expect(history).toHaveLength(2);
    const [created, bound] = history.map(([seq]) => Number(seq));

    const res = await wake('why', 'po/sched', ...dataDir);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const table = rows(res.stdout);
    expect(table[0]).toEqual([
      'SEQ',
      'TIME',
      'WHO',
      'AGENT',
      'VERB',
      'NAMESPACE',
      'OBJECT',
      'CAUSE',
      'CHANGE',
    ]);
    expect(
      table
        .slice(1, 3)
        .map(([seq, , who, agent, verb, ns, object, cause, change]) => [
          Number(seq),
          who,
          agent,
          verb,
          ns,
          object,
          cause,
          change,
        ]),
    ).toEqual([
      [created, 'admin', 'kubectl.1.33/v1.33.1', 'create', 'default', 'pod/sched', '<none>', 'created'],
      [
        bound,
        // The scheduler binds as its own user, not the admin.
        'system:kube-scheduler',
        'wake-scheduler/default-scheduler',
        'create',
        'default',
        'pod/sched',
        String(created),
        expect.stringMatching(/^(metadata\.generation,)?spec\.nodeName,status\.conditions$/),
      ],
    ]);
    expect(res.stdout.trimEnd().split('\n').pop()).toMatch(
      new RegExp(
        `^started by admin \\(kubectl\\.1\\.33/v1\\.33\\.1 .*\\): create pod/sched in namespace default at seq ${created}$`,
      ),
    );
    // The scheduler's Scheduled event was caused by the same create.
    const events = JSON.parse((await wake('get', 'events', '-o', 'json', ...dataDir)).stdout) as {
      items: { metadata: { name: string }; reason: string }[];
    };
    const scheduled = events.items.find((e) => e.reason === 'Scheduled');
    expect(scheduled).toBeDefined();
    const eventWhy = JSON.parse(
      (await wake('why', 'ev', scheduled!.metadata.name, '-o', 'json', ...dataDir)).stdout,
    ) as {
      complete: boolean;
      chain: { seq: number; resource: string; cause: number | null }[];
    };
    expect(eventWhy.complete).toBe(true);
    expect(eventWhy.chain.map((e) => [e.seq, e.resource, e.cause])).toEqual([
      [created, 'pods', null],
      [expect.any(Number), 'events', created],
    ]);
    // An earlier version: the create, which nothing caused.
    expect(
      rows((await wake('why', 'pod/sched', '--rv', String(created), ...dataDir)).stdout).slice(1, 2),
    ).toEqual([expect.arrayContaining([String(created), 'admin', '<none>', 'created'])]);
    expect((await wake('why', 'pod/sched', '--rv', '1', ...dataDir)).code).toBe(1);
  });

  it('kubectl wake: the plugin on the PATH runs the same commands against the cluster kubectl uses', async () => {
    const bin = join(dir, 'plugins');
    await mkdir(bin);
    await symlink(PLUGIN, join(bin, 'kubectl-wake'));
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      HOME: dir,
      KUBECONFIG: join(dir, 'kubeconfig'),
      WAKE_DATA_DIR: '',
      // This checkout's sources, not a build that may predate them.
      WAKE_FROM_SOURCE: '1',
    };
    const plugins = await settle(run(kubectlBinary(33), ['plugin', 'list'], { env }));
    expect(plugins.stdout).toContain(join(bin, 'kubectl-wake'));
    const viaKubectl = await settle(
      run(kubectlBinary(33), ['wake', 'history', 'deploy/web'], { env, timeout: 120_000 }),
    );
    expect(viaKubectl).toMatchObject({ code: 0, stderr: '' });
    expect(viaKubectl.stdout).toBe((await wake('history', 'deploy/web', ...dataDir)).stdout);
    const help = await settle(run(kubectlBinary(33), ['wake', 'why', '--help'], { env, timeout: 120_000 }));
    expect(help.stdout).toMatch(/^usage: wake why /);
  });

  it('replay --verify: clean, then an UPDATE of one event row is reported', async () => {
    const cm = await kubectl(
      'create',
      'configmap',
      'audit-cm',
      '--from-literal=k=v',
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    );
    expect(cm).toMatchObject({ code: 0 });
    const cmSeq = Number(cm.stdout);
    // `wake up` signs the head every 10 s: wait until a checkpoint covers the configmap.
    const checkpoints = join(dir, 'checkpoints', 'checkpoints.jsonl');
    const signed = await waitFor(
      'a checkpoint at or after the configmap',
      async () => {
        const lines = (await readFile(checkpoints, 'utf8').catch(() => '')).split('\n').filter(Boolean);
        const last = lines.length ? (JSON.parse(lines[lines.length - 1]) as Checkpoint) : undefined;
        return last && last.seq >= cmSeq ? lines.length : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 500 },
    );
    const clean = await wake('replay', '--verify', ...dataDir);
    expect(clean).toMatchObject({ code: 0, stderr: '' });
    const lines = clean.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^replayed \d+ events \(up to seq \d+\) into wake_replay_[0-9a-f]{8}: (\d+) objects; the live projection has \1$/,
    );
    expect(lines.slice(1, 4)).toEqual([
      'projections: identical',
      'log grammar: ok (every object ADDED, MODIFIED*, DELETED?; resourceVersion = seq)',
      expect.stringMatching(/^hash chain: ok, (\d+) events verified up to seq \1$/),
    ]);
    expect(lines[4]).toMatch(
      new RegExp(`^checkpoints: (\\d+) of \\1 verified; the latest, signed at \\S+, pins seq \\d+$`),
    );
    expect(Number(/of (\d+) verified/.exec(lines[4])?.[1])).toBeGreaterThanOrEqual(signed);
    expect(lines[5]).toBe('OK: the log and the projections agree');
    const schemas = async () => {
      const store = await EventStore.open({
        url: JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')).postgres.url,
      });
      try {
        return await store.adminSql<
          { name: string }[]
        >`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'wake_replay_%'`;
      } finally {
        await store.close();
      }
    };
    expect(await schemas()).toEqual([]); // the scratch schema is dropped

    // A superuser rewrites the payload of the configmap's event, bypassing the log's triggers.
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as {
      postgres: { url: string };
    };
    const store = await EventStore.open({ url: state.postgres.url });
    try {
      await store.adminSql.begin(async (tx) => {
        await tx`SET LOCAL session_replication_role = replica`;
        await tx`UPDATE wake.events SET object = jsonb_set(object, '{data,k}', '"forged"') WHERE seq = ${cmSeq}`;
      });
    } finally {
      await store.close();
    }
    const tampered = await wake('replay', '--verify', ...dataDir);
    expect(tampered.code).toBe(1);
    const report = tampered.stdout.trimEnd().split('\n');
    expect(report.slice(1, 7)).toEqual([
      'projections: 1 object differs (- as the log has it, + as the live projection has it)',
      '  configmap/audit-cm in namespace default: the live projection differs from the log',
      '    - data.k: "forged"',
      '    + data.k: "v"',
      'log grammar: ok (every object ADDED, MODIFIED*, DELETED?; resourceVersion = seq)',
      `hash chain: BROKEN at seq ${cmSeq} (configmap/audit-cm in namespace default): payload does not match its digest`,
    ]);
    expect(report[report.length - 1]).toBe('FAILED');
    const json = JSON.parse((await wake('replay', '--verify', '-o', 'json', ...dataDir)).stdout) as {
      ok: boolean;
      chain: { report: { ok: boolean; firstBadSeq: number } };
      differences: { kind: string; name: string }[];
    };
    expect(json.ok).toBe(false);
    expect(json.chain.report).toMatchObject({ ok: false, firstBadSeq: cmSeq });
    expect(json.differences).toEqual([expect.objectContaining({ kind: 'differs', name: 'audit-cm' })]);
    // history shows the log as it now is: the forged value, at the seq the chain flags.
    expect(diffOf((await wake('history', 'cm/audit-cm', ...dataDir)).stdout, cmSeq)).toContain(
      '+ data.k: "forged"',
    );
  });
});
