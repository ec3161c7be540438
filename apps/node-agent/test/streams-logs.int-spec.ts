import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as natsConnect } from '@nats-io/transport-node';
import { LOG_SEQ_HEADER, openLogStream } from '@app/bus';
import { waitFor } from '@app/dev-servers';

import { startStreamsCluster, type StreamsCluster, type TestPod, waitForLog } from './streams-fixture.js';

/**
 * `kubectl logs` end to end: kubectl → API server → NATS → this node's log source → the Docker
 * engine, on containers named and labelled as the pod workers make them.
 */
const bigLog = Array.from({ length: 200_000 }, (_, i) => `${i + 1}\n`).join('') + 'done\n';

describe('kubectl logs from the node agent', () => {
  let s: StreamsCluster;
  let web: TestPod;
  let mainId: string;

  beforeAll(async () => {
    s = await startStreamsCluster();
    web = await s.createPod('web', [
      { name: 'main', script: 'echo one; echo two >&2; echo three; exec sleep 3600' },
      { name: 'side', script: 'echo side line; exec sleep 3600' },
    ]);
    mainId = (await s.runtime.listContainers({ podUid: web.ref.uid })).find(
      (c) => c.containerName === 'main',
    )!.id;
    await waitForLog(s.runtime, mainId, 'three');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('prints a container’s log; -c picks the container, and kubectl defaults to the first', async () => {
    const main = await s.api.kubectl(33, ['logs', 'web', '-c', 'main']);
    expect(main).toMatchObject({ code: 0, stderr: '' });
    // stdout and stderr together, as the kubelet serves them; only each stream's own order is defined.
    expect(main.stdout.split('\n').filter((l) => l !== 'two')).toEqual(['one', 'three', '']);
    expect(main.stdout).toContain('two\n');
    expect(await s.api.kubectl(33, ['logs', 'web', '-c', 'side'])).toMatchObject({
      code: 0,
      stdout: 'side line\n',
    });
    const defaulted = await s.api.kubectl(30, ['logs', 'web']);
    expect(defaulted.code).toBe(0);
    expect(defaulted.stdout).toContain('three\n');
    expect(defaulted.stderr).toContain('Defaulted container "main" out of: main, side');
  });

  it('passes --tail, --timestamps and --limit-bytes to the engine', async () => {
    const side = await s.api.kubectl(33, ['logs', 'web', '-c', 'side', '--timestamps']);
    expect(side.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z side line\n$/);
    const tail = await s.api.kubectl(33, ['logs', 'web', '-c', 'main', '--tail=1']);
    expect(tail.stdout).toMatch(/^(three|two)\n$/);
    const limited = await s.api.kubectl(33, ['logs', 'web', '-c', 'side', '--limit-bytes=7']);
    expect(limited).toMatchObject({ code: 0, stdout: 'side li' });
  });

  it('honours --since and --since-time: old lines are left out, recent ones kept', async () => {
    const ticker = await s.createPod('ticker', [
      {
        name: 'app',
        script: 'echo early; sleep 4; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done',
      },
    ]);
    const id = (await s.runtime.listContainers({ podUid: ticker.ref.uid })).find(
      (c) => c.containerName === 'app',
    )!.id;
    // "early" is at least 6 s old once tick 8 is logged; --since=2s reaches back at most 3 s (whole seconds).
    await waitForLog(s.runtime, id, 'tick 8');
    const recent = await s.api.kubectl(33, ['logs', 'ticker', '--since=2s']);
    expect(recent.code).toBe(0);
    expect(recent.stdout).not.toContain('early');
    expect(recent.stdout).toMatch(/tick \d+\n/);
    expect((await s.api.kubectl(33, ['logs', 'ticker', '--since=1h'])).stdout).toContain('early\n');

    // --since-time at a line's own timestamp keeps that line ("early" is 4 s older and goes);
    // at the first line's, everything is there.
    const stamped = (await s.api.kubectl(33, ['logs', 'ticker', '--timestamps'])).stdout.split('\n');
    const stampOf = (line: string) => stamped.find((l) => l.endsWith(` ${line}`))?.split(' ')[0];
    const tick2 = stampOf('tick 2');
    expect(tick2).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    const sinceTick2 = await s.api.kubectl(33, ['logs', 'ticker', `--since-time=${tick2}`]);
    expect(sinceTick2).toMatchObject({ code: 0, stderr: '' });
    expect(sinceTick2.stdout).toContain('tick 2\n');
    expect(sinceTick2.stdout).not.toContain('early');
    const sinceEarly = await s.api.kubectl(33, ['logs', 'ticker', `--since-time=${stampOf('early')}`]);
    expect(sinceEarly.stdout.startsWith('early\ntick 1\n')).toBe(true);
  });

  it('follows with -f: sees a line written later, and ends when the container exits', async () => {
    const pod = await s.createPod('follow', [
      { name: 'app', script: 'echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo later; exit 0' },
    ]);
    const id = (await s.runtime.listContainers({ podUid: pod.ref.uid })).find(
      (c) => c.containerName === 'app',
    )!.id;
    const follow = s.api.spawnKubectl(33, ['logs', '-f', 'follow']);
    let out = '';
    follow.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => follow.once('exit', resolve));
    await waitFor('the first line', () => (out.includes('first\n') ? true : undefined));
    expect(out).not.toContain('later');
    await s.runtime.execCapture(id, ['touch', '/tmp/go'], 10_000);
    expect(await exited).toBe(0);
    expect(out).toBe('first\nlater\n');
  });

  it('delivers a log bigger than a NATS message whole, in order', async () => {
    const pod = await s.createPod('big', [{ name: 'app', script: 'seq 1 200000; echo done' }]);
    const id = (await s.runtime.listContainers({ podUid: pod.ref.uid })).find(
      (c) => c.containerName === 'app',
    )!.id;
    await waitFor('the big log to be written', async () =>
      (await s.runtime.inspect(id)).status === 'exited' ? true : undefined,
    );
    // Spawned: the log is more than execFile's output buffer holds.
    const kubectl = s.api.spawnKubectl(33, ['logs', 'big']);
    const chunks: Buffer[] = [];
    kubectl.stdout?.on('data', (c: Buffer) => chunks.push(c));
    expect(await new Promise((resolve) => kubectl.once('exit', resolve))).toBe(0);
    expect(Buffer.concat(chunks).toString()).toBe(bigLog);
  });

  it('holds the node back to a slow reader: never more than a window of chunks ahead', async () => {
    const spy = await natsConnect({ servers: s.api.natsUrl });
    const reader = await natsConnect({ servers: s.api.natsUrl });
    try {
      // Every log chunk on the wire, whoever it is for (inboxes are private otherwise).
      let sent = 0;
      spy.subscribe('_INBOX.>', { callback: (_e, m) => void (m.headers?.get(LOG_SEQ_HEADER) && sent++) });
      await spy.flush();
      const stream = await openLogStream(
        reader,
        s.node,
        { namespace: 'default', pod: 'big', container: 'app' },
        {
          window: 4,
        },
      );
      await waitFor('a window of chunks', () => (sent === 4 ? true : undefined));
      // Nothing read yet: the agent waits for an ack instead of sending the rest of the ~1.3 MB.
      await new Promise((r) => setTimeout(r, 500));
      expect(sent).toBe(4);
      const chunks: Uint8Array[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(Buffer.concat(chunks).toString()).toBe(bigLog);
      expect(chunks.length).toBeGreaterThan(30);
      // The spy hears every chunk too, only not necessarily as soon as the reader.
      await waitFor('the spy to count every chunk', () => (sent === chunks.length ? true : undefined));
    } finally {
      await spy.close();
      await reader.close();
    }
  });

  it('reads the previous instance with --previous, and says when there is none', async () => {
    const pod = await s.createPod('crashy', [{ name: 'app' }]);
    const old = await pod.run('app', 'echo attempt 0; exit 1', 0);
    await waitFor('attempt 0 to exit', async () =>
      (await s.runtime.inspect(old)).status === 'exited' ? true : undefined,
    );
    const current = await pod.run('app', 'echo attempt 1; exec sleep 3600', 1);
    await waitForLog(s.runtime, current, 'attempt 1');
    expect(await s.api.kubectl(33, ['logs', 'crashy', '-c', 'app', '--previous'])).toMatchObject({
      code: 0,
      stdout: 'attempt 0\n',
    });
    expect((await s.api.kubectl(33, ['logs', 'crashy', '-c', 'app'])).stdout).toBe('attempt 1\n');
    const none = await s.api.kubectl(33, ['logs', 'web', '-c', 'main', '--previous']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain(
      'Error from server (BadRequest): previous terminated container "main" in pod "web" not found',
    );
  });

  it('answers unknown containers, containers not started and pods not on the node as upstream does', async () => {
    const unknown = await s.api.kubectl(33, ['logs', 'web', '-c', 'nope']);
    expect(unknown.stderr).toContain('container nope is not valid for pod web');
    const waiting = await s.createPod('waiting', [{ name: 'app' }]);
    expect(
      (await s.api.api('POST', '/api/v1/namespaces/default/pods', podOn(s.node, 'elsewhere'))).status,
    ).toBe(201);
    const notStarted = await s.api.api('GET', `/api/v1/namespaces/default/pods/waiting/log?container=app`);
    expect(notStarted).toMatchObject({
      status: 400,
      body: { reason: 'BadRequest', message: 'container "app" in pod "waiting" is not available' },
    });
    expect(waiting.sandboxId).toBeTruthy();
    const absent = await s.api.kubectl(33, ['logs', 'elsewhere']);
    expect(absent.stderr).toContain(
      'Error from server (NotFound): the server could not find the requested resource ( pods/log elsewhere)',
    );
  });
});

/** A pod bound to the node that the node does not run (no sandbox, no containers). */
function podOn(node: string, name: string) {
  return { metadata: { name }, spec: { nodeName: node, containers: [{ name: 'app', image: 'busybox' }] } };
}
