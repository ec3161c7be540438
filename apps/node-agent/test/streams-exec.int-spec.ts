import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';
import { kubectlBinary } from '@app/testing/kubectl.js';

import { startStreamsCluster, type StreamsCluster } from './streams-fixture.js';

/**
 * `kubectl exec` and `kubectl cp` end to end: kubectl's WebSocket streaming protocol → API
 * server → NATS exec sessions → this node's exec target → `docker exec` on the real engine.
 */
describe('kubectl exec, attach and cp through the node agent', () => {
  let s: StreamsCluster;

  beforeAll(async () => {
    s = await startStreamsCluster();
    await s.createPod('web', [
      { name: 'main', script: 'exec sleep 3600' },
      { name: 'side', script: 'exec sleep 3600' },
      { name: 'ticker', script: 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done' },
      { name: 'reader', script: 'while read line; do echo got $line; done', stdin: true },
    ]);
    const stopped = await s.createPod('stopped', [{ name: 'app' }]);
    const id = await stopped.run('app', 'exit 0');
    await waitFor('the stopped pod’s container to exit', async () =>
      (await s.runtime.inspect(id)).status === 'exited' ? true : undefined,
    );
  });
  afterAll(async () => {
    await s?.close();
  });

  // 1.33 and 1.30 speak WebSockets, 1.29 and 1.27 SPDY.
  it.each([33, 30, 29, 27])(
    'kubectl 1.%i: stdout and stderr apart, and the command’s exit code',
    async (minor) => {
      const r = await s.api.kubectl(minor, [
        'exec',
        'web',
        '-c',
        'main',
        '--',
        'sh',
        '-c',
        'echo out; echo err >&2; exit 3',
      ]);
      // kubectl's stderr in the failure message, should it fail otherwise.
      expect({ code: r.code, stderr: r.stderr.includes('err\n') ? 'err' : r.stderr }).toEqual({
        code: 3,
        stderr: 'err',
      });
      expect(r.stdout).toBe('out\n');
      expect(r.stderr).toContain('err\n');
      expect(r.stderr).not.toContain('out');
      const ok = await s.api.kubectl(minor, ['exec', 'web', '-c', 'side', '--', 'hostname']);
      expect({ code: ok.code, stdout: ok.stdout, stderr: ok.code === 0 ? '' : ok.stderr }).toEqual({
        code: 0,
        stdout: 'web\n',
        stderr: '',
      });
    },
  );

  it('runs in the container kubectl picks: -c, else the default-container annotation, else the first', async () => {
    await s.createPod(
      'annotated',
      [
        { name: 'first', script: 'exec sleep 3601' },
        { name: 'chosen', script: 'exec sleep 3602' },
      ],
      { annotations: { 'kubectl.kubernetes.io/default-container': 'chosen' } },
    );
    // Each container's PID 1 is its own script's sleep: which one answers says where the command ran.
    const pid1 = async (args: string[]) =>
      (
        await s.api.kubectl(33, ['exec', 'annotated', ...args, '--', 'cat', '/proc/1/cmdline'])
      ).stdout.replace(/\0/g, ' ');
    expect(await pid1([])).toContain('3602');
    expect(await pid1(['-c', 'first'])).toContain('3601');
    const first = await s.api.kubectl(33, ['exec', 'web', '--', 'cat', '/proc/1/cmdline']);
    expect(first.stdout.replace(/\0/g, ' ')).toContain('sleep 3600');
    expect(first.stderr).toContain('Defaulted container "main" out of: main, side, ticker, reader');
  });

  it.each([33, 27])('kubectl 1.%i pipes stdin with -i, and ends it at EOF', async (minor) => {
    const input = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const r = await s.api.kubectl(minor, ['exec', '-i', 'web', '-c', 'main', '--', 'cat'], { input });
    expect(r).toMatchObject({ code: 0, stdout: input });
    const counted = await s.api.kubectl(minor, ['exec', '-i', 'web', '-c', 'main', '--', 'wc', '-l'], {
      input,
    });
    expect(counted.stdout.trim()).toBe('2000');
  });

  it.each([33, 27])(
    'kubectl 1.%i gives an interactive shell with -it under a pseudo-terminal, sized as the terminal is',
    async (minor) => {
      // util-linux `script` (-e: its exit code is kubectl's) runs kubectl on a pty of its own (kubectl -t insists on a terminal);
      // `stty` sets that pty's size first, so kubectl's resize message carries 33x111.
      const kubectl = kubectlBinary(minor);
      const shell = spawn(
        'script',
        ['-qefc', `stty rows 33 cols 111; ${kubectl} exec -it web -c main -- sh`, '/dev/null'],
        {
          env: {
            ...process.env,
            HOME: join(s.api.dir, `home-${minor}`),
            KUBECONFIG: s.api.kubeconfig,
            TERM: 'dumb',
          },
        },
      );
      let out = '';
      shell.stdout.on('data', (c: Buffer) => (out += c.toString()));
      shell.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((resolve) => shell.once('exit', resolve));
      try {
        // Typed before the shell is up, it would be echoed by the local pty and lost remotely: wait for a prompt.
        await waitFor('a shell prompt', () => (out.includes('/ # ') ? true : undefined));
        shell.stdin.write('echo $((6*7)); stty size\n');
        await waitFor('the shell’s answers', () =>
          /42\r?\n/.test(out) && /33 111/.test(out) ? true : undefined,
        );
        shell.stdin.write('exit 5\n');
        expect(await exited).toBe(5);
      } catch (e) {
        throw new Error(`${(e as Error).message}; the terminal showed ${JSON.stringify(out)}`, { cause: e });
      } finally {
        shell.kill();
      }
    },
  );

  it('copies files into the pod and back byte for byte with kubectl cp (1 MiB through the flow control)', async () => {
    const binary = randomBytes(1024 * 1024 + 17);
    const local = join(s.api.dir, 'blob.bin');
    const text = join(s.api.dir, 'notes.txt');
    await writeFile(local, binary);
    await writeFile(text, 'hello from the test\n');
    for (const [from, to] of [
      [local, 'web:/tmp/blob.bin'],
      [text, 'web:/tmp/notes.txt'],
    ])
      expect(await s.api.kubectl(33, ['cp', '-c', 'main', from, to])).toMatchObject({ code: 0 });
    const size = await s.api.kubectl(33, ['exec', 'web', '-c', 'main', '--', 'wc', '-c', '/tmp/blob.bin']);
    expect(size.stdout.trim()).toBe(`${binary.length} /tmp/blob.bin`);
    const back = join(s.api.dir, 'blob-back.bin');
    expect(await s.api.kubectl(33, ['cp', '-c', 'main', 'web:/tmp/blob.bin', back])).toMatchObject({
      code: 0,
    });
    expect((await readFile(back)).equals(binary)).toBe(true);
    const textBack = join(s.api.dir, 'notes-back.txt');
    expect(await s.api.kubectl(30, ['cp', '-c', 'main', 'web:/tmp/notes.txt', textBack])).toMatchObject({
      code: 0,
    });
    expect(await readFile(textBack, 'utf8')).toBe('hello from the test\n');
    // Over SPDY too (kubectl 1.27), both ways.
    expect(await s.api.kubectl(27, ['cp', '-c', 'main', local, 'web:/tmp/blob-27.bin'])).toMatchObject({
      code: 0,
    });
    const back27 = join(s.api.dir, 'blob-back-27.bin');
    expect(await s.api.kubectl(27, ['cp', '-c', 'main', 'web:/tmp/blob-27.bin', back27])).toMatchObject({
      code: 0,
    });
    expect((await readFile(back27)).equals(binary)).toBe(true);
  });

  it.each([33, 27])(
    'kubectl 1.%i attaches to a container’s own process: its output from now on, and its stdin with -i',
    async (minor) => {
      const watch = s.api.spawnKubectl(minor, ['attach', 'web', '-c', 'ticker']);
      let seen = '';
      watch.stdout?.on('data', (c: Buffer) => (seen += c.toString()));
      try {
        await waitFor('ticks through attach', () =>
          /tick \d+\n.*tick \d+\n/s.test(seen) ? true : undefined,
        );
        // Only new output: an attach is not a log, the first ticks are not replayed.
        expect(seen).not.toMatch(/^tick 1\n/);
      } finally {
        watch.kill();
      }
      const talk = s.api.spawnKubectl(minor, ['attach', '-i', 'web', '-c', 'reader']);
      let heard = '';
      talk.stdout?.on('data', (c: Buffer) => (heard += c.toString()));
      try {
        // Lines sent before the attach is up would go nowhere: keep saying it until heard.
        await waitFor(
          'the reader to answer',
          () => {
            if (heard.includes('got ping')) return true;
            talk.stdin?.write('ping\n');
            return undefined;
          },
          { intervalMs: 300 },
        );
      } finally {
        talk.kill();
      }
    },
  );

  it('refuses unknown and stopped containers and pods the node does not run, as upstream', async () => {
    const unknown = await s.api.kubectl(33, ['exec', 'web', '-c', 'nope', '--', 'true']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('container nope is not valid for pod web');
    for (const minor of [33, 27]) {
      const stopped = await s.api.kubectl(minor, ['exec', 'stopped', '--', 'true']);
      expect(stopped.code).not.toBe(0);
      expect(stopped.stderr).toContain('unable to upgrade connection: container not found ("app")');
    }
    expect(
      (
        await s.api.api('POST', '/api/v1/namespaces/default/pods', {
          metadata: { name: 'elsewhere' },
          spec: { nodeName: s.node, containers: [{ name: 'app', image: 'busybox' }] },
        })
      ).status,
    ).toBe(201);
    const absent = await s.api.kubectl(33, ['exec', 'elsewhere', '--', 'true']);
    expect(absent.stderr).toContain('unable to upgrade connection: pod does not exist');
  });

  it('kubectl 1.29 speaks SPDY unless KUBECTL_REMOTE_COMMAND_WEBSOCKETS=true: both work', async () => {
    const env = { ...process.env, HOME: join(s.api.dir, 'home-29'), KUBECONFIG: s.api.kubeconfig };
    const run = (extra: Record<string, string>) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          kubectlBinary(29),
          ['exec', 'web', '-c', 'main', '--', 'echo', 'hi'],
          { env: { ...env, ...extra }, timeout: 60_000 },
          (error, stdout, stderr) =>
            resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
        );
      });
    expect(await run({})).toMatchObject({ code: 0, stdout: 'hi\n' });
    expect(await run({ KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'true' })).toMatchObject({
      code: 0,
      stdout: 'hi\n',
    });
  });
});
