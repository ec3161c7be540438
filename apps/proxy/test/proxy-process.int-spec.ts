import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { get } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests } from '@app/testing/docker.js';

import { dockerBridgeGateway } from '../../node-agent/src/api-access/index.js';
import { jumpRules, portalChains } from '../src/netfilter/portal-rules.js';
import { serviceRangeRefusals } from './host-rules.js';

const run = promisify(execFile);
const MAIN = resolve('apps/cli/src/main.ts');

function httpGet(url: string): Promise<string> {
  return new Promise((resolveBody, reject) => {
    get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolveBody(body));
    }).on('error', reject);
  });
}

/** What one TCP connection to host:port reads until the server closes it. */
function tcpRead(host: string, port: number): Promise<string> {
  return new Promise((resolveData, reject) => {
    const s = connect({ host, port });
    let data = '';
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('end', () => resolveData(data));
    s.on('error', reject);
  });
}

/**
 * `wake proxy` as its own process, as `wake up` runs it: ready line, a NodePort answering on
 * the suite's loopback address, metrics; SIGTERM removes every rule and the route; after a
 * kill -9 the rules stay, and the next proxy with the same instance id clears them on start.
 */
describe('wake proxy: the process, SIGTERM and a crashed predecessor', () => {
  let cluster: ApiCluster;
  let backend: Server;
  let gateway = '';
  const children: ChildProcess[] = [];
  const instanceId = randomBytes(3).toString('hex').slice(0, 5);
  const chains = portalChains(instanceId);
  const serviceCidr = `10.${240 + (randomBytes(1)[0]! % 14)}.${randomBytes(1)[0]!}.0/24`;
  const nodeAddress = `127.1.${1 + (randomBytes(1)[0]! % 250)}.${1 + (randomBytes(1)[0]! % 250)}`;

  /** This instance's jump rules and chains in the nat table now. */
  const ours = async () =>
    (await run('iptables-save', ['-t', 'nat'])).stdout
      .split('\n')
      .filter(
        (l) =>
          [chains.container, chains.host, chains.postrouting].some((c) => l.includes(c)) ||
          l.split(' ').some((word) => chains.kernel.owns(word.replace(/^:/, ''))),
      );
  const refusals = () => serviceRangeRefusals(serviceCidr, chains.comment);

  const startProxyProcess = async (): Promise<{ child: ChildProcess; metrics: string }> => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'proxy',
        '--kubeconfig',
        cluster.componentKubeconfig('proxy'),
        '--nats-url',
        cluster.natsUrl,
        '--node-name',
        'proc-node',
        '--instance-id',
        instanceId,
        '--gateway',
        gateway,
        '--service-cluster-ip-range',
        serviceCidr,
        '--nodeport-addresses',
        nodeAddress,
        '--metrics-port',
        '0',
        '--sync-period',
        '1s',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const metrics = await new Promise<string>((ready, fail) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /proxy ready on proc-node, metrics at (\S+)\n/.exec(out);
        if (m) ready(m[1]!);
      });
      child.once('exit', (code) => fail(new Error(`the proxy exited (${code}): ${stderr}`)));
    });
    return { child, metrics };
  };
  const exited = (child: ChildProcess) =>
    new Promise<number | null>((r) =>
      child.exitCode !== null || child.signalCode !== null ? r(child.exitCode) : child.once('exit', r),
    );

  beforeAll(async () => {
    gateway = await dockerBridgeGateway((await dockerForTests()).docker);
    cluster = await startApiCluster({ serviceCidr });
    // The Service's endpoint: a server of the suite on the bridge gateway (the host itself).
    backend = createServer((s) => s.end('from the backend\n'));
    await new Promise<void>((r) => backend.listen(0, gateway, r));
    const port = (backend.address() as { port: number }).port;
    expect(
      (
        await cluster.api('POST', '/api/v1/namespaces/default/services', {
          metadata: { name: 'np' },
          spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await cluster.api('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
          metadata: {
            name: 'np-1',
            labels: { 'kubernetes.io/service-name': 'np', 'endpointslice.kubernetes.io/managed-by': 'test' },
          },
          addressType: 'IPv4',
          endpoints: [{ addresses: [gateway], conditions: { ready: true } }],
          ports: [{ name: 'http', port, protocol: 'TCP' }],
        })
      ).status,
    ).toBe(201);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.allSettled(children.map(exited));
    await Promise.allSettled([
      new Promise<void>((r) => (backend ? backend.close(() => r()) : r())),
      cluster?.close(),
    ]);
  });

  it('serves the NodePort and its metrics; SIGTERM removes its rules and route and exits 0', async () => {
    const { child, metrics } = await startProxyProcess();
    const svc = await cluster.api<{ spec: { ports: { nodePort: number }[] } }>(
      'GET',
      '/api/v1/namespaces/default/services/np',
    );
    const nodePort = svc.body.spec.ports[0]!.nodePort;
    expect(await tcpRead(nodeAddress, nodePort)).toBe('from the backend\n');
    // The gauge counts the rules of this instance's chains: portal, POSTROUTING, service and
    // endpoint. Read together until they agree: a sync (the cluster DNS's Service appearing) may
    // land between reading the gauge and listing the chains.
    const { text, rules } = await waitFor('the gauge to count the rules in the chains', async () => {
      const text = await httpGet(metrics);
      const rules = (await ours()).filter(
        (l) => l.startsWith('-A ') && !/^-A (PREROUTING|OUTPUT|POSTROUTING) /.test(l),
      );
      const gauge = new RegExp(
        `kubeproxy_sync_proxy_rules_iptables_total\\{table="nat"\\} ${rules.length}\n`,
      );
      return gauge.test(text) ? { text, rules } : undefined;
    });
    expect(rules.length).toBeGreaterThan(3);
    expect(text).toMatch(/wake_proxy_connections_total\{protocol="TCP",result="ok"\} [1-9]/);
    expect(text).toContain('kubeproxy_sync_proxy_rules_duration_seconds_count');
    expect((await ours()).length).toBeGreaterThan(0);
    expect(await refusals()).toHaveLength(2);
    // Someone deletes its jump from PREROUTING: the periodic sync puts it back.
    const prerouting = jumpRules(chains).find((j) => j.chain === 'PREROUTING')!;
    await run('iptables', ['-w', '-t', 'nat', '-D', prerouting.chain, ...prerouting.rule]);
    await waitFor('the jump rule to be back', async () =>
      (await ours()).some((l) => l.startsWith('-A PREROUTING')) ? true : undefined,
    );

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(await ours()).toEqual([]);
    expect(await refusals()).toEqual([]);
  });

  it('the API server’s certificate names the kubernetes Service’s ClusterIP of this service range', async () => {
    const url = new URL(cluster.connection.server);
    const cert = await new Promise<X509Certificate>((resolveCert, reject) => {
      const s = tlsConnect(
        { host: url.hostname, port: Number(url.port), ca: cluster.connection.caCert },
        () => {
          resolveCert(new X509Certificate(s.getPeerX509Certificate()!.raw));
          s.end();
        },
      );
      s.on('error', reject);
    });
    const first = serviceCidr.replace(/\.0\/24$/, '.1');
    expect(cert.checkIP(first)).toBe(first);
  });

  it('after kill -9 the rules stay; the next proxy with the same id clears them on start and on stop', async () => {
    const first = await startProxyProcess();
    const installed = await ours();
    first.child.kill('SIGKILL');
    await exited(first.child);
    expect(await ours()).toEqual(installed);

    const second = await startProxyProcess();
    // One jump rule each into PREROUTING and OUTPUT, not two: the stale ones went first.
    const jumps = (await ours()).filter((l) => l.startsWith('-A PREROUTING') || l.startsWith('-A OUTPUT'));
    expect(jumps).toHaveLength(2);
    await waitFor('the NodePort to answer', async () => {
      const svc = await cluster.api<{ spec: { ports: { nodePort: number }[] } }>(
        'GET',
        '/api/v1/namespaces/default/services/np',
      );
      return (await tcpRead(nodeAddress, svc.body.spec.ports[0]!.nodePort)) === 'from the backend\n'
        ? true
        : undefined;
    });
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
    expect(await ours()).toEqual([]);
    expect(await refusals()).toEqual([]);
  });
});
