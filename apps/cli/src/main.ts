import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { RELAY_READ_INTERVAL_MS } from '@app/bus';

import { parseOutput } from './audit/text-table.js';
import { apiserver } from './commands/apiserver.js';
import { down } from './commands/down.js';
import { getAsOf } from './commands/get-as-of.js';
import { history } from './commands/history.js';
import {
  nodeAgent,
  parseClusterDns,
  parseLabels,
  parseShard,
  parseTaints,
  simNodeAgent,
} from './commands/node-agent.js';
import { relay } from './commands/relay.js';
import { replay } from './commands/replay.js';
import { parseDuration, scheduler } from './commands/scheduler.js';
import {
  parseNodePortAddresses,
  parseProxyMode,
  parseServiceCidr,
  proxy,
  proxyAddOns,
} from './commands/proxy.js';
import { KNOWN_CONTROLLERS } from '../../controller-manager/src/controller-manager.module.js';
import { controllerManager } from './commands/controller-manager.js';
import { status } from './commands/status.js';
import { up } from './commands/up.js';
import { verify } from './commands/verify.js';
import { why } from './commands/why.js';
import { DataDir } from './data-dir.js';

const HELP: Record<string, string> = {
  '': `wake — a Kubernetes-compatible orchestrator whose state is an append-only event log

usage: wake <command> [options]

commands:
  up        start a cluster (Postgres + event store, NATS JetStream + relay; more as they land)
  down      stop the cluster started from a data directory
  status    show the components, their URLs and memory
  verify    check the event log's hash chain against the signed checkpoints
  relay     run the relay alone: every committed event onto the JetStream event stream
  apiserver run the API server alone (HTTPS, Kubernetes REST and watch)
  scheduler run a scheduler: places pods on nodes through the API server
  controller-manager  run the controllers (ReplicaSet, ReplicationController, ...)
  node-agent run a node agent: registers a node and runs its pods on Docker
            (--runtime sim: plays N simulated nodes, no Docker)
  proxy     run the service proxy of a Docker node: ClusterIPs, NodePorts, LoadBalancers

audit (from the event log; also as 'kubectl wake <command>'):
  history   every version of an object: when, who, verb, cause and a diff
  get       objects as they were at a resourceVersion or a time (--as-of)
  why       the chain of writes, from a user's request, that led to an object's version
  replay    rebuild the projections from the log and compare; --verify: also the hash chain

'wake <command> --help' for a command's options.`,
  up: `usage: wake up [--detach] [--data-dir DIR] [--api-port N] [--database-url URL] [--nats-url URL]
               [--runtime docker|sim|none] [--nodes N] [--node-name NAME] [--ingress-port N]

  --detach          return once the cluster is up; 'wake down' stops it
  --data-dir DIR    where Postgres, NATS, certificates, checkpoints and state live (default .wake);
                    the admin kubeconfig is DIR/kubeconfig
  --api-port N      the API server's HTTPS port (default 6443)
  --database-url    use this PostgreSQL instead of starting one (also DATABASE_URL)
  --nats-url        use this JetStream-enabled NATS instead of starting one (also NATS_URL)
  --runtime R       docker: a node agent runs pods on the Docker engine, which is started
                    when none answers and we are root; sim: a simulated node agent plays
                    --nodes nodes (no Docker needed); none: no node. Default: docker when an
                    engine is (or can be) running, else sim, with a warning
  --nodes N         simulated nodes for --runtime sim (default 10)
  --node-name NAME  the node's name (default: this host's name; the name prefix for sim)
  --ingress-port N  the ingress controller's HTTP port on 127.0.0.1 with a Docker node
                    (default 8080, or a free port when 8080 is taken)`,
  down: 'usage: wake down [--data-dir DIR]',
  apiserver: `usage: wake apiserver --database-url URL --nats-url URL --pki-dir DIR [--host ADDR] [--port N] [--kubeconfig FILE]
                      [--external-kubeconfig FILE --external-server URL] [--component-kubeconfigs DIR]

Serves the Kubernetes API over HTTPS until SIGTERM; its state is the event store at URL, its
watches come from the event stream. Makes a CA, a serving certificate and tokens in DIR on
first start. Prints "api-server listening on <url>" when ready.

  --database-url    the event store's PostgreSQL (also DATABASE_URL)
  --nats-url        a JetStream-enabled NATS (also NATS_URL)
  --pki-dir DIR     CA, serving certificate and tokens
  --host ADDR       address or host name to listen on (default 127.0.0.1); a name is also put in
                    the serving certificate and the kubeconfig
  --port N          port (default 6443; 0: any free port)
  --kubeconfig FILE write the admin kubeconfig here once listening
  --component-kubeconfigs DIR  write DIR/<component>.kubeconfig for each component that runs as
                    its own user, not the admin: scheduler.kubeconfig (system:kube-scheduler),
                    proxy.kubeconfig (system:kube-proxy), controller-manager.kubeconfig
                    (system:kube-controller-manager)
  --tls-san IP,...  more IP addresses the serving certificate names (e.g. the Docker bridge
                    gateway pods reach the API server at)
  --allow-sha1-tls-signatures  accept TLS 1.2 clients that offer no signature algorithms
                    (busybox wget); loosens TLS for every client, off by default
  --external-kubeconfig FILE  also write one naming --external-server (a published port, a load
                    balancer), whose host the serving certificate then covers too
  --external-server URL  e.g. https://127.0.0.1:16443`,
  relay: `usage: wake relay --database-url URL --nats-url URL [--stream NAME] [--max-messages N] [--stream-replicas N]
                  [--read-interval-ms N] [--healthz-port N]

Publishes every committed event of the log at URL onto the event stream, in order, once,
until SIGTERM. One relay is active per log; others wait. Exits ${'3'} if it halted because the
stream and the log disagree (a supervisor must not restart it then).

  --database-url    the event store's PostgreSQL (also DATABASE_URL)
  --nats-url        a JetStream-enabled NATS (also NATS_URL)
  --stream NAME     the event stream (default WAKE_EVENTS)
  --max-messages N  events the stream keeps, the hot tail (default 1000000)
  --stream-replicas N  copies JetStream keeps of the stream (default 1; 3 on a three-server cluster)
  --read-interval-ms N  least time between two reads of the log when appends come faster: one
                    read and one NATS flush then carry all of them, for up to N ms more delivery
                    latency (default ${RELAY_READ_INTERVAL_MS}; 0: read on every commit)
  --healthz-port N  serve /healthz, /livez and /readyz on 127.0.0.1:N (default: not served)`,
  scheduler: `usage: wake scheduler --kubeconfig FILE --nats-url URL [--scheduler-name NAME] [--leader-elect=false]

Places the pods whose spec.schedulerName is NAME on nodes, with kube-scheduler's filters and
scores, binding them through the API server. Replicas elect a leader on the Lease
kube-system/kube-scheduler; only the leader binds, and a replica that loses the lease exits 1
(its supervisor restarts it as a candidate). Prints "scheduler ready" once its caches are synced.

  --kubeconfig FILE     the API server and credentials (the kubeconfig 'wake up' writes)
  --nats-url URL        the event bus (also NATS_URL)
  --scheduler-name NAME pods it is responsible for (default default-scheduler)
  --leader-elect=false  schedule without electing a leader (a single replica)
  --leader-elect-lease-duration D   how long an unrenewed lease holds (default 15s)
  --leader-elect-renew-deadline D   a leader that cannot renew this long steps down (default 10s)
  --leader-elect-retry-period D     how often candidates try and leaders renew (default 2s)
  --metrics-port N      serve /metrics and /healthz on 127.0.0.1:N (default 10259; 0: any free port)`,
  'controller-manager': `usage: wake controller-manager --kubeconfig FILE --nats-url URL [--leader-elect=false] [--controllers LIST] [--concurrent-replicaset-syncs N]

Runs kube-controller-manager's controllers through the API server:
${wrapped(KNOWN_CONTROLLERS.join(', '), '  ')}
Replicas elect a leader on the Lease kube-system/kube-controller-manager;
only the leader acts, and a replica that loses the lease exits 1. Every write names as its
cause the version it reconciled ('wake why' follows it). Prints "controller-manager ready".

  --kubeconfig FILE     the API server and credentials (the kubeconfig 'wake up' writes)
  --nats-url URL        the event bus (also NATS_URL)
  --leader-elect=false  act without electing a leader (a single replica)
  --leader-elect-lease-duration D / --leader-elect-renew-deadline D / --leader-elect-retry-period D
                        as for 'wake scheduler' (defaults 15s, 10s, 2s)
  --controllers LIST    comma-separated: '*' all, 'name' one, '-name' not that one (default *)
  --concurrent-replicaset-syncs N  ReplicaSets synced at once (default 5)
  --concurrent-gc-syncs N  garbage collector workers (default 20)
  --concurrent-deployment-syncs N  Deployments synced at once (default 5)
  --concurrent-daemonset-syncs N  DaemonSets synced at once (default 2)
  --concurrent-namespace-syncs N  namespaces emptied at once (default 10)
  --terminated-pod-gc-threshold N  terminated pods kept before the oldest are deleted (default 12500; 0: never)
  --node-monitor-period D  how often node health is checked (default 5s)
  --node-monitor-grace-period D  a node silent this long turns Ready=Unknown (default 50s)
  --node-startup-grace-period D  the same for a node that never reported (default 60s)
  --node-eviction-rate R  nodes tainted for eviction per second in a healthy zone (default 0.1)
  --secondary-node-eviction-rate R  the same in a partly disrupted large zone (default 0.01)
  --unhealthy-zone-threshold F  share of not-ready nodes that makes a zone unhealthy (default 0.55)
  --large-cluster-size-threshold N  zones above this size keep tainting when unhealthy (default 50)
  --concurrent-statefulset-syncs N  StatefulSets synced at once (default 5)
  --concurrent-endpoint-syncs N  Services' Endpoints synced at once (default 5)
  --concurrent-service-endpoint-syncs N  Services' EndpointSlices synced at once (default 5)
  --max-endpoints-per-slice N  endpoints an EndpointSlice holds at most, 1 to 1000 (default 100)
  --concurrent-job-syncs N  Jobs synced at once (default 5)
  --concurrent-cron-job-syncs N  CronJobs synced at once (default 5)
  --concurrent-ttl-after-finished-syncs N  finished Jobs deleted at once (default 5)
  --root-ca-file FILE   the CA bundle published as kube-root-ca.crt (default: the kubeconfig's CA)
  --local-path-base-dir DIR  where local-path volumes live on their node (default /var/lib/wake/local-path-provisioner)
  --metrics-port N      serve /metrics and /healthz on 127.0.0.1:N (default 10257; 0: any free port)`,
  'node-agent': `usage: wake node-agent --kubeconfig FILE --nats-url URL [--node-name NAME] [--root-dir DIR] [options]

The kubelet of a Wake node: registers the Node (capacity from the host), renews its Lease in
kube-node-lease, posts its status, and runs the pods bound to it as Docker containers (a pause
sandbox per pod, app containers joining it). Stopping it leaves the pods running; a restarted
agent adopts them. Prints "node agent ready" once the node is registered.

  --kubeconfig FILE       the API server and credentials
  --nats-url URL          the event bus (also NATS_URL)
  --node-name NAME        the Node's name (default: this host's name)
  --root-dir DIR          pods' volumes and files (default .wake/agent)
  --docker-socket PATH    the Docker engine (default /var/run/docker.sock)
  --pod-infra-container-image IMAGE  the sandbox image (default: Wake's pause, built locally)
  --cluster-id ID         label for this cluster's containers (default: kube-system's uid)
  --max-pods N            pods this node takes (default 110)
  --node-ip ADDR          the InternalIP to report (default: the first non-loopback IPv4)
  --cluster-dns IP,...    the cluster DNS server(s) pods with dnsPolicy ClusterFirst use
                          (kube-dns's ClusterIP, e.g. 10.96.0.10; default none: such pods
                          fall back to the host's resolvers, with a MissingClusterDNS event)
  --cluster-domain D      the cluster's DNS domain, searched by pods (default cluster.local)
  --resolv-conf FILE      the host resolver configuration pods inherit (default /etc/resolv.conf)
  --node-labels k=v,...   extra labels to register with
  --register-with-taints key[=value]:Effect,...  taints to register with
  --node-status-update-frequency D  how often status is computed (default 10s)
  --node-lease-renew-interval D     how often the Lease is renewed (default 10s)
  --healthz-port N        serve /healthz, /livez, /readyz and /metrics on 127.0.0.1:N
                          (0: any free port; default: not served)
  --pod-api-forwarder=false  do not forward pods' API calls from the Docker bridge's gateway
                          (for an agent in a container, which cannot listen there)
  --node-container ID|self  the container this agent runs in, beside its pods: its network,
                          PID and IPC namespaces are the node's, which hostNetwork, hostPID
                          and hostIPC pods join (self: this container; hostIPC pods need it
                          to run with ipc: shareable). Default: the engine host's namespaces

  --runtime docker|sim    docker (default); sim: one process plays --nodes simulated nodes,
                          kwok-style, with no containers: it registers them, renews their
                          Leases, and drives the pods bound to them through stages (Running,
                          Job pods Succeeded, deleted pods removed). They carry the label
                          wake.dev/simulated=true. Prints "sim node agent ready: ..." once
                          every node is registered.
  --nodes N               simulated nodes in all, named PREFIX-0 … PREFIX-(N-1) (default 10)
  --node-name-prefix P    their names' prefix (default sim-node)
  --shard i/n             take only the nodes whose index is i modulo n, so n processes
                          split the nodes between them (default 0/1)
  --sim-profile fast|realistic  fast (default): pods Running at once; realistic: with a
                          Docker node's delays (sandbox, containers starting, Jobs running)
  --sim-chaos             add the chaos stages: a node labelled sim.wake.dev/node-not-ready=true
                          turns NotReady (Ready again without the label); a pod labelled
                          sim.wake.dev/container-crash=true crash-loops
  --sim-taint             also taint the nodes wake.dev/simulated=true:NoSchedule (clusters
                          mixing real and simulated nodes)
  --max-in-flight N       the process's request budget: requests at once (default 64)
  --qps N                 and started a second (default: unlimited)
  (--max-pods, --node-labels, --register-with-taints and --node-lease-renew-interval apply
  to simulated nodes too)`,
  proxy: `usage: wake proxy --kubeconfig FILE --nats-url URL [--node-name NAME] [--nodeport-addresses LIST]

kube-proxy for a Docker node. Pods' traffic to ClusterIP:port is caught by nat rules (chain
WAKE-PORTALS-CONTAINER, jumped to first from PREROUTING). In iptables mode (the default, as
upstream's) the kernel DNATs it straight to a ready endpoint: a service chain per Service port
spreads new connections round robin (sessionAffinity ClientIP by the 'recent' match), and
WAKE-POSTROUTING masquerades them so replies come back through the host. A Service port
without ready endpoints, or served by this process (the cluster DNS), goes to a proxy port on
the bridge gateway instead, as in userspace mode, where every Service port does and Node
copies the bytes. The host's traffic (WAKE-PORTALS-HOST, from OUTPUT), node ports and local
load-balancer addresses are always served by the proxy ports. Through a proxy port,
connections go round robin over the ready endpoints (sessionAffinity ClientIP honoured; a
failed dial tries the next endpoint); through the kernel a dead-but-ready endpoint fails the
connection, as in upstream's iptables mode. TCP and UDP. What no portal catches in the service
range is refused (REJECT in filter OUTPUT and FORWARD), never sent out. SIGTERM removes every
rule. Prints "proxy ready" after the first sync. Needs root (iptables).

  --kubeconfig FILE          the API server and credentials (the kubeconfig 'wake up' writes)
  --nats-url URL             the event bus (also NATS_URL)
  --node-name NAME           this node, for externalTrafficPolicy/internalTrafficPolicy Local
                             (default: this host's name)
  --nodeport-addresses LIST  comma-separated IPv4 addresses node ports listen on (default 127.0.0.1)
  --service-cluster-ip-range CIDR  the API server's service range, its rest refused (default
                             10.96.0.0/16; none: nothing refused)
  --proxy-mode MODE          iptables (default) or userspace: how pods' ClusterIP traffic is carried
  --bridge NAME              the bridge pods are on; proxy ports listen on its address (default docker0)
  --gateway ADDR             that address given directly (default: read from the bridge)
  --instance-id ID           1-5 of [a-z0-9] in the chain names, for several proxies on one host;
                             a restart with the same id removes what the last one left
  --udp-timeout D            how long an idle UDP flow is kept (default 250ms, as upstream)
  --sync-period D            how often rules are checked and rewritten without news, so a
                             flushed nat table heals (default 30s; 0s: never)
  --metrics-port N           serve /metrics and /healthz on 127.0.0.1:N (default 10249; 0: any free port)
  --dns-port N               also serve the cluster DNS (the CoreDNS role) on 127.0.0.1:N, UDP and
                             TCP (0: any free port); the kube-dns Service's ClusterIP is routed to
                             it. Absent: no DNS here
  --cluster-domain DOMAIN    the DNS zone of Services and pods (default cluster.local)
  --ingress-port N           also run the ingress controller: HTTP on --ingress-address:N (0: any
                             free port), routing Ingresses of class 'wake' (created when no class
                             names the controller; the default class unless another is). Absent: none
  --ingress-tls-port N       and HTTPS on N for the Ingresses' spec.tls certificates
  --ingress-address ADDR     where the ingress controller listens, the ADDRESS Ingresses show
                             (default the first node port address)`,
  status: 'usage: wake status [--data-dir DIR] [--json]\n\nexits 0 when the cluster runs, 3 when it does not',
  verify:
    'usage: wake verify [--data-dir DIR] [--database-url URL]\n\nexits 0 when the log verifies, 1 when it does not',
  history: `usage: wake history <kind>/<name> [-n NAMESPACE] [--no-diff] [-o json|yaml] [--data-dir DIR]

Every version of one object from the event log, across deletions and re-creations, oldest
first: REVISION (the resourceVersion, the event's seq), TIME, WHO wrote it through which client
(AGENT), the VERB and the CAUSE (the seq of the event the writer was reacting to), each followed
by a field-path diff from the version before ('-' old value, '+' new; a new object is all '+').

  <kind>/<name>       kubectl's spelling: deploy/web, pods/web, deployments.apps/web, or 'deploy web'
  -n, --namespace NS  the object's namespace (default "default"; ignored for cluster-scoped kinds)
  --no-diff           versions only
  --show-managed-fields  diff metadata.managedFields and metadata.resourceVersion too
  -o json|yaml        the events (who, verb, cause, user agent, the object) with RFC 6902 diffs
  --data-dir DIR      the cluster 'wake up' runs (default .wake, or WAKE_DATA_DIR)
  --database-url URL  read this event store instead (also DATABASE_URL)`,
  get: `usage: wake get <kind> [name] --as-of <time|rv> [-n NAMESPACE | -A] [-o json|yaml|name] [--data-dir DIR]

The objects of a kind (or one object) as they were right after resourceVersion rv, or at an
RFC 3339 time (the last event committed at or before it), folded from the event log rather
than read from the live projection, printed as kubectl get prints them, ages as they were then.

  --as-of T|RV        2026-11-22T08:50:00Z, or a resourceVersion (default: now)
  -n, --namespace NS  the namespace (default "default")
  -A, --all-namespaces  every namespace
  -o json|yaml|name   the object, or a List of them; or kind/name lines
  --show-managed-fields  keep metadata.managedFields in -o json|yaml
  --data-dir DIR      the cluster 'wake up' runs (default .wake, or WAKE_DATA_DIR)
  --database-url URL  read this event store instead (also DATABASE_URL)`,
  why: `usage: wake why <kind>/<name> [-n NAMESPACE] [--rv RV] [-o json|yaml] [--data-dir DIR]

Why the object is as it is: from its latest event (or the one at --rv) back through each
writer's cause (the event a controller reacted to) to the request no event caused, normally a
user's; printed from that request down to the object's event, with what each write changed.
Exits 3 when the chain breaks (a cause no longer in the log).

  -n, --namespace NS  the object's namespace (default "default")
  --rv RV             explain this version (a resourceVersion from 'wake history')
  -o json|yaml        the chain's events
  --data-dir DIR      the cluster 'wake up' runs (default .wake, or WAKE_DATA_DIR)
  --database-url URL  read this event store instead (also DATABASE_URL)`,
  replay: `usage: wake replay [--verify] [--keep] [-o json|yaml] [--data-dir DIR]

Rebuilds every projection from the event log into a scratch schema, in one snapshot with the
live projection, and compares them object by object; checks each object's event grammar.
With --verify, also recomputes the hash chain from seq 1 and holds it against the checkpoints
signed into the data directory. Exits 0 when all agree, 1 with a report of each difference.

  --verify            also verify the hash chain and the signed checkpoints
  --keep              keep the scratch schema (wake_replay_*) for inspection
  -o json|yaml        the reports
  --data-dir DIR      the cluster 'wake up' runs (default .wake, or WAKE_DATA_DIR)
  --database-url URL  read this event store instead (also DATABASE_URL)`,
};

async function main(argv: string[]): Promise<number> {
  const [command = '', ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      detach: { type: 'boolean' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      'nats-url': { type: 'string' },
      stream: { type: 'string' },
      'max-messages': { type: 'string' },
      'stream-replicas': { type: 'string' },
      'read-interval-ms': { type: 'string' },
      'healthz-port': { type: 'string' },
      'api-port': { type: 'string' },
      'pki-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      kubeconfig: { type: 'string' },
      'external-kubeconfig': { type: 'string' },
      'component-kubeconfigs': { type: 'string' },
      'external-server': { type: 'string' },
      'scheduler-name': { type: 'string' },
      controllers: { type: 'string' },
      'concurrent-replicaset-syncs': { type: 'string' },
      'concurrent-gc-syncs': { type: 'string' },
      'terminated-pod-gc-threshold': { type: 'string' },
      'concurrent-deployment-syncs': { type: 'string' },
      'concurrent-daemonset-syncs': { type: 'string' },
      'concurrent-namespace-syncs': { type: 'string' },
      'concurrent-statefulset-syncs': { type: 'string' },
      'concurrent-endpoint-syncs': { type: 'string' },
      'concurrent-service-endpoint-syncs': { type: 'string' },
      'max-endpoints-per-slice': { type: 'string' },
      'concurrent-job-syncs': { type: 'string' },
      'concurrent-cron-job-syncs': { type: 'string' },
      'concurrent-ttl-after-finished-syncs': { type: 'string' },
      'root-ca-file': { type: 'string' },
      'node-monitor-period': { type: 'string' },
      'node-monitor-grace-period': { type: 'string' },
      'node-startup-grace-period': { type: 'string' },
      'node-eviction-rate': { type: 'string' },
      'secondary-node-eviction-rate': { type: 'string' },
      'unhealthy-zone-threshold': { type: 'string' },
      'large-cluster-size-threshold': { type: 'string' },
      'local-path-base-dir': { type: 'string' },
      'leader-elect': { type: 'string' },
      'leader-elect-lease-duration': { type: 'string' },
      'leader-elect-renew-deadline': { type: 'string' },
      'leader-elect-retry-period': { type: 'string' },
      'metrics-port': { type: 'string' },
      'node-name': { type: 'string' },
      'tls-san': { type: 'string' },
      'allow-sha1-tls-signatures': { type: 'boolean' },
      runtime: { type: 'string' },
      'root-dir': { type: 'string' },
      'docker-socket': { type: 'string' },
      'pod-infra-container-image': { type: 'string' },
      'cluster-id': { type: 'string' },
      'max-pods': { type: 'string' },
      'node-ip': { type: 'string' },
      'cluster-dns': { type: 'string' },
      'cluster-domain': { type: 'string' },
      'resolv-conf': { type: 'string' },
      'node-labels': { type: 'string' },
      'register-with-taints': { type: 'string' },
      'node-status-update-frequency': { type: 'string' },
      'node-lease-renew-interval': { type: 'string' },
      'pod-api-forwarder': { type: 'string' },
      'node-container': { type: 'string' },
      'nodeport-addresses': { type: 'string' },
      'service-cluster-ip-range': { type: 'string' },
      bridge: { type: 'string' },
      gateway: { type: 'string' },
      'instance-id': { type: 'string' },
      'proxy-mode': { type: 'string' },
      'dns-port': { type: 'string' },
      'ingress-port': { type: 'string' },
      'ingress-tls-port': { type: 'string' },
      'ingress-address': { type: 'string' },
      'udp-timeout': { type: 'string' },
      'sync-period': { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      output: { type: 'string', short: 'o' },
      'as-of': { type: 'string' },
      rv: { type: 'string' },
      'no-diff': { type: 'boolean' },
      'show-managed-fields': { type: 'boolean' },
      keep: { type: 'boolean' },
      verify: { type: 'boolean' },
      nodes: { type: 'string' },
      'node-name-prefix': { type: 'string' },
      shard: { type: 'string' },
      'sim-profile': { type: 'string' },
      'sim-chaos': { type: 'boolean' },
      'sim-taint': { type: 'boolean' },
      'max-in-flight': { type: 'string' },
      qps: { type: 'string' },
    },
  });
  if (command === '--help' || command === '-h' || values.help || !(command in HELP) || command === '') {
    console.log(HELP[command in HELP ? command : '']);
    return command === '' || command in HELP ? 0 : 2;
  }
  // Only the audit commands name objects; the others take options alone, as before.
  if (positionals.length && !['history', 'get', 'why'].includes(command))
    throw new Error(`unexpected argument '${positionals[0]}'`);
  const dataDir = new DataDir(values['data-dir']);
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  switch (command) {
    case 'up':
      await up({
        dataDir,
        detach: !!values.detach,
        databaseUrl,
        natsUrl: values['nats-url'] ?? process.env.NATS_URL,
        apiPort: values['api-port'] ? Number(values['api-port']) : undefined,
        runtime: parseRuntime(values.runtime),
        nodeName: values['node-name'],
        nodes: values.nodes === undefined ? undefined : parseCount(values.nodes, '--nodes'),
        ingressPort: optionalCount(values, 'ingress-port'),
      });
      return 0;
    case 'down':
      await down(dataDir);
      return 0;
    case 'status':
      return status(dataDir, !!values.json);
    case 'verify':
      return verify(dataDir, databaseUrl);
    case 'history':
      return history({
        dataDir,
        databaseUrl,
        positionals,
        namespace: values.namespace,
        output: parseOutput(values.output, ['json', 'yaml'] as const),
        noDiff: !!values['no-diff'],
        showManagedFields: !!values['show-managed-fields'],
      });
    case 'get':
      return getAsOf({
        dataDir,
        databaseUrl,
        positionals,
        namespace: values.namespace,
        allNamespaces: !!values['all-namespaces'],
        asOf: values['as-of'],
        output: parseOutput(values.output, ['json', 'yaml', 'name'] as const),
        showManagedFields: !!values['show-managed-fields'],
      });
    case 'why':
      return why({
        dataDir,
        databaseUrl,
        positionals,
        namespace: values.namespace,
        rv: values.rv,
        output: parseOutput(values.output, ['json', 'yaml'] as const),
      });
    case 'replay':
      return replay({
        dataDir,
        databaseUrl,
        verify: !!values.verify,
        keep: !!values.keep,
        output: parseOutput(values.output, ['json', 'yaml'] as const),
      });
    case 'apiserver': {
      const natsUrl = values['nats-url'] ?? process.env.NATS_URL;
      const pkiDir = values['pki-dir'];
      if (!databaseUrl || !natsUrl || !pkiDir)
        throw new Error('apiserver needs --database-url, --nats-url and --pki-dir');
      const externalPath = values['external-kubeconfig'];
      const externalServer = values['external-server'];
      if (!externalPath !== !externalServer)
        throw new Error('--external-kubeconfig and --external-server go together');
      return apiserver({
        databaseUrl,
        natsUrl,
        pkiDir,
        host: values.host,
        port: values.port === undefined ? 6443 : Number(values.port),
        kubeconfig: values.kubeconfig,
        tlsSans: values['tls-san']?.split(',').filter(Boolean),
        allowSha1TlsSignatures: values['allow-sha1-tls-signatures'],
        externalKubeconfig:
          externalPath && externalServer ? { path: externalPath, server: externalServer } : undefined,
        componentKubeconfigs: values['component-kubeconfigs'],
      });
    }
    case 'controller-manager': {
      const { kubeconfig, natsUrl } = busClientFlags(values, 'controller-manager');
      const syncs = values['concurrent-replicaset-syncs'];
      return controllerManager({
        kubeconfig,
        natsUrl,
        ...leaderElection(values),
        controllers: values.controllers?.split(',').map((c) => c.trim()),
        concurrentReplicaSetSyncs:
          syncs === undefined ? undefined : parseCount(syncs, '--concurrent-replicaset-syncs'),
        concurrentGcSyncs: optionalCount(values, 'concurrent-gc-syncs'),
        terminatedPodGcThreshold: optionalCount(values, 'terminated-pod-gc-threshold'),
        concurrentDeploymentSyncs: optionalCount(values, 'concurrent-deployment-syncs'),
        concurrentDaemonSetSyncs: optionalCount(values, 'concurrent-daemonset-syncs'),
        concurrentNamespaceSyncs: optionalCount(values, 'concurrent-namespace-syncs'),
        concurrentStatefulSetSyncs: optionalCount(values, 'concurrent-statefulset-syncs'),
        concurrentEndpointSyncs: optionalCount(values, 'concurrent-endpoint-syncs'),
        concurrentServiceEndpointSyncs: optionalCount(values, 'concurrent-service-endpoint-syncs'),
        maxEndpointsPerSlice: maxEndpointsPerSlice(optionalCount(values, 'max-endpoints-per-slice')),
        concurrentJobSyncs: optionalCount(values, 'concurrent-job-syncs'),
        concurrentCronJobSyncs: optionalCount(values, 'concurrent-cron-job-syncs'),
        concurrentTtlAfterFinishedSyncs: optionalCount(values, 'concurrent-ttl-after-finished-syncs'),
        rootCaFile: values['root-ca-file'],
        localPathBaseDir: values['local-path-base-dir'],
        metricsPort: values['metrics-port'] === undefined ? 10257 : Number(values['metrics-port']),
        nodeLifecycle: nodeLifecycleFlags(values),
      });
    }
    case 'scheduler': {
      const { kubeconfig, natsUrl } = busClientFlags(values, 'scheduler');
      return scheduler({
        kubeconfig,
        natsUrl,
        schedulerName: values['scheduler-name'],
        ...leaderElection(values),
        metricsPort: values['metrics-port'] === undefined ? 10259 : Number(values['metrics-port']),
      });
    }
    case 'proxy': {
      const { kubeconfig, natsUrl } = busClientFlags(values, 'proxy');
      const nodePortAddresses = parseNodePortAddresses(values['nodeport-addresses']);
      return proxy({
        kubeconfig,
        natsUrl,
        nodeName: values['node-name'] ?? hostname().toLowerCase(),
        nodePortAddresses,
        serviceCidr: parseServiceCidr(values['service-cluster-ip-range']),
        bridge: values.bridge,
        gateway: values.gateway,
        instanceId: values['instance-id'],
        mode: parseProxyMode(values['proxy-mode']),
        udpIdleTimeoutMs: parseDuration(values['udp-timeout'], '--udp-timeout'),
        resyncMs: parseDuration(values['sync-period'], '--sync-period'),
        metricsPort: optionalCount(values, 'metrics-port') ?? 10249,
        ...proxyAddOns({
          dnsPort: optionalCount(values, 'dns-port'),
          clusterDomain: values['cluster-domain'],
          ingressPort: optionalCount(values, 'ingress-port'),
          ingressTlsPort: optionalCount(values, 'ingress-tls-port'),
          ingressAddress: values['ingress-address'],
          nodePortAddresses,
        }),
      });
    }
    case 'node-agent': {
      const { kubeconfig, natsUrl } = busClientFlags(values, 'node-agent');
      if (values.runtime === 'sim')
        return simNodeAgent({
          kubeconfig,
          natsUrl,
          nodes: parseCount(values.nodes ?? '10', '--nodes'),
          nodeNamePrefix: values['node-name-prefix'],
          shard: parseShard(values.shard),
          profile: parseProfile(values['sim-profile']),
          chaos: !!values['sim-chaos'],
          taint: !!values['sim-taint'],
          maxPods:
            values['max-pods'] === undefined ? undefined : parseCount(values['max-pods'], '--max-pods'),
          registration: {
            labels: parseLabels(values['node-labels']),
            taints: parseTaints(values['register-with-taints']),
          },
          leaseRenewMs: parseDuration(values['node-lease-renew-interval'], '--node-lease-renew-interval'),
          maxInFlight:
            values['max-in-flight'] === undefined
              ? undefined
              : parseCount(values['max-in-flight'], '--max-in-flight'),
          qps: values.qps === undefined ? undefined : parseCount(values.qps, '--qps'),
        });
      if (values.runtime !== undefined && values.runtime !== 'docker')
        throw new Error(`--runtime: want docker or sim, got ${JSON.stringify(values.runtime)}`);
      return nodeAgent({
        kubeconfig,
        natsUrl,
        nodeName: values['node-name'] ?? hostname().toLowerCase(),
        dataDir: values['root-dir'] ?? join(dataDir.root, 'agent'),
        dockerSocket: values['docker-socket'],
        pauseImage: values['pod-infra-container-image'],
        nodeContainer: values['node-container'],
        clusterId: values['cluster-id'],
        maxPods: values['max-pods'] === undefined ? undefined : Number(values['max-pods']),
        nodeIP: values['node-ip'],
        clusterDNS: parseClusterDns(values['cluster-dns']),
        clusterDomain: values['cluster-domain'],
        resolvConf: values['resolv-conf'],
        registration: {
          labels: parseLabels(values['node-labels']),
          taints: parseTaints(values['register-with-taints']),
        },
        statusSyncMs: parseDuration(values['node-status-update-frequency'], '--node-status-update-frequency'),
        leaseRenewMs: parseDuration(values['node-lease-renew-interval'], '--node-lease-renew-interval'),
        podApiForwarder: parseBoolean(values['pod-api-forwarder'], '--pod-api-forwarder'),
        healthzPort:
          values['healthz-port'] === undefined
            ? undefined
            : parseCount(values['healthz-port'], '--healthz-port'),
      });
    }
    case 'relay': {
      const natsUrl = values['nats-url'] ?? process.env.NATS_URL;
      if (!databaseUrl || !natsUrl) throw new Error('relay needs --database-url and --nats-url');
      return relay({
        databaseUrl,
        natsUrl,
        stream: values.stream,
        maxMessages: values['max-messages'] ? Number(values['max-messages']) : undefined,
        replicas: values['stream-replicas'] ? Number(values['stream-replicas']) : undefined,
        readIntervalMs: optionalCount(values, 'read-interval-ms'),
        healthzPort: values['healthz-port'] === undefined ? undefined : Number(values['healthz-port']),
      });
    }
  }
  return 2;
}

/** --kubeconfig and --nats-url (or KUBECONFIG and NATS_URL): what every component but the API server needs. */
function busClientFlags(
  values: Record<string, string | boolean | undefined>,
  component: string,
): { kubeconfig: string; natsUrl: string } {
  const natsUrl = values['nats-url'] ?? process.env.NATS_URL;
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  if (typeof kubeconfig !== 'string' || typeof natsUrl !== 'string' || !kubeconfig || !natsUrl)
    throw new Error(`${component} needs --kubeconfig and --nats-url`);
  return { kubeconfig, natsUrl };
}

/** The leader-election flags kube-scheduler and kube-controller-manager share. */
function leaderElection(values: Record<string, string | boolean | undefined>) {
  const duration = (flag: string) => {
    const v = values[flag];
    return parseDuration(typeof v === 'string' ? v : undefined, `--${flag}`);
  };
  return {
    leaderElect: values['leader-elect'] !== 'false',
    leaseDurationMs: duration('leader-elect-lease-duration'),
    renewDeadlineMs: duration('leader-elect-renew-deadline'),
    retryPeriodMs: duration('leader-elect-retry-period'),
  };
}

/** kube-controller-manager's NodeLifecycleController flags; absent ones keep upstream's defaults. */
function nodeLifecycleFlags(values: Record<string, string | boolean | undefined>) {
  const text = (flag: string) => (typeof values[flag] === 'string' ? values[flag] : undefined);
  const duration = (flag: string) => parseDuration(text(flag), `--${flag}`);
  const rate = (flag: string) => {
    const v = text(flag);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`--${flag}: want a number ≥ 0, got ${JSON.stringify(v)}`);
    return n;
  };
  const settings = {
    monitorPeriodMs: duration('node-monitor-period'),
    gracePeriodMs: duration('node-monitor-grace-period'),
    startupGracePeriodMs: duration('node-startup-grace-period'),
    evictionRate: rate('node-eviction-rate'),
    secondaryEvictionRate: rate('secondary-node-eviction-rate'),
    unhealthyZoneThreshold: rate('unhealthy-zone-threshold'),
    largeClusterSizeThreshold: optionalCount(values, 'large-cluster-size-threshold'),
  };
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
}

/** A `--flag=true|false` option; absent is undefined (the default applies). */
function parseBoolean(text: string | undefined, flag: string): boolean | undefined {
  if (text === undefined) return undefined;
  if (text === 'true' || text === 'false') return text === 'true';
  throw new Error(`${flag}: want true or false, got ${JSON.stringify(text)}`);
}

function parseRuntime(text: string | undefined): 'docker' | 'sim' | 'none' | undefined {
  if (text === undefined || text === 'docker' || text === 'sim' || text === 'none') return text;
  throw new Error(`--runtime: want docker, sim or none, got ${JSON.stringify(text)}`);
}

function parseProfile(text: string | undefined): 'fast' | 'realistic' | undefined {
  if (text === undefined || text === 'fast' || text === 'realistic') return text;
  throw new Error(`--sim-profile: want fast or realistic, got ${JSON.stringify(text)}`);
}

function parseCount(text: string, flag: string): number {
  // Number('') is 0: an empty value must not pass for one.
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${flag}: want a whole number, got ${JSON.stringify(text)}`);
  return n;
}

/** `text` broken at spaces into lines of at most 88 characters, each after `indent`. */
function wrapped(text: string, indent: string): string {
  return (text.match(/.{1,88}(\s|$)/g) ?? [text]).map((line) => `${indent}${line.trimEnd()}`).join('\n');
}

/** upstream's validation of --max-endpoints-per-slice: 1 to 1000. */
function maxEndpointsPerSlice(n: number | undefined): number | undefined {
  if (n !== undefined && (n < 1 || n > 1000)) throw new Error('--max-endpoints-per-slice: must be 1 to 1000');
  return n;
}

/** A whole-number flag that may be absent (the component's default then applies). */
function optionalCount(
  values: Record<string, string | boolean | undefined>,
  flag: string,
): number | undefined {
  const text = values[flag];
  return typeof text === 'string' ? parseCount(text, `--${flag}`) : undefined;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(`wake: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
