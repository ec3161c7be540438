import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

import { hostname } from 'node:os';

import {
  createDatabase,
  DockerEngine,
  ensureLocalImages,
  freePort,
  preferredPort,
  NatsServer,
  PostgresServer,
  waitFor,
} from '@app/dev-servers';

import { dockerBridgeGateway } from '../../../node-agent/src/api-access/index.js';
import {
  CheckpointFile,
  Checkpointer,
  CheckpointSigner,
  DEFAULT_RETENTION_KINDS,
  EventStore,
} from '@app/event-store';

import { type DataDir, isAlive } from '../data-dir.js';
import { createLogger } from '@app/logging';
import { ComponentSupervisor } from '../component-supervisor.js';
import { READY_LINE } from '../../../api-server/src/run-api-server.js';
import { SCHEDULER_READY_LINE } from '../../../scheduler/src/run-scheduler.js';
import { CONTROLLER_MANAGER_READY_LINE } from '../../../controller-manager/src/run-controller-manager.js';
import { NODE_AGENT_READY_LINE } from '../../../node-agent/src/run-node-agent.js';
import { PROXY_READY_LINE } from '../../../proxy/src/run-proxy.js';
import { SIM_AGENT_READY_LINE } from '../../../node-agent/src/sim/sim-agent.js';
import { RELAY_HALTED_EXIT, RELAY_READY_LINE } from './relay.js';
import { parseCidr } from '../../../api-server/src/services/ip-range.js';
import { componentKubeconfigPath, hasOwnUser } from '../../../api-server/src/auth/component-users.js';
import { DEFAULT_SERVICE_CIDR, dnsServiceIp } from '../../../api-server/src/services/service-allocator.js';

export interface UpOptions {
  dataDir: DataDir;
  detach: boolean;
  /** Port of the API server (default 6443). */
  apiPort?: number;
  /** Use this Postgres instead of starting one (DATABASE_URL). */
  databaseUrl?: string;
  /** Use this JetStream-enabled NATS instead of starting one (NATS_URL). */
  natsUrl?: string;
  /**
   * How pods run: `docker` (a node agent on the Docker engine, started if need be), `sim`
   * (a simulated node agent playing `nodes` nodes, no Docker) or `none`.
   */
  runtime?: 'docker' | 'sim' | 'none';
  /** The node's name (default: this host's name); with `sim`, the nodes' name prefix. */
  nodeName?: string;
  /** Simulated nodes for `--runtime sim` (default 10). */
  nodes?: number;
  /** The ingress controller's HTTP port on 127.0.0.1 (default 8080, or a free one when taken). */
  ingressPort?: number;
}

/**
 * The `kube-dns` Service's ClusterIP, which node agents give pods as their resolver: the one
 * the API server reserves in its service range (`wake up` leaves the range at its default).
 */
const CLUSTER_DNS_IP = dnsServiceIp(parseCidr(DEFAULT_SERVICE_CIDR)) as string;
/** Where `wake up` serves Ingresses unless told otherwise (80 is often taken on a workstation). */
const DEFAULT_INGRESS_PORT = 8080;

const log = createLogger('wake');

/**
 * Starts what exists of a Wake cluster: PostgreSQL and a JetStream nats-server (supervised,
 * under the data directory, unless DATABASE_URL / NATS_URL name others), the event store with
 * its migrations, the relay that puts every event on the bus, signed checkpoints of the log
 * head kept outside Postgres, and payload retention for high-churn kinds.
 */
export async function up(o: UpOptions): Promise<void> {
  const running = o.dataDir.readState();
  if (running && isAlive(running.pid))
    throw new Error(`a cluster already runs from ${o.dataDir.root} (pid ${running.pid})`);
  if (o.detach) return detach(o);
  const startedAt = performance.now();
  await o.dataDir.create();

  let shuttingDown = false;
  // A supervised server that dies under a running cluster takes the cluster down, loudly.
  const exitWith = (name: string) => (code: number | null) => {
    if (shuttingDown) return;
    log.error({ code }, `${name} exited unexpectedly`);
    process.exit(1);
  };
  const pg = o.databaseUrl
    ? undefined
    : await new PostgresServer({
        dataDir: o.dataDir.postgresDir,
        onUnexpectedExit: exitWith('postgres'),
      }).start();
  const nats = o.natsUrl
    ? undefined
    : await new NatsServer({ dataDir: o.dataDir.natsDir, onUnexpectedExit: exitWith('nats-server') }).start();
  const natsUrl = o.natsUrl ?? nats!.url;
  const url = o.databaseUrl ?? (await createDatabase(pg!.url(), 'wake', { ifMissing: true }));
  const store = await EventStore.open({
    url,
    retention: { kinds: DEFAULT_RETENTION_KINDS, windowMs: 3_600_000 },
  });
  const signer = await CheckpointSigner.fromFile(join(o.dataDir.checkpointDir, 'checkpoint-key.pem'));
  const file = new CheckpointFile(join(o.dataDir.checkpointDir, 'checkpoints.jsonl'));
  const checkpointer = new Checkpointer(
    () => store.head(),
    signer,
    file,
    (e) => log.error({ error: String(e) }, 'checkpoint failed'),
  );
  checkpointer.start(10_000);
  const relay = new ComponentSupervisor('relay', {
    args: ['relay', '--database-url', url, '--nats-url', natsUrl],
    readyLine: `${RELAY_READY_LINE}\n`,
    logFile: join(o.dataDir.root, 'relay.log'),
    haltExitCode: RELAY_HALTED_EXIT,
    onHalt: () => process.kill(process.pid, 'SIGTERM'),
  });
  await relay.start();
  const apiPort = o.apiPort ?? 6443;
  const found = (o.runtime ?? 'docker') === 'docker' ? await containerEngine(o) : undefined;
  if (o.runtime === 'docker' && found instanceof Error) throw new Error(`--runtime docker: ${found.message}`);
  const engine = found instanceof DockerEngine ? found : undefined;
  // Pods reach the API server through the node agent's forwarder on the bridge gateway: the
  // serving certificate must name that address for clients that verify it.
  const gateway = engine ? await dockerBridgeGateway(engine.docker) : undefined;
  const apiServer = new ComponentSupervisor('api-server', {
    args: [
      'apiserver',
      '--database-url',
      url,
      '--nats-url',
      natsUrl,
      '--pki-dir',
      o.dataDir.pkiDir,
      '--port',
      String(apiPort),
      '--kubeconfig',
      o.dataDir.kubeconfig,
      '--component-kubeconfigs',
      o.dataDir.componentKubeconfigs,
      ...(gateway ? ['--tls-san', gateway] : []),
    ],
    readyLine: READY_LINE,
    logFile: join(o.dataDir.root, 'api-server.log'),
  });
  await apiServer.start();
  // Ports chosen here rather than by the components, so `wake status` can say where /metrics is.
  const [schedulerPort, controllerManagerPort] = [await freePort(), await freePort()];
  const scheduler = await startClient(o, natsUrl, 'scheduler', SCHEDULER_READY_LINE, [
    '--metrics-port',
    String(schedulerPort),
  ]);
  const controllerManager = await startClient(
    o,
    natsUrl,
    'controller-manager',
    CONTROLLER_MANAGER_READY_LINE,
    ['--metrics-port', String(controllerManagerPort)],
  );
  // Docker when an engine is reachable; without one, unless docker was asked for, simulated nodes, said loudly.
  const runtime = o.runtime === undefined && !engine ? 'sim' : (o.runtime ?? 'docker');
  if (found instanceof Error)
    log.warn(
      { error: found.message },
      'no Docker engine: running SIMULATED nodes instead (pods get status but no containers); install docker.io and run as root for real ones',
    );
  // The service proxy before the node's pods: they reach Services, the API server's among them,
  // through it. It writes nat rules and a route, so it needs root; without, the node still runs
  // pods, which then reach the API server through the agent's forwarder and use the host's DNS.
  const root = process.getuid?.() === 0;
  if (engine && gateway && !root)
    log.warn(
      'not root: no service proxy (ClusterIPs, cluster DNS and Ingresses do not work); run as root for them',
    );
  const proxy = engine && gateway && root ? await startProxy(o, natsUrl, gateway) : undefined;
  const node = engine
    ? await startNodeAgent(o, natsUrl, engine, !!proxy)
    : runtime === 'sim'
      ? await startSimNodeAgent(o, natsUrl)
      : undefined;
  const apiUrl = `https://127.0.0.1:${apiPort}`;
  const retention = setInterval(() => {
    store.expirePayloads().catch((e: unknown) => log.error({ error: String(e) }, 'payload expiry failed'));
  }, 60_000).unref();

  await o.dataDir.writeState({
    pid: process.pid,
    startedAt: new Date().toISOString(),
    postgres: { url, pid: pg?.pid },
    nats: { url: natsUrl, pid: nats?.pid },
    relay: { pid: relay.pid, log: join(o.dataDir.root, 'relay.log') },
    apiServer: {
      pid: apiServer.pid,
      url: apiUrl,
      kubeconfig: o.dataDir.kubeconfig,
      log: join(o.dataDir.root, 'api-server.log'),
    },
    scheduler: {
      pid: scheduler.pid,
      url: `http://127.0.0.1:${schedulerPort}/metrics`,
      log: join(o.dataDir.root, 'scheduler.log'),
    },
    controllerManager: {
      pid: controllerManager.pid,
      url: `http://127.0.0.1:${controllerManagerPort}/metrics`,
      log: join(o.dataDir.root, 'controller-manager.log'),
    },
    ...(node
      ? { nodeAgent: { pid: node.agent.pid, log: join(o.dataDir.root, 'node-agent.log'), node: node.name } }
      : {}),
    ...(proxy
      ? {
          proxy: {
            pid: proxy.supervisor.pid,
            url: proxy.url,
            ingress: proxy.ingress,
            log: join(o.dataDir.root, 'proxy.log'),
          },
        }
      : {}),
    checkpoints: { file: file.path, publicKey: signer.publicKeyPem() },
  });
  const head = await store.head();
  log.info({ dataDir: o.dataDir.root, postgres: url, logHead: head.seq }, 'wake is up');
  const readyIn = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(`Wake is running (data directory ${o.dataDir.root}).
  Nodes:       ${node ? `${node.name}, Ready ${readyIn} s after start` : 'none (--runtime none)'}
  API server:  ${apiUrl}
  Event log:   ${url}  (head at seq ${head.seq})
  Event bus:   ${natsUrl}  (stream WAKE_EVENTS)
  Checkpoints: ${file.path}
Use it with:
  export KUBECONFIG=${o.dataDir.kubeconfig}
  kubectl get nodes
  kubectl run hello --image=${node?.busybox ?? 'busybox'} -- sh -c 'echo hello from Wake; sleep 3600'
  kubectl logs hello
'wake status' shows what runs, 'wake down' stops it.`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      if (shuttingDown) return;
      shuttingDown = true;
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  clearInterval(retention);
  await checkpointer.stop();
  await checkpointer.checkpoint().catch(() => undefined);
  await node?.agent.stop();
  // After the pods' agent, before the engine: SIGTERM makes it remove its rules and route.
  await proxy?.supervisor.stop();
  await engine?.stop();
  await controllerManager.stop();
  await scheduler.stop();
  await apiServer.stop();
  await relay.stop();
  await store.close();
  await Promise.all([pg?.stop(), nats?.stop()]);
  await o.dataDir.clearState();
  log.info('stopped');
}

/**
 * The Docker engine the node agent runs pods on: the one answering, or a dockerd started here
 * (and stopped with the cluster) when none does and we are root.
 */
async function containerEngine(o: UpOptions): Promise<DockerEngine | Error> {
  // Why there is none is the caller's to report: an error under --runtime docker, a warning otherwise.
  return DockerEngine.ensure({ logFile: join(o.dataDir.root, 'dockerd.log') }).catch((e: unknown) =>
    e instanceof Error ? e : new Error(String(e)),
  );
}

/**
 * `wake <command> --kubeconfig --nats-url ...args` under supervision, its output in
 * <data dir>/<command>.log; resolves once it printed `readyLine`.
 */
async function startClient(
  o: UpOptions,
  natsUrl: string,
  command: 'scheduler' | 'controller-manager' | 'node-agent' | 'proxy',
  readyLine: string,
  args: string[],
): Promise<ComponentSupervisor> {
  // A component with a user of its own runs as that user; the rest as the admin.
  const kubeconfig = hasOwnUser(command)
    ? componentKubeconfigPath(o.dataDir.componentKubeconfigs, command)
    : o.dataDir.kubeconfig;
  const supervisor = new ComponentSupervisor(command, {
    args: [command, '--kubeconfig', kubeconfig, '--nats-url', natsUrl, ...args],
    readyLine,
    logFile: join(o.dataDir.root, `${command}.log`),
  });
  await supervisor.start();
  return supervisor;
}

/** The Docker node's name, which its agent registers and its proxy serves Local traffic for. */
function dockerNodeName(o: UpOptions): string {
  return o.nodeName ?? hostname().toLowerCase();
}

async function startNodeAgent(
  o: UpOptions,
  natsUrl: string,
  engine: DockerEngine,
  /** A service proxy runs for the node: pods get the `kubernetes` ClusterIP and the cluster DNS. */
  proxied: boolean,
): Promise<{ agent: ComponentSupervisor; name: string; busybox: string }> {
  const name = dockerNodeName(o);
  // No registry need be reachable: the sandbox image and a busybox to try are built locally.
  const images = await ensureLocalImages(engine.docker);
  const agent = await startClient(o, natsUrl, 'node-agent', NODE_AGENT_READY_LINE, [
    '--node-name',
    name,
    '--root-dir',
    join(o.dataDir.root, 'agent'),
    '--pod-infra-container-image',
    images.pause,
    '--healthz-port',
    '0',
    // Pods reach the API server at the `kubernetes` Service's ClusterIP through the proxy, as
    // upstream, and resolve names with the cluster DNS it serves behind the kube-dns Service.
    ...(proxied ? ['--pod-api-forwarder=false', '--cluster-dns', CLUSTER_DNS_IP] : []),
  ]);
  return { agent, name, busybox: images.busybox };
}

/** `wake proxy` for the Docker node: its proxy ports on the bridge gateway pods reach the host at. */
async function startProxy(
  o: UpOptions,
  natsUrl: string,
  gateway: string,
): Promise<{ supervisor: ComponentSupervisor; url: string; ingress: string }> {
  const port = await freePort();
  const ingressPort = o.ingressPort ?? (await preferredPort(DEFAULT_INGRESS_PORT));
  const supervisor = await startClient(o, natsUrl, 'proxy', PROXY_READY_LINE, [
    '--node-name',
    dockerNodeName(o),
    '--gateway',
    gateway,
    // Chains of this data directory's own: a second cluster on the host (a test's) must not
    // take them for a crashed predecessor's and remove them.
    '--instance-id',
    createHash('sha256').update(o.dataDir.root).digest('hex').slice(0, 5),
    '--metrics-port',
    String(port),
    '--dns-port',
    '0',
    '--ingress-port',
    String(ingressPort),
  ]);
  return { supervisor, url: `http://127.0.0.1:${port}/metrics`, ingress: `http://127.0.0.1:${ingressPort}` };
}

/** The nodes of `--runtime sim`: one process plays them all; nothing else is needed. */
async function startSimNodeAgent(
  o: UpOptions,
  natsUrl: string,
): Promise<{ agent: ComponentSupervisor; name: string; busybox?: undefined }> {
  const nodes = o.nodes ?? 10;
  const agent = await startClient(o, natsUrl, 'node-agent', SIM_AGENT_READY_LINE, [
    '--runtime',
    'sim',
    '--nodes',
    String(nodes),
    ...(o.nodeName ? ['--node-name-prefix', o.nodeName] : []),
  ]);
  return { agent, name: `${nodes} simulated nodes` };
}

async function detach(o: UpOptions): Promise<void> {
  const args = [process.argv[1], 'up', '--data-dir', o.dataDir.root];
  if (o.databaseUrl) args.push('--database-url', o.databaseUrl);
  if (o.natsUrl) args.push('--nats-url', o.natsUrl);
  if (o.apiPort !== undefined) args.push('--api-port', String(o.apiPort));
  if (o.runtime) args.push('--runtime', o.runtime);
  if (o.nodeName) args.push('--node-name', o.nodeName);
  if (o.nodes !== undefined) args.push('--nodes', String(o.nodes));
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    detached: true,
    stdio: 'ignore',
    env: process.env,
  });
  child.unref();
  await waitFor(
    'the cluster to come up',
    () => {
      const state = o.dataDir.readState();
      if (!isAlive(child.pid!))
        throw new Error('wake up exited during start-up; run it without --detach to see why');
      return state?.pid === child.pid ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 200 },
  );
  console.log(
    `Wake is running in the background (pid ${child.pid}); export KUBECONFIG=${o.dataDir.kubeconfig} to use it, 'wake down --data-dir ${o.dataDir.root}' stops it.`,
  );
}
