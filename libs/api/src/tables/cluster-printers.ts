import type {
  V1ClusterRoleBinding,
  V1ControllerRevision,
  V1EndpointSlice,
  V1Ingress,
  V1IngressClass,
  V1PersistentVolume,
  V1PriorityClass,
  V1ResourceQuota,
  V1RoleBinding,
  V1StorageClass,
} from '@kubernetes/client-node';

import { age } from './human-duration.js';
import { AGE_COLUMN, as, column, NAME_COLUMN, orNone, type Printer, WIDE } from './printer.js';
import { type Wire } from './wire.js';

/** Printers for the storage, networking, RBAC, scheduling and discovery kinds (upstream printers.go). */

/** `RWO,ROX`: access modes as kubectl abbreviates them. */
export function accessModes(modes: string[] | undefined): string {
  const short: Record<string, string> = {
    ReadWriteOnce: 'RWO',
    ReadOnlyMany: 'ROX',
    ReadWriteMany: 'RWX',
    ReadWriteOncePod: 'RWOP',
  };
  return (modes ?? []).map((m) => short[m] ?? m).join(',');
}

const CREATED_AT = column('Created At', AGE_COLUMN.description, { type: 'date' });

const persistentVolumes: Printer = {
  columns: [
    NAME_COLUMN,
    column('Capacity', 'The capacity of the volume.'),
    column('Access Modes', 'The access modes of the volume.'),
    column('Reclaim Policy', 'What happens to the volume when released from its claim.'),
    column('Status', 'The phase of the volume.'),
    column('Claim', 'The claim bound to the volume.'),
    column('StorageClass', 'The storage class of the volume.'),
    column('VolumeAttributesClass', 'The volume attributes class of the volume.'),
    column('Reason', 'Why the volume is in its phase.'),
    AGE_COLUMN,
    column('VolumeMode', 'Whether the volume is a filesystem or a raw block device.', WIDE),
  ],
  cells(obj, now) {
    const pv = as<V1PersistentVolume>(obj);
    const ref = pv.spec?.claimRef;
    return [
      obj.metadata.name,
      String(pv.spec?.capacity?.storage ?? ''),
      accessModes(pv.spec?.accessModes),
      pv.spec?.persistentVolumeReclaimPolicy ?? '',
      pv.status?.phase ?? '',
      ref ? `${ref.namespace}/${ref.name}` : '',
      pv.spec?.storageClassName ?? '',
      orNone(pv.spec?.volumeAttributesClassName),
      pv.status?.reason ?? '',
      age(obj.metadata.creationTimestamp, now),
      pv.spec?.volumeMode ?? 'Filesystem',
    ];
  },
};

const storageClasses: Printer = {
  columns: [
    NAME_COLUMN,
    column('Provisioner', 'Indicates the type of the provisioner.'),
    column('ReclaimPolicy', 'Indicates the type of the reclaim policy.'),
    column('VolumeBindingMode', 'Indicates how PersistentVolumeClaims should be provisioned and bound.'),
    column('AllowVolumeExpansion', 'Indicates whether the storage class allows volume expand.'),
    AGE_COLUMN,
  ],
  cells(obj, now) {
    const sc = as<V1StorageClass>(obj);
    const annotations = (obj.metadata.annotations ?? {}) as Record<string, string>;
    const isDefault = annotations['storageclass.kubernetes.io/is-default-class'] === 'true';
    return [
      `${String(obj.metadata.name)}${isDefault ? ' (default)' : ''}`,
      sc.provisioner,
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion ?? false,
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

const ingresses: Printer = {
  columns: [
    NAME_COLUMN,
    column('Class', 'The name of the IngressClass resource that should be used for ingress.'),
    column('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
    column('Address', 'Address is a list containing ingress points for the load-balancer'),
    column('Ports', 'Ports of TLS configurations that open'),
    AGE_COLUMN,
  ],
  cells(obj, now) {
    const ing = as<V1Ingress>(obj);
    const hosts = (ing.spec?.rules ?? []).map((r) => r.host).filter(Boolean);
    const address = (ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname).filter(Boolean);
    return [
      obj.metadata.name,
      orNone(ing.spec?.ingressClassName),
      hosts.length ? hosts.join(',') : '*',
      address.join(','),
      ing.spec?.tls?.length ? '80, 443' : '80',
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

const ingressClasses: Printer = {
  columns: [
    NAME_COLUMN,
    column('Controller', 'Controller that is responsible for handling this class'),
    column('Parameters', 'A reference to a resource with additional parameters'),
    AGE_COLUMN,
  ],
  cells(obj, now) {
    const ic = as<V1IngressClass>(obj);
    const p = ic.spec?.parameters;
    return [
      obj.metadata.name,
      ic.spec?.controller ?? '',
      p ? `${p.kind}/${p.name}` : '<none>',
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

const priorityClasses: Printer = {
  columns: [
    NAME_COLUMN,
    column('Value', 'The value of this priority class.', { type: 'integer' }),
    column(
      'Global-Default',
      'globalDefault specifies whether this PriorityClass should be considered as the default priority.',
      { type: 'boolean' },
    ),
    AGE_COLUMN,
    column('PreemptionPolicy', 'The policy for preempting pods with lower priority.'),
  ],
  cells(obj, now) {
    const pc = as<V1PriorityClass>(obj);
    return [
      obj.metadata.name,
      pc.value,
      pc.globalDefault ?? false,
      age(obj.metadata.creationTimestamp, now),
      pc.preemptionPolicy ?? 'PreemptLowerPriority',
    ];
  },
};

/** Name and Created At, which upstream prints for Roles, ClusterRoles and LimitRanges. */
const createdAt: Printer = {
  columns: [NAME_COLUMN, CREATED_AT],
  cells(obj) {
    return [obj.metadata.name, obj.metadata.creationTimestamp ?? ''];
  },
};

function bindingSubjects(b: Wire<V1RoleBinding> | Wire<V1ClusterRoleBinding>, kind: string): string {
  return (b.subjects ?? [])
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name))
    .join(', ');
}

const bindings: Printer = {
  columns: [
    NAME_COLUMN,
    column('Role', 'RoleRef is the reference to the role bound.'),
    AGE_COLUMN,
    column('Users', 'Users in the binding', WIDE),
    column('Groups', 'Groups in the binding', WIDE),
    column('ServiceAccounts', 'ServiceAccounts in the binding', WIDE),
  ],
  cells(obj, now) {
    const b = as<V1RoleBinding>(obj);
    return [
      obj.metadata.name,
      `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`,
      age(obj.metadata.creationTimestamp, now),
      bindingSubjects(b, 'User'),
      bindingSubjects(b, 'Group'),
      bindingSubjects(b, 'ServiceAccount'),
    ];
  },
};

const controllerRevisions: Printer = {
  columns: [
    NAME_COLUMN,
    column('Controller', 'Controller of the object'),
    column('Revision', 'Revision of the ControllerRevision', { type: 'integer' }),
    AGE_COLUMN,
  ],
  cells(obj, now) {
    const cr = as<V1ControllerRevision>(obj);
    const owner = (
      (obj.metadata.ownerReferences ?? []) as {
        controller?: boolean;
        kind: string;
        name: string;
        apiVersion: string;
      }[]
    ).find((o) => o.controller);
    const group = owner?.apiVersion.includes('/') ? `.${owner.apiVersion.split('/')[0]}` : '';
    return [
      obj.metadata.name,
      owner ? `${owner.kind.toLowerCase()}${group}/${owner.name}` : '<none>',
      cr.revision,
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

const endpointSlices: Printer = {
  columns: [
    NAME_COLUMN,
    column('AddressType', 'The IP protocol for this slice'),
    column('Ports', 'Enumerated ports on this slice'),
    column('Endpoints', 'Enumerated endpoints on this slice'),
    AGE_COLUMN,
  ],
  cells(obj, now) {
    const es = as<V1EndpointSlice>(obj);
    const ports = (es.ports ?? []).map((p) => String(p.port ?? '')).join(',');
    const addresses = (es.endpoints ?? []).flatMap((e) => e.addresses);
    const shown = addresses.slice(0, 3).join(',');
    return [
      obj.metadata.name,
      es.addressType,
      ports || '<unset>',
      addresses.length > 3 ? `${shown} + ${addresses.length - 3} more...` : orNone(shown),
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

const resourceQuotas: Printer = {
  columns: [
    NAME_COLUMN,
    AGE_COLUMN,
    column('Request', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    column(
      'Limit',
      'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
    ),
  ],
  cells(obj, now) {
    const q = as<V1ResourceQuota>(obj);
    const hard = q.spec?.hard ?? {};
    const used = q.status?.used ?? {};
    const pairs = (limits: boolean) =>
      Object.keys(hard)
        .filter((k) => k.startsWith('limits.') === limits)
        .sort()
        .map((k) => `${k}: ${String(used[k] ?? 0)}/${String(hard[k])}`)
        .join(', ');
    return [obj.metadata.name, age(obj.metadata.creationTimestamp, now), pairs(false), pairs(true)];
  },
};

export const CLUSTER_PRINTERS: Record<string, Printer> = {
  '/persistentvolumes': persistentVolumes,
  '/limitranges': createdAt,
  '/resourcequotas': resourceQuotas,
  'storage.k8s.io/storageclasses': storageClasses,
  'networking.k8s.io/ingresses': ingresses,
  'networking.k8s.io/ingressclasses': ingressClasses,
  'scheduling.k8s.io/priorityclasses': priorityClasses,
  'rbac.authorization.k8s.io/roles': createdAt,
  'rbac.authorization.k8s.io/clusterroles': createdAt,
  'rbac.authorization.k8s.io/rolebindings': bindings,
  'rbac.authorization.k8s.io/clusterrolebindings': bindings,
  'apps/controllerrevisions': controllerRevisions,
  'discovery.k8s.io/endpointslices': endpointSlices,
};
