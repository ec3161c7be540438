import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import dnsPacket from 'dns-packet';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests, removeClusterContainers, type TestDocker } from '@app/testing/docker.js';
import { type SimControlPlane, startSimControlPlane } from '@app/testing/sim-control-plane.js';

import { dockerBridgeGateway } from '../../node-agent/src/api-access/index.js';
import { type RunningNodeAgent, startNodeAgent } from '../../node-agent/src/run-node-agent.js';
import { portalChains } from '../src/netfilter/portal-rules.js';
import { type RunningProxy, startProxy } from '../src/run-proxy.js';
import { serviceRangeRefusals } from './host-rules.js';

const run = promisify(execFile);
const NS = 'svc';

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
}
interface Service {
  spec: { clusterIP: string; ports: { port: number; nodePort?: number }[] };
}

/**
 * Services on a real Docker node, end to end: the API server, the controller manager
 * (Deployment, ReplicaSet, Endpoints, EndpointSlice...), the scheduler, a Docker node agent
 * and the proxy, all in this process, driven with the real kubectl. Pods reach a Deployment
 * by ClusterIP, by its service variables and the API server by the `kubernetes` Service; the
 * host reaches the NodePort; requests spread, affinity pins, a not-ready pod gets nothing,
 * scaling changes the backends; UDP goes through; stopping leaves no rule or route behind.
 * The suite has its own service range, node-port address and chain names.
 */
describe('the proxy on a real Docker node: Services that route', () => {
  let cluster: ApiCluster;
  let docker: TestDocker;
  let dataDir = '';
  let agent: RunningNodeAgent | undefined;
  let plane: SimControlPlane | undefined;
  let proxy: RunningProxy | undefined;
  let udpEcho: UdpSocket | undefined;
  let gateway = '';
  const clusterId = `test-proxy-${randomUUID().slice(0, 8)}`;
  const instanceId = randomBytes(3).toString('hex').slice(0, 5);
  const chains = portalChains(instanceId);
  // A /24 of the suite's own in 10.224.0.0/12: other suites' proxies never see its addresses.
  const serviceCidr = `10.${224 + (randomBytes(1)[0]! % 16)}.${randomBytes(1)[0]!}.0/24`;
  const nodeAddress = `127.0.${1 + (randomBytes(1)[0]! % 250)}.${1 + (randomBytes(1)[0]! % 250)}`;
  /** The kube-dns Service's ClusterIP: the range's tenth address, as the API server reserves it. */
  const dnsIp = serviceCidr.replace(/\.0\/24$/, '.10');

  const kubectl = async (...args: string[]) => {
    const r = await cluster.kubectl(33, ['-n', NS, ...args], { timeoutMs: 150_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.code} ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  /** A shell command in the client pod; its output. */
  const inClient = (script: string) => kubectl('exec', 'client', '--', 'sh', '-c', script);
  /** Which pods answered `n` requests from the client to `url`. */
  const answers = async (url: string, n = 12) =>
    (await inClient(`for i in $(seq 1 ${n}); do timeout 5 wget -q -O - ${url}; done`))
      .split('\n')
      .filter(Boolean);
  const readyWebPods = async () =>
    (
      await cluster.api<{ items: Pod[] }>('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dweb`)
    ).body.items
      .filter((p) => !p.metadata.deletionTimestamp)
      .filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((p) => p.metadata.name)
      .sort();
  /** What six requests to `url` answer, sent by the real curl as a user on the host would. */
  const curlSixTimes = async (url: string) => {
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push((await run('curl', ['-sS', '--max-time', '5', url])).stdout.trim());
    return got;
  };
  const service = async (name: string) =>
    (await cluster.api<Service>('GET', `/api/v1/namespaces/${NS}/services/${name}`)).body;
  const natRules = async () => (await run('iptables-save', ['-t', 'nat'])).stdout;

  beforeAll(async () => {
    docker = await dockerForTests();
    gateway = await dockerBridgeGateway(docker.docker);
    // busybox wget's TLS offers no signature algorithms: the pod's API call needs the looser setting.
    cluster = await startApiCluster({ serviceCidr, allowSha1TlsSignatures: true });
    dataDir = await mkdtemp(join(tmpdir(), 'wake-proxy-e2e-'));
    agent = await startNodeAgent({
      connection: cluster.connection,
      natsUrl: cluster.natsUrl,
      nodeName: 'proxy-node',
      dataDir,
      clusterId,
      pauseImage: docker.images.pause,
      // The proxy serves the `kubernetes` Service: pods get its ClusterIP, as upstream.
      podApiForwarder: false,
      // And resolve names with the cluster DNS the proxy serves behind the kube-dns Service.
      clusterDNS: [dnsIp],
      // The node's InternalIP is the suite's loopback address: LoadBalancer status reports it.
      nodeIP: nodeAddress,
      leaseRenewMs: 1000,
      statusSyncMs: 500,
    });
    plane = await startSimControlPlane(cluster, { nodes: 0 });
    proxy = await startProxy({
      // As its own user, as `wake up` runs it: the suite proves its roles are enough.
      connection: cluster.componentConnection('proxy'),
      natsUrl: cluster.natsUrl,
      nodeName: 'proxy-node',
      instanceId,
      gateway,
      serviceCidr,
      nodePortAddresses: [nodeAddress],
      // No upstream resolvers: every name the pods ask for is the cluster's, nothing leaves.
      clusterDns: { upstreams: [] },
      ingress: { listen: { host: nodeAddress, port: 0 } },
    });
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: NS } })).status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled([proxy?.close()]);
    await plane?.close();
    await Promise.allSettled([agent?.close()]);
    if (udpEcho) await new Promise<void>((r) => udpEcho!.close(() => r()));
    if (docker) expect(await removeClusterContainers(docker.docker, clusterId)).toEqual([]);
    await cluster?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('installs its chains first in PREROUTING, OUTPUT and POSTROUTING, and refuses the rest of the service range in filter OUTPUT and FORWARD', async () => {
    const rules = await natRules();
    const prerouting = rules.split('\n').filter((l) => l.startsWith('-A PREROUTING'));
    expect(prerouting[0]).toContain(`-j ${chains.container}`);
    expect(rules.split('\n').find((l) => l.startsWith('-A OUTPUT'))).toContain(`-j ${chains.host}`);
    expect(rules.split('\n').find((l) => l.startsWith('-A POSTROUTING'))).toContain(
      `-j ${chains.postrouting}`,
    );
    expect(await serviceRangeRefusals(serviceCidr, chains.comment)).toEqual([
      expect.stringMatching(/^-A OUTPUT /),
      expect.stringMatching(/^-A FORWARD /),
    ]);
  });

  it('from a pod: ClusterIP, service variables and the kubernetes Service; requests spread over 3 replicas', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'httpd',
                image: docker.images.busybox,
                // The page is the pod's name; /ready is what the readiness probe reads.
                command: [
                  'sh',
                  '-c',
                  'mkdir /www && hostname > /www/index.html && touch /www/ready && exec httpd -f -p 8080 -h /www',
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    };
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: NS },
      spec: {
        type: 'NodePort',
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      },
    };
    for (const o of [svc, deployment]) {
      const applied = await cluster.kubectl(33, ['apply', '-f', '-'], { input: JSON.stringify(o) });
      expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' });
    }
    // The client starts after the Service exists, so it has the service variables.
    await kubectl(
      'run',
      'client',
      `--image=${docker.images.busybox}`,
      '--restart=Never',
      '--',
      'sleep',
      '3600',
    );
    expect(await kubectl('rollout', 'status', 'deployment/web', '--timeout=120s')).toContain(
      'successfully rolled out',
    );
    await kubectl('wait', '--for=condition=Ready', 'pod/client', '--timeout=120s');
    const pods = await waitFor('3 ready web pods', async () => {
      const ready = await readyWebPods();
      return ready.length === 3 ? ready : undefined;
    });
    const { clusterIP } = (await service('web')).spec;
    expect(clusterIP.startsWith(serviceCidr.split('.').slice(0, 3).join('.'))).toBe(true);

    // Endpoints reach the proxy promptly; until they have, a request may be refused: bounded wait.
    const seen = await waitFor('requests by ClusterIP to reach all 3 replicas', async () => {
      const got = await answers(`http://${clusterIP}:80/`).catch(() => []);
      return new Set(got).size === 3 ? got : undefined;
    });
    expect([...new Set(seen)].sort()).toEqual(pods);
    // Round robin: 12 requests, 4 to each.
    for (const p of pods) expect(seen.filter((s) => s === p)).toHaveLength(4);
    // iptables mode: the pod's connections were DNATed by the kernel (the service chain counted
    // them), not by the proxy port (the userspace portal rule is not in the container chain).
    const webChain = chains.kernel.service(`${NS}/web:http`, 'TCP');
    const counted = (await run('iptables-save', ['-c', '-t', 'nat'])).stdout
      .split('\n')
      .filter((l) => l.includes(`-A ${chains.container} -d ${clusterIP}/32`));
    expect(counted).toHaveLength(1);
    expect(counted[0]).toContain(`-j ${webChain}`);
    expect(Number(/^\[(\d+):/.exec(counted[0]!)?.[1])).toBeGreaterThanOrEqual(12);

    expect(await inClient('echo $WEB_SERVICE_HOST:$WEB_SERVICE_PORT')).toBe(`${clusterIP}:80\n`);
    const byEnv = await answers('http://$WEB_SERVICE_HOST:$WEB_SERVICE_PORT/', 6);
    expect(new Set(byEnv)).toEqual(new Set(pods));

    // The API server through the `kubernetes` Service's ClusterIP, with the pod's own token.
    const [kubeHost, kubePort] = (await inClient('echo $KUBERNETES_SERVICE_HOST $KUBERNETES_SERVICE_PORT'))
      .trim()
      .split(' ');
    expect(kubeHost).toBe(serviceCidr.replace(/\.0\/24$/, '.1'));
    expect(kubePort).toBe('443');
    const api = await inClient(
      'timeout 5 wget -q -O - --no-check-certificate --header "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" ' +
        'https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api',
    );
    expect(JSON.parse(api)).toMatchObject({ kind: 'APIVersions' });
  });

  it('from a pod: the Deployment by DNS name (short, namespace-qualified and FQDN) through the cluster DNS', async () => {
    expect(await inClient('cat /etc/resolv.conf')).toMatch(
      new RegExp(`^nameserver ${dnsIp.replace(/\./g, '\\.')}$`, 'm'),
    );
    const pods = await readyWebPods();
    for (const name of ['web', `web.${NS}`, `web.${NS}.svc.cluster.local`]) {
      const got = await waitFor(`requests to http://${name}/ to reach all 3 replicas`, async () => {
        const seen = await answers(`http://${name}/`, 9).catch(() => []);
        return new Set(seen).size === 3 ? seen : undefined;
      });
      expect([...new Set(got)].sort()).toEqual(pods);
    }
    const { clusterIP } = (await service('web')).spec;
    expect(await inClient(`nslookup web.${NS}.svc.cluster.local ${dnsIp}`)).toContain(
      `Address: ${clusterIP}`,
    );
  });

  it('from the host: an Ingress host and path rule through the ingress controller, its address shown by kubectl', async () => {
    const ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: NS },
      spec: {
        // No class: the proxy made IngressClass 'wake' the default.
        rules: [
          {
            host: 'web.example',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'web', port: { name: 'http' } } },
                },
              ],
            },
          },
        ],
      },
    };
    const applied = await cluster.kubectl(33, ['apply', '-f', '-'], { input: JSON.stringify(ingress) });
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await kubectl('get', 'ingressclass', 'wake', '-o', 'jsonpath={.spec.controller}')).toBe(
      'wake.io/ingress',
    );
    const url = proxy!.runtime.ingressUrl!;
    const curl = async (host: string) =>
      (
        await run('curl', [
          '-sS',
          '--max-time',
          '5',
          '-H',
          `Host: ${host}`,
          '-o',
          '-',
          '-w',
          ' %{http_code}',
          `${url}/`,
        ])
      ).stdout.trim();
    const got = await waitFor('the Ingress rule to route to all 3 replicas', async () => {
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) seen.push(await curl('web.example'));
      return new Set(seen).size === 3 ? seen : undefined;
    });
    expect(new Set(got.map((g) => g.replace(/\s+200$/, '')))).toEqual(new Set(await readyWebPods()));
    // Another host matches no rule and there is no default backend: 404.
    expect(await curl('other.example')).toMatch(/ 404$/);
    await waitFor('kubectl get ingress to show the address', async () =>
      (await kubectl('get', 'ingress', 'web')).includes(nodeAddress) ? true : undefined,
    );
  });

  it('from the host: the NodePort on the node-port address', async () => {
    const nodePort = (await service('web')).spec.ports[0]!.nodePort!;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(new Set(await curlSixTimes(`http://${nodeAddress}:${nodePort}/`))).toEqual(
      new Set(await readyWebPods()),
    );
  });

  it('type LoadBalancer: its status names the node address, where the host reaches the service port and the NodePort', async () => {
    await kubectl(
      'expose',
      'deployment',
      'web',
      '--name=web-lb',
      '--type=LoadBalancer',
      '--port=80',
      '--target-port=8080',
    );
    // The service-lb controller writes the Ready node's address (its InternalIP here), as k3s' servicelb.
    const external = await waitFor('an EXTERNAL-IP for web-lb', async () => {
      const row = (await kubectl('get', 'service', 'web-lb', '--no-headers')).trim().split(/\s+/);
      return row[3] === nodeAddress ? row : undefined;
    });
    expect(external[1]).toBe('LoadBalancer');
    const nodePort = (await service('web-lb')).spec.ports[0]!.nodePort!;
    const pods = new Set(await readyWebPods());
    for (const port of [80, nodePort]) {
      const got = await waitFor(`the host to reach web-lb at ${nodeAddress}:${port}`, async () => {
        const seen: string[] = [];
        for (let i = 0; i < 6; i++)
          seen.push(
            (
              await run('curl', ['-sS', '--max-time', '5', `http://${nodeAddress}:${port}/`]).catch(() => ({
                stdout: '',
              }))
            ).stdout.trim(),
          );
        return new Set(seen).size === pods.size ? seen : undefined;
      });
      expect(new Set(got)).toEqual(pods);
    }
    await kubectl('delete', 'service', 'web-lb');
  });

  it('from the host: a ClusterIP reaches the Service (upstream’s KUBE-PORTALS-HOST); a port no Service has is refused, not sent out', async () => {
    const { clusterIP } = (await service('web')).spec;
    expect(new Set(await curlSixTimes(`http://${clusterIP}/`))).toEqual(new Set(await readyWebPods()));
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const s = connect({ host: clusterIP, port: 81 });
      s.on('connect', () => {
        s.destroy();
        resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' }));
      });
      s.on('error', resolve);
    });
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('ClientIP affinity pins the client to one replica', async () => {
    const { clusterIP } = (await service('web')).spec;
    await kubectl('patch', 'service', 'web', '-p', JSON.stringify({ spec: { sessionAffinity: 'ClientIP' } }));
    await waitFor('every request of the client to reach one replica', async () => {
      const got = await answers(`http://${clusterIP}/`, 8);
      return got.length === 8 && new Set(got).size === 1 ? got : undefined;
    });
    await kubectl('patch', 'service', 'web', '-p', JSON.stringify({ spec: { sessionAffinity: 'None' } }));
    await waitFor('requests spreading over the 3 replicas again', async () =>
      new Set(await answers(`http://${clusterIP}/`, 6)).size === 3 ? true : undefined,
    );
  });

  it('a not-ready pod gets no traffic; after scaling, the backends are the new set', async () => {
    const { clusterIP } = (await service('web')).spec;
    const [unready, ...others] = await readyWebPods();
    await kubectl('exec', unready!, '--', 'rm', '/www/ready');
    await waitFor(`${unready} to be not Ready`, async () =>
      (await readyWebPods()).includes(unready!) ? undefined : true,
    );
    const got = await waitFor('requests to reach only the ready pods', async () => {
      const a = await answers(`http://${clusterIP}/`);
      return a.length === 12 && a.every((p) => others.includes(p)) ? a : undefined;
    });
    expect(new Set(got)).toEqual(new Set(others));

    await kubectl('scale', 'deployment/web', '--replicas=5');
    const grown = await waitFor(
      '4 ready web pods',
      async () => {
        const ready = await readyWebPods();
        return ready.length === 4 ? ready : undefined;
      },
      { timeoutMs: 90_000 },
    );
    await waitFor('requests to reach exactly the 4 ready pods', async () => {
      const a = await answers(`http://${clusterIP}/`, 12);
      return new Set(a).size === 4 && a.every((p) => grown.includes(p)) ? true : undefined;
    });
    await kubectl('scale', 'deployment/web', '--replicas=1');
    const shrunk = await waitFor(
      '1 ready web pod',
      async () => {
        const ready = await readyWebPods();
        return ready.length === 1 ? ready : undefined;
      },
      { timeoutMs: 90_000 },
    );
    await waitFor('requests to reach only the one pod left', async () => {
      const a = await answers(`http://${clusterIP}/`, 4);
      return a.length === 4 && a.every((p) => p === shrunk[0]) ? true : undefined;
    });
  });

  it('UDP through the proxy: a pod’s DNS query to a ClusterIP reaches a responder on the bridge gateway', async () => {
    // A responder answering every A query with 192.0.2.53; busybox nslookup is the pod's UDP client.
    udpEcho = createSocket('udp4');
    udpEcho.on('message', (m, from) => {
      const query = dnsPacket.decode(m);
      const answer = dnsPacket.encode({
        id: query.id,
        type: 'response',
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
        questions: query.questions,
        answers: (query.questions ?? [])
          .filter((q) => q.type === 'A')
          .map((q) => ({ type: 'A' as const, name: q.name, ttl: 5, data: '192.0.2.53' })),
      });
      udpEcho!.send(answer, from.port, from.address);
    });
    await new Promise<void>((r) => udpEcho!.bind(0, gateway, r));
    const echoPort = udpEcho.address().port;
    // A Service without a selector and an EndpointSlice of the test's own, naming the responder.
    const svc = await cluster.api('POST', `/api/v1/namespaces/${NS}/services`, {
      metadata: { name: 'resolver' },
      spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
    });
    expect(svc.status).toBe(201);
    const slice = await cluster.api('POST', `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`, {
      metadata: {
        name: 'resolver-1',
        labels: {
          'kubernetes.io/service-name': 'resolver',
          'endpointslice.kubernetes.io/managed-by': 'test',
        },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [gateway], conditions: { ready: true } }],
      ports: [{ name: 'dns', port: echoPort, protocol: 'UDP' }],
    });
    expect(slice.status).toBe(201);
    const { clusterIP } = (await service('resolver')).spec;
    const reply = await waitFor('a DNS answer through the ClusterIP', async () => {
      const out = await inClient(`timeout 5 nslookup probe.example ${clusterIP}`).catch(
        (e: Error) => e.message,
      );
      if (!out.includes('192.0.2.53')) throw new Error(`nslookup said ${JSON.stringify(out)}`);
      return out;
    });
    // The answer came from the ClusterIP the pod asked (conntrack undid the portal's DNAT).
    expect(reply).toMatch(new RegExp(`Server:\\s+${clusterIP.replace(/\./g, '\\.')}`));
    expect(reply).toMatch(/Name:\s+probe\.example\s+Address:\s+192\.0\.2\.53/);
  });

  it('a Service routed to a local listener (the DNS wiring): setLocalBackends, no EndpointSlice', async () => {
    // The in-process DNS server's role is played by the responder of the test above.
    const echoPort = udpEcho!.address().port;
    const created = await cluster.api('POST', `/api/v1/namespaces/${NS}/services`, {
      metadata: { name: 'local-dns' },
      spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
    });
    expect(created.status).toBe(201);
    proxy!.runtime.setLocalBackends({ [`${NS}/local-dns`]: { dns: { host: gateway, port: echoPort } } });
    const { clusterIP } = (await service('local-dns')).spec;
    const reply = await waitFor('a DNS answer through the local backend', async () => {
      const out = await inClient(`timeout 5 nslookup local.example ${clusterIP}`).catch(
        (e: Error) => e.message,
      );
      if (!out.includes('192.0.2.53')) throw new Error(`nslookup said ${JSON.stringify(out)}`);
      return out;
    });
    expect(reply).toMatch(/Name:\s+local\.example\s+Address:\s+192\.0\.2\.53/);
    expect(proxy!.runtime.proxier.balancer.endpoints(`${NS}/local-dns:dns`)).toEqual([
      { ip: gateway, port: echoPort },
    ]);
  });

  it('stopping removes every rule, chain and route it made', async () => {
    expect(await natRules()).toContain(chains.container);
    await proxy!.close();
    proxy = undefined;
    const after = await natRules();
    expect(after).not.toContain(chains.container);
    expect(after).not.toContain(chains.host);
    expect(after).not.toContain(`wake proxy ${instanceId}`);
    expect(after).not.toContain(chains.postrouting);
    expect(
      after
        .split('\n')
        .filter((l) => /WAKE-(SVC|SEP)-/.test(l) && l.includes(`-${instanceId.toUpperCase()}-`)),
    ).toEqual([]);
    expect(await serviceRangeRefusals(serviceCidr, chains.comment)).toEqual([]);
  });
});
