import { printerFor } from '@app/api';
import { type EventStore, type StoredEvent, type StoredObject } from '@app/event-store';

import { withAuditLog } from '../audit/audit-store.js';
import { objectName, parseTarget, type ResolvedResource } from '../audit/resource-arg.js';
import { formatData, textTable } from '../audit/text-table.js';
import { type DataDir } from '../data-dir.js';

export interface GetAsOfOptions {
  dataDir: DataDir;
  databaseUrl?: string;
  positionals: string[];
  namespace?: string;
  allNamespaces?: boolean;
  /** An RFC 3339 time or a resourceVersion (a seq); absent: the log's head. */
  asOf?: string;
  output?: 'json' | 'yaml' | 'name';
  /** Keep metadata.managedFields in -o json|yaml (kubectl get's --show-managed-fields). */
  showManagedFields?: boolean;
  write?: (text: string) => void;
}

/** The moment an `--as-of` names: the last event at or before it, and the time to age objects by. */
interface Moment {
  seq: number;
  at: Date;
}

/**
 * `wake get <kind> [name] --as-of <time|rv>`: the objects as they were at that point, folded
 * from the log (not read from the projection), printed as `kubectl get` prints them, with
 * the kind's own columns and ages as they were at that moment.
 */
export async function getAsOf(o: GetAsOfOptions): Promise<number> {
  const write = o.write ?? ((text: string) => process.stdout.write(text));
  const { resource, name } = parseTarget(o.positionals);
  const namespace = !resource.type.namespaced || o.allNamespaces ? undefined : (o.namespace ?? 'default');
  const { moment, events } = await withAuditLog(o.dataDir, o.databaseUrl, async ({ store }) => {
    const m = await momentOf(store, o.asOf);
    const found = await store.objectsAt(resource, m.seq, {
      namespace,
      ...(name !== undefined ? { name } : {}),
    });
    return { moment: m, events: found };
  });
  const expired = events.find((e) => e.object === null);
  if (expired)
    throw new Error(
      `${resource.type.plural} ${expired.namespace ? `${expired.namespace}/` : ''}${expired.name} at resourceVersion ${moment.seq}: its payload (seq ${expired.seq}) has expired`,
    );
  // kubectl get leaves managedFields out of -o json|yaml unless asked (--show-managed-fields).
  const objects = events.map((e) => (o.showManagedFields ? e.object! : withoutManagedFields(e.object!)));
  if (name !== undefined && objects.length === 0) {
    process.stderr.write(
      `Error from server (NotFound): ${qualifiedPlural(resource)} "${name}" not found at resourceVersion ${moment.seq}\n`,
    );
    return 1;
  }
  if (o.output === 'name') {
    write(objects.map((obj) => `${objectName(resource.type, obj.metadata.name!)}\n`).join(''));
    return 0;
  }
  if (o.output) {
    const body =
      name !== undefined
        ? objects[0]
        : {
            apiVersion: 'v1',
            kind: 'List',
            metadata: { resourceVersion: String(moment.seq) },
            items: objects,
          };
    write(formatData(body, o.output));
    return 0;
  }
  if (objects.length === 0) {
    process.stderr.write(
      `No resources found${namespace !== undefined && resource.type.namespaced ? ` in ${namespace} namespace` : ''} at resourceVersion ${moment.seq}.\n`,
    );
    return 0;
  }
  const printer = printerFor(resource.group, resource.resource);
  const columns = printer.columns.filter((c) => c.priority === 0);
  const withNamespace = resource.type.namespaced && namespace === undefined;
  write(
    textTable(
      [...(withNamespace ? ['Namespace'] : []), ...columns.map((c) => c.name)],
      events.map((e) => ({
        cells: [
          ...(withNamespace ? [e.namespace] : []),
          ...printer
            .cells(e.object!, moment.at.getTime())
            .filter((_, i) => printer.columns[i].priority === 0),
        ],
      })),
    ),
  );
  return 0;
}

/**
 * A resourceVersion is a seq of the log; anything else must be an RFC 3339 time, which names
 * the last event committed at or before it. Objects are aged as of the time asked for (or the
 * event's own time for a resourceVersion), as `kubectl get` would have shown them then.
 */
async function momentOf(store: EventStore, asOf: string | undefined): Promise<Moment> {
  const head = await store.head();
  if (asOf === undefined) return { seq: head.seq, at: new Date() };
  if (/^\d+$/.test(asOf)) {
    const seq = Number(asOf);
    if (seq > head.seq) throw new Error(`--as-of ${seq}: the log ends at resourceVersion ${head.seq}`);
    const event: StoredEvent | undefined = seq > 0 ? await store.events.at(seq) : undefined;
    return { seq, at: new Date(event?.at ?? 0) };
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(asOf))
    throw new Error(
      `--as-of: want an RFC 3339 time (2006-01-02T15:04:05Z) or a resourceVersion, got "${asOf}"`,
    );
  const at = new Date(asOf);
  return { seq: await store.events.seqAt(at), at };
}

function withoutManagedFields(obj: StoredObject): StoredObject {
  if (!('managedFields' in obj.metadata)) return obj;
  const { managedFields: _, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** `deployments.apps`, `pods`: how kubectl names a kind in its errors. */
function qualifiedPlural(r: ResolvedResource): string {
  return r.type.group ? `${r.type.plural}.${r.type.group}` : r.type.plural;
}
