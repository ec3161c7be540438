/**
 * Upstream's defaulting (pkg/apis/<group>/v1/defaults.go), applied to every object written so
 * that what is stored — and shown by `describe` — is what a Kubernetes server would store.
 * Each function fills absent fields only, in place, on an object the server owns.
 */
type Json = Record<string, unknown>;

function obj(parent: Json, key: string): Json {
  const v = parent[key];
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Json;
  const created: Json = {};
  parent[key] = created;
  return created;
}

function list(parent: Json, key: string): Json[] {
  const v = parent[key];
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Json[]) : [];
}

function setDefault(target: Json, key: string, value: unknown): void {
  if (target[key] === undefined || target[key] === null) target[key] = value;
}

/** `Always` for `:latest` or an untagged image, else `IfNotPresent` (a digest counts as a tag). */
export function defaultPullPolicy(image: unknown): 'Always' | 'IfNotPresent' {
  if (typeof image !== 'string') return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return lastSegment.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Json): void {
  setDefault(c, 'imagePullPolicy', defaultPullPolicy(c.image));
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  for (const p of list(c, 'ports')) setDefault(p, 'protocol', 'TCP');
  for (const e of list(c, 'env')) {
    const field = (e.valueFrom as Json | undefined)?.fieldRef as Json | undefined;
    if (field) setDefault(field, 'apiVersion', 'v1');
  }
}

export function defaultPodSpec(spec: Json): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'enableServiceLinks', true);
  for (const c of [
    ...list(spec, 'initContainers'),
    ...list(spec, 'containers'),
    ...list(spec, 'ephemeralContainers'),
  ])
    defaultContainer(c);
  for (const v of list(spec, 'volumes')) {
    const secret = v.secret as Json | undefined;
    if (secret) setDefault(secret, 'defaultMode', 0o644);
    const configMap = v.configMap as Json | undefined;
    if (configMap) setDefault(configMap, 'defaultMode', 0o644);
    const projected = v.projected as Json | undefined;
    if (projected) setDefault(projected, 'defaultMode', 0o644);
  }
  for (const t of list(spec, 'tolerations')) {
    if (t.operator === undefined && t.value === undefined && t.key !== undefined) t.operator = 'Equal';
  }
}

function defaultTemplate(spec: Json): void {
  const template = obj(spec, 'template');
  defaultPodSpec(obj(template, 'spec'));
}

function defaultPod(o: Json): void {
  const spec = obj(o, 'spec');
  defaultPodSpec(spec);
  // defaultHostNetworkPorts: a host-network pod's ports are the node's (the scheduler's
  // NodePorts filter counts them). Pods only: templates have not been defaulted so since 1.28.
  if (spec.hostNetwork === true)
    for (const c of [...list(spec, 'initContainers'), ...list(spec, 'containers')])
      for (const p of list(c, 'ports')) if (!p.hostPort) p.hostPort = p.containerPort;
  const status = obj(o, 'status');
  setDefault(status, 'phase', 'Pending');
}

/** Guaranteed, Burstable or BestEffort from the containers' requests and limits (upstream GetPodQOS). */
export function qosClass(spec: Json): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...list(spec, 'initContainers'), ...list(spec, 'containers')];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const resources = (c.resources ?? {}) as { requests?: Json; limits?: Json };
    const requests = resources.requests ?? {};
    const limits = resources.limits ?? {};
    if (Object.keys(requests).length || Object.keys(limits).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (limits[r] === undefined) guaranteed = false;
      else if (requests[r] !== undefined && String(requests[r]) !== String(limits[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultDeployment(o: Json): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'replicas', 1);
  const strategy = obj(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rolling = obj(strategy, 'rollingUpdate');
    setDefault(rolling, 'maxUnavailable', '25%');
    setDefault(rolling, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultTemplate(spec);
}

function defaultReplicaSet(o: Json): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'replicas', 1);
  defaultTemplate(spec);
}

function defaultReplicationController(o: Json): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'replicas', 1);
  const labels = ((spec.template as Json | undefined)?.metadata as Json | undefined)?.labels as
    Json | undefined;
  if (labels) {
    setDefault(spec, 'selector', { ...labels });
    const metadata = obj(o, 'metadata');
    setDefault(metadata, 'labels', { ...labels });
  }
  defaultTemplate(spec);
}

function defaultStatefulSet(o: Json): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  const strategy = obj(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') setDefault(obj(strategy, 'rollingUpdate'), 'partition', 0);
  setDefault(spec, 'revisionHistoryLimit', 10);
  const retention = obj(spec, 'persistentVolumeClaimRetentionPolicy');
  setDefault(retention, 'whenDeleted', 'Retain');
  setDefault(retention, 'whenScaled', 'Retain');
  defaultTemplate(spec);
}

function defaultDaemonSet(o: Json): void {
  const spec = obj(o, 'spec');
  const strategy = obj(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rolling = obj(strategy, 'rollingUpdate');
    setDefault(rolling, 'maxUnavailable', 1);
    setDefault(rolling, 'maxSurge', 0);
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultTemplate(spec);
}

function defaultJobSpec(spec: Json): void {
  // Both unset is a one-pod job; parallelism alone is a work queue, whose completions stay unset.
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  // Pods are replaced only once Failed when a podFailurePolicy must see how they ended.
  setDefault(spec, 'podReplacementPolicy', spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed');
  const template = obj(spec, 'template');
  const podSpec = obj(template, 'spec');
  defaultPodSpec(podSpec);
}

function defaultJob(o: Json): void {
  defaultJobSpec(obj(o, 'spec'));
}

function defaultCronJob(o: Json): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'concurrencyPolicy', 'Allow');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'successfulJobsHistoryLimit', 3);
  setDefault(spec, 'failedJobsHistoryLimit', 1);
  defaultJobSpec(obj(obj(spec, 'jobTemplate'), 'spec'));
}

function defaultService(o: Json): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.type !== 'ExternalName') {
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    setDefault(spec, 'ipFamilies', ['IPv4']);
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer')
    setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  for (const p of list(spec, 'ports')) {
    setDefault(p, 'protocol', 'TCP');
    setDefault(p, 'targetPort', p.port);
  }
  setDefault(obj(o, 'status'), 'loadBalancer', {});
}

function defaultNamespace(o: Json): void {
  const metadata = obj(o, 'metadata');
  const labels = obj(metadata, 'labels');
  if (typeof metadata.name === 'string') labels['kubernetes.io/metadata.name'] = metadata.name;
  setDefault(obj(o, 'spec'), 'finalizers', ['kubernetes']);
  setDefault(obj(o, 'status'), 'phase', 'Active');
}

/**
 * Also upstream's v1 → internal conversion (Convert_v1_Secret_To_core_Secret): each stringData
 * entry overwrites data with its base64, and stringData itself is never stored.
 */
function defaultSecret(o: Json): void {
  setDefault(o, 'type', 'Opaque');
  const text = o.stringData;
  if (text && typeof text === 'object' && !Array.isArray(text)) {
    const data = (o.data && typeof o.data === 'object' ? o.data : (o.data = {})) as Json;
    for (const [k, v] of Object.entries(text as Json))
      if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
  }
  delete o.stringData;
}

function defaultPersistentVolumeClaim(o: Json): void {
  setDefault(obj(o, 'spec'), 'volumeMode', 'Filesystem');
  setDefault(obj(o, 'status'), 'phase', 'Pending');
}

function defaultPersistentVolume(o: Json): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'persistentVolumeReclaimPolicy', 'Retain');
  setDefault(spec, 'volumeMode', 'Filesystem');
  setDefault(obj(o, 'status'), 'phase', 'Pending');
}

/** storage/v1 SetDefaults_StorageClass. */
function defaultStorageClass(o: Json): void {
  setDefault(o, 'reclaimPolicy', 'Delete');
  setDefault(o, 'volumeBindingMode', 'Immediate');
}

function defaultPriorityClass(o: Json): void {
  setDefault(o, 'preemptionPolicy', 'PreemptLowerPriority');
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** rbac/v1 SetDefaults_RoleBinding and SetDefaults_Subject: the API groups a client may leave out. */
function defaultBinding(o: Json): void {
  const ref = o.roleRef as Json | undefined;
  if (ref && typeof ref === 'object' && !ref.apiGroup) ref.apiGroup = RBAC_GROUP;
  for (const s of Array.isArray(o.subjects) ? (o.subjects as Json[]) : []) {
    // A ServiceAccount's group is the core group, "" (omitted).
    if (s && typeof s === 'object' && !s.apiGroup && (s.kind === 'User' || s.kind === 'Group'))
      s.apiGroup = RBAC_GROUP;
  }
}

const DEFAULTERS: Record<string, (o: Json) => void> = {
  '/pods': defaultPod,
  '/services': defaultService,
  '/namespaces': defaultNamespace,
  '/secrets': defaultSecret,
  '/replicationcontrollers': defaultReplicationController,
  '/persistentvolumeclaims': defaultPersistentVolumeClaim,
  '/persistentvolumes': defaultPersistentVolume,
  'apps/deployments': defaultDeployment,
  'apps/replicasets': defaultReplicaSet,
  'apps/statefulsets': defaultStatefulSet,
  'apps/daemonsets': defaultDaemonSet,
  'batch/jobs': defaultJob,
  'batch/cronjobs': defaultCronJob,
  'scheduling.k8s.io/priorityclasses': defaultPriorityClass,
  'storage.k8s.io/storageclasses': defaultStorageClass,
  [`${RBAC_GROUP}/rolebindings`]: defaultBinding,
  [`${RBAC_GROUP}/clusterrolebindings`]: defaultBinding,
};

/** Applies the defaults of the kind stored as `<group>/<plural>` to `o`, in place. */
export function applyDefaults(group: string, plural: string, o: Json): void {
  DEFAULTERS[`${group}/${plural}`]?.(o);
}
