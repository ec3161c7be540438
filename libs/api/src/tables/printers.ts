import type {
  V1ConfigMap,
  V1CronJob,
  V1DaemonSet,
  V1Deployment,
  V1Endpoints,
  CoreV1Event,
  V1Job,
  V1Lease,
  V1Namespace,
  V1Node,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodTemplateSpec,
  V1ReplicaSet,
  V1ReplicationController,
  V1Secret,
  V1Service,
  V1ServiceAccount,
  V1StatefulSet,
} from '@kubernetes/client-node';

import { formatLabelSelector, labelSelectorFromObject } from '../selectors/index.js';
import { accessModes, CLUSTER_PRINTERS } from './cluster-printers.js';
import { age, humanDuration } from './human-duration.js';
import { AGE_COLUMN, as, column, NAME_COLUMN, orNone, type Printer, WIDE } from './printer.js';
import { type Wire } from './wire.js';

function templateColumns(template: Wire<V1PodTemplateSpec> | undefined): [string, string] {
  const containers = template?.spec?.containers ?? [];
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image ?? '').join(',')];
}

function selectorText(selector: Parameters<typeof labelSelectorFromObject>[0]): string {
  const text = formatLabelSelector(labelSelectorFromObject(selector));
  return text || '<none>';
}

/** The STATUS column of `kubectl get pods` (upstream printPod): the most telling reason. */
export function podStatusReason(pod: Wire<V1Pod>): {
  reason: string;
  ready: number;
  total: number;
  restarts: number;
} {
  const status = pod.status ?? {};
  let reason = status.reason || status.phase || 'Unknown';
  let restarts = 0;
  let initializing = false;
  const inits = status.initContainerStatuses ?? [];
  // As upstream's printPod: the first init container not done names the status, then stop.
  for (const [i, c] of inits.entries()) {
    restarts += c.restartCount ?? 0;
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (t)
      reason = t.reason
        ? `Init:${t.reason}`
        : t.signal
          ? `Init:Signal:${t.signal}`
          : `Init:ExitCode:${t.exitCode}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing')
      reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${pod.spec?.initContainers?.length ?? inits.length}`;
    initializing = true;
    break;
  }
  const containers = status.containerStatuses ?? [];
  let ready = 0;
  if (!initializing) {
    let hasRunning = false;
    for (let i = containers.length - 1; i >= 0; i--) {
      const c = containers[i];
      restarts += c.restartCount ?? 0;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated)
        reason = c.state.terminated.signal
          ? `Signal:${c.state.terminated.signal}`
          : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  } else {
    for (const c of containers) restarts += c.restartCount ?? 0;
  }
  if (pod.metadata?.deletionTimestamp && status.reason !== 'NodeLost') reason = 'Terminating';
  return { reason, ready, total: pod.spec?.containers?.length ?? 0, restarts };
}

const pods: Printer = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'The aggregate status of the containers in this pod.'),
    column(
      'Restarts',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    AGE_COLUMN,
    column(
      'IP',
      'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
      WIDE,
    ),
    column('Node', 'NodeName is a request to schedule this pod onto a specific node.', WIDE),
    column(
      'Nominated Node',
      'nominatedNodeName is set only when this pod preempts other pods on the node.',
      WIDE,
    ),
    column('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', WIDE),
  ],
  cells(obj, now) {
    const pod = as<V1Pod>(obj);
    const s = podStatusReason(pod);
    const gates = pod.spec?.readinessGates ?? [];
    const conditions = pod.status?.conditions ?? [];
    const gatesReady = gates.filter((g) =>
      conditions.some((c) => c.type === g.conditionType && c.status === 'True'),
    ).length;
    return [
      obj.metadata.name,
      `${s.ready}/${s.total}`,
      s.reason,
      String(s.restarts),
      age(obj.metadata.creationTimestamp, now),
      orNone(pod.status?.podIP),
      orNone(pod.spec?.nodeName),
      orNone(pod.status?.nominatedNodeName),
      gates.length ? `${gatesReady}/${gates.length}` : '<none>',
    ];
  },
};

const deployments: Printer = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'Number of the pod with ready state'),
    column(
      'Up-to-date',
      'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
      { type: 'integer' },
    ),
    column(
      'Available',
      'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
      { type: 'integer' },
    ),
    AGE_COLUMN,
    column('Containers', 'Names of each container in the template.', WIDE),
    column('Images', 'Images referenced by each container in the template.', WIDE),
    column(
      'Selector',
      'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
      WIDE,
    ),
  ],
  cells(obj, now) {
    const d = as<V1Deployment>(obj);
    const [names, images] = templateColumns(d.spec?.template);
    return [
      obj.metadata.name,
      `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      age(obj.metadata.creationTimestamp, now),
      names,
      images,
      selectorText(d.spec?.selector),
    ];
  },
};

function replicaCounts(
  desired: number | undefined,
  status: { replicas?: number; readyReplicas?: number } | undefined,
): number[] {
  return [desired ?? 0, status?.replicas ?? 0, status?.readyReplicas ?? 0];
}

const replicaSetColumns = [
  NAME_COLUMN,
  column('Desired', 'Number of desired pods.', { type: 'integer' }),
  column('Current', 'Number of actual replicas.', { type: 'integer' }),
  column('Ready', 'The number of ready replicas for this replica set.', { type: 'integer' }),
  AGE_COLUMN,
  column('Containers', 'Names of each container in the template.', WIDE),
  column('Images', 'Images referenced by each container in the template.', WIDE),
  column('Selector', 'Label selector for pods.', WIDE),
];

const replicaSets: Printer = {
  columns: replicaSetColumns,
  cells(obj, now) {
    const rs = as<V1ReplicaSet>(obj);
    const [names, images] = templateColumns(rs.spec?.template);
    return [
      obj.metadata.name,
      ...replicaCounts(rs.spec?.replicas, rs.status),
      age(obj.metadata.creationTimestamp, now),
      names,
      images,
      selectorText(rs.spec?.selector),
    ];
  },
};

const replicationControllers: Printer = {
  columns: replicaSetColumns,
  cells(obj, now) {
    const rc = as<V1ReplicationController>(obj);
    const [names, images] = templateColumns(rc.spec?.template);
    const selector = Object.entries(rc.spec?.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return [
      obj.metadata.name,
      ...replicaCounts(rc.spec?.replicas, rc.status),
      age(obj.metadata.creationTimestamp, now),
      names,
      images,
      orNone(selector),
    ];
  },
};

const statefulSets: Printer = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'Number of the pod with ready state'),
    AGE_COLUMN,
    column('Containers', 'Names of each container in the template.', WIDE),
    column('Images', 'Images referenced by each container in the template.', WIDE),
  ],
  cells(obj, now) {
    const s = as<V1StatefulSet>(obj);
    const [names, images] = templateColumns(s.spec?.template);
    return [
      obj.metadata.name,
      `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 0}`,
      age(obj.metadata.creationTimestamp, now),
      names,
      images,
    ];
  },
};

const daemonSets: Printer = {
  columns: [
    NAME_COLUMN,
    column(
      'Desired',
      'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).',
      { type: 'integer' },
    ),
    column(
      'Current',
      'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.',
      { type: 'integer' },
    ),
    column(
      'Ready',
      'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.',
      { type: 'integer' },
    ),
    column('Up-to-date', 'The total number of nodes that are running updated daemon pod', {
      type: 'integer',
    }),
    column(
      'Available',
      'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
      { type: 'integer' },
    ),
    column(
      'Node Selector',
      "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node.",
    ),
    AGE_COLUMN,
    column('Containers', 'Names of each container in the template.', WIDE),
    column('Images', 'Images referenced by each container in the template.', WIDE),
    column('Selector', 'A label query over pods that are managed by the daemon set.', WIDE),
  ],
  cells(obj, now) {
    const ds = as<V1DaemonSet>(obj);
    const st = ds.status;
    const [names, images] = templateColumns(ds.spec?.template);
    const nodeSelector = Object.entries(ds.spec?.template?.spec?.nodeSelector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return [
      obj.metadata.name,
      st?.desiredNumberScheduled ?? 0,
      st?.currentNumberScheduled ?? 0,
      st?.numberReady ?? 0,
      st?.updatedNumberScheduled ?? 0,
      st?.numberAvailable ?? 0,
      orNone(nodeSelector),
      age(obj.metadata.creationTimestamp, now),
      names,
      images,
      selectorText(ds.spec?.selector),
    ];
  },
};

/** `80/TCP`, `80:30080/TCP`, comma-joined (upstream makePortString). */
function servicePorts(svc: Wire<V1Service>): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports
    .map((p) =>
      p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`,
    )
    .join(',');
}

function serviceExternalIp(svc: Wire<V1Service>): string {
  const external = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type ?? 'ClusterIP') {
    case 'ExternalName':
      return svc.spec?.externalName ?? '<none>';
    case 'LoadBalancer': {
      const ingress = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '');
      const all = [...ingress, ...external].filter(Boolean);
      return all.length ? all.join(',') : '<pending>';
    }
    default:
      return external.length ? external.join(',') : '<none>';
  }
}

const services: Printer = {
  columns: [
    NAME_COLUMN,
    column('Type', 'type determines how the Service is exposed.'),
    column('Cluster-IP', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    column(
      'External-IP',
      'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
    ),
    column('Port(s)', 'The list of ports that are exposed by this service.'),
    AGE_COLUMN,
    column(
      'Selector',
      'Route service traffic to pods with label keys and values matching this selector.',
      WIDE,
    ),
  ],
  cells(obj, now) {
    const svc = as<V1Service>(obj);
    const selector = Object.entries(svc.spec?.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return [
      obj.metadata.name,
      svc.spec?.type ?? 'ClusterIP',
      orNone(svc.spec?.clusterIP),
      serviceExternalIp(svc),
      servicePorts(svc),
      age(obj.metadata.creationTimestamp, now),
      orNone(selector),
    ];
  },
};

const namespaces: Printer = {
  columns: [NAME_COLUMN, column('Status', 'The status of the namespace'), AGE_COLUMN],
  cells(obj, now) {
    return [
      obj.metadata.name,
      as<V1Namespace>(obj).status?.phase ?? 'Active',
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

/** Ready, NotReady or Unknown from the Ready condition, then SchedulingDisabled (upstream printNode). */
function nodeStatus(node: Wire<V1Node>): string {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const states = [
    !ready
      ? 'Unknown'
      : ready.status === 'True'
        ? 'Ready'
        : ready.status === 'False'
          ? 'NotReady'
          : 'Unknown',
  ];
  if (node.spec?.unschedulable) states.push('SchedulingDisabled');
  return states.join(',');
}

const nodes: Printer = {
  columns: [
    NAME_COLUMN,
    column('Status', 'The status of the node'),
    column('Roles', 'The roles of the node'),
    AGE_COLUMN,
    column('Version', 'Kubelet Version reported by the node.'),
    column(
      'Internal-IP',
      'List of addresses reachable to the node. Queried from cloud provider, if available.',
      WIDE,
    ),
    column(
      'External-IP',
      'List of addresses reachable to the node. Queried from cloud provider, if available.',
      WIDE,
    ),
    column(
      'OS-Image',
      'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
      WIDE,
    ),
    column(
      'Kernel-Version',
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      WIDE,
    ),
    column(
      'Container-Runtime',
      'Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
      WIDE,
    ),
  ],
  cells(obj, now) {
    const node = as<V1Node>(obj);
    const labels = (obj.metadata.labels ?? {}) as Record<string, string>;
    const roles = Object.keys(labels)
      .filter((k) => k.startsWith('node-role.kubernetes.io/'))
      .map((k) => k.slice('node-role.kubernetes.io/'.length))
      .filter(Boolean)
      .sort();
    const address = (type: string) => node.status?.addresses?.find((a) => a.type === type)?.address;
    const info = node.status?.nodeInfo;
    return [
      obj.metadata.name,
      nodeStatus(node),
      roles.length ? roles.join(',') : '<none>',
      age(obj.metadata.creationTimestamp, now),
      info?.kubeletVersion ?? '',
      orNone(address('InternalIP')),
      orNone(address('ExternalIP')),
      orNone(info?.osImage),
      orNone(info?.kernelVersion),
      orNone(info?.containerRuntimeVersion),
    ];
  },
};

const events: Printer = {
  columns: [
    column('Last Seen', 'Time when this Event was last seen'),
    column('Type', 'Type of this event (Normal, Warning), new types could be added in the future.'),
    column(
      'Reason',
      'This should be a short, machine understandable string that gives the reason for this event being generated.',
    ),
    column('Object', 'The object this Event is about.'),
    column('Subobject', 'The subobject this Event is about.', WIDE),
    column('Source', 'The component reporting this event.', WIDE),
    column('Message', 'A human-readable description of the status of this operation.'),
    column('First Seen', 'The time at which the event was first recorded.', WIDE),
    column('Count', 'The number of times this event has occurred.', WIDE),
    column('Name', 'Name must be unique within a namespace.', { ...WIDE, format: 'name' }),
  ],
  cells(obj, now) {
    const e = as<CoreV1Event>(obj);
    const last = e.lastTimestamp || e.eventTime || obj.metadata.creationTimestamp;
    const first = e.firstTimestamp || e.eventTime || obj.metadata.creationTimestamp;
    const source = [e.source?.component || e.reportingComponent, e.source?.host].filter(Boolean).join(', ');
    return [
      age(last, now),
      e.type ?? '',
      e.reason ?? '',
      `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`,
      e.involvedObject?.fieldPath ?? '',
      source,
      (e.message ?? '').trim(),
      age(first, now),
      e.count ?? 1,
      obj.metadata.name,
    ];
  },
};

const configMaps: Printer = {
  columns: [
    NAME_COLUMN,
    column('Data', 'Number of data entries in this ConfigMap', { type: 'integer' }),
    AGE_COLUMN,
  ],
  cells(obj, now) {
    const cm = as<V1ConfigMap>(obj);
    return [
      obj.metadata.name,
      Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

const secrets: Printer = {
  columns: [
    NAME_COLUMN,
    column('Type', 'The type of the secret'),
    column('Data', 'The number of entries in the secret', { type: 'integer' }),
    AGE_COLUMN,
  ],
  cells(obj, now) {
    const s = as<V1Secret>(obj);
    return [
      obj.metadata.name,
      s.type ?? 'Opaque',
      Object.keys(s.data ?? {}).length,
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

const serviceAccounts: Printer = {
  columns: [
    NAME_COLUMN,
    column(
      'Secrets',
      'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
      { type: 'integer' },
    ),
    AGE_COLUMN,
  ],
  cells(obj, now) {
    return [
      obj.metadata.name,
      (as<V1ServiceAccount>(obj).secrets ?? []).length,
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

const endpoints: Printer = {
  columns: [NAME_COLUMN, column('Endpoints', 'Endpoints of the service'), AGE_COLUMN],
  cells(obj, now) {
    const all: string[] = [];
    for (const subset of as<V1Endpoints>(obj).subsets ?? []) {
      for (const a of subset.addresses ?? []) {
        const ports = subset.ports ?? [];
        if (ports.length === 0) all.push(a.ip);
        for (const p of ports) all.push(`${a.ip}:${p.port}`);
      }
    }
    const shown = all.slice(0, 3).join(',');
    return [
      obj.metadata.name,
      all.length > 3 ? `${shown} + ${all.length - 3} more...` : orNone(shown),
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

/** Upstream's Job STATUS column (1.30+): the terminal or current condition. */
function jobStatus(job: Wire<V1Job>): string {
  const conditions = job.status?.conditions ?? [];
  const is = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
  if (is('Complete')) return 'Complete';
  if (is('Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (is('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (is('FailureTarget')) return 'FailureTarget';
  if (job.spec?.suspend) return 'Suspended';
  return 'Running';
}

const jobs: Printer = {
  columns: [
    NAME_COLUMN,
    column('Status', 'Status of the job.'),
    column('Completions', 'The desired number of successfully finished pods the job should be run with.'),
    column('Duration', 'Time required to complete the job.'),
    AGE_COLUMN,
    column('Containers', 'Names of each container in the template.', WIDE),
    column('Images', 'Images referenced by each container in the template.', WIDE),
    column('Selector', 'A label query over pods that should match the pod count.', WIDE),
  ],
  cells(obj, now) {
    const job = as<V1Job>(obj);
    const completions = job.spec?.completions;
    const succeeded = job.status?.succeeded ?? 0;
    const start = job.status?.startTime ? Date.parse(job.status.startTime) : undefined;
    const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now;
    const [names, images] = templateColumns(job.spec?.template);
    return [
      obj.metadata.name,
      jobStatus(job),
      completions !== undefined
        ? `${succeeded}/${completions}`
        : `${succeeded}/1 of ${job.spec?.parallelism ?? 1}`,
      start === undefined ? '' : humanDuration(end - start),
      age(obj.metadata.creationTimestamp, now),
      names,
      images,
      selectorText(job.spec?.selector),
    ];
  },
};

const cronJobs: Printer = {
  columns: [
    NAME_COLUMN,
    column('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    column(
      'Timezone',
      'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.',
    ),
    column('Suspend', 'This flag tells the controller to suspend subsequent executions.', {
      type: 'boolean',
    }),
    column('Active', 'A list of pointers to currently running jobs.', { type: 'integer' }),
    column('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
    AGE_COLUMN,
  ],
  cells(obj, now) {
    const cj = as<V1CronJob>(obj);
    const last = cj.status?.lastScheduleTime;
    return [
      obj.metadata.name,
      cj.spec?.schedule ?? '',
      orNone(cj.spec?.timeZone),
      cj.spec?.suspend ?? false,
      (cj.status?.active ?? []).length,
      last ? age(last, now) : '<none>',
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

const leases: Printer = {
  columns: [NAME_COLUMN, column('Holder', 'The holder of a lease.'), AGE_COLUMN],
  cells(obj, now) {
    return [
      obj.metadata.name,
      as<V1Lease>(obj).spec?.holderIdentity ?? '',
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

const claims: Printer = {
  columns: [
    NAME_COLUMN,
    column('Status', 'The phase of the claim.'),
    column('Volume', 'The volume bound to the claim.'),
    column('Capacity', 'The actual resources of the underlying volume.'),
    column('Access Modes', 'The access modes of the volume.'),
    column('StorageClass', 'The storage class of the claim.'),
    AGE_COLUMN,
  ],
  cells(obj, now) {
    const pvc = as<V1PersistentVolumeClaim>(obj);
    const modes = accessModes(pvc.status?.accessModes);
    return [
      obj.metadata.name,
      pvc.status?.phase ?? 'Pending',
      pvc.spec?.volumeName ?? '',
      String(pvc.status?.capacity?.storage ?? ''),
      modes,
      orNone(pvc.spec?.storageClassName),
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

/** Name and Created At: what the apiserver prints for kinds without a printer of their own. */
export const DEFAULT_PRINTER: Printer = {
  columns: [NAME_COLUMN, column('Created At', AGE_COLUMN.description, { type: 'date' })],
  cells(obj) {
    return [obj.metadata.name, obj.metadata.creationTimestamp ?? ''];
  },
};

/** Printers by `<group>/<plural>` of the store. */
export const PRINTERS: Record<string, Printer> = {
  '/pods': pods,
  '/services': services,
  '/namespaces': namespaces,
  '/nodes': nodes,
  '/events': events,
  '/configmaps': configMaps,
  '/secrets': secrets,
  '/serviceaccounts': serviceAccounts,
  '/endpoints': endpoints,
  '/replicationcontrollers': replicationControllers,
  '/persistentvolumeclaims': claims,
  'apps/deployments': deployments,
  'apps/replicasets': replicaSets,
  'apps/statefulsets': statefulSets,
  'apps/daemonsets': daemonSets,
  'batch/jobs': jobs,
  'batch/cronjobs': cronJobs,
  'coordination.k8s.io/leases': leases,
};

export function printerFor(group: string, plural: string): Printer {
  return PRINTERS[`${group}/${plural}`] ?? CLUSTER_PRINTERS[`${group}/${plural}`] ?? DEFAULT_PRINTER;
}
