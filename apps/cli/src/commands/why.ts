import { type EventStore, type ObjectVersion, type StoredEvent } from '@app/event-store';

import { withAuditLog } from '../audit/audit-store.js';
import { changedFields } from '../audit/field-diff.js';
import { objectName, parseTarget, typeOfStored } from '../audit/resource-arg.js';
import { formatData, textTable } from '../audit/text-table.js';
import { agentOf } from '../audit/user-agent.js';
import { whoOf } from '../audit/who.js';
import { type DataDir } from '../data-dir.js';

export interface WhyOptions {
  dataDir: DataDir;
  databaseUrl?: string;
  positionals: string[];
  namespace?: string;
  /** Explain this version of the object (a resourceVersion) instead of its latest. */
  rv?: string;
  output?: 'json' | 'yaml';
  write?: (text: string) => void;
}

/** One link of the chain: the event, and the fields it changed in its object. */
interface Step {
  event: StoredEvent;
  /** `created`, `deleted`, or the changed fields (two levels deep). */
  change: string;
}

/**
 * `wake why <kind>/<name>`: why the object is as it is. From its latest event (or the one at
 * `--rv`) it follows each event's `cause` (the seq a controller was reacting to, sent as the
 * wake-cause header) back to a request no event caused, normally a user's, and prints the
 * chain from that request down to the object's event: who wrote what, when, and in reaction
 * to which earlier write. Exits 1 when the object has no such event, 3 when the chain breaks
 * (a cause no longer in the log).
 */
export async function why(o: WhyOptions): Promise<number> {
  const write = o.write ?? ((text: string) => process.stdout.write(text));
  const { resource, name } = parseTarget(o.positionals);
  if (!name) throw new Error('why needs an object: <kind>/<name>');
  const namespace = resource.type.namespaced ? (o.namespace ?? 'default') : '';
  const what = objectName(resource.type, name);
  const steps = await withAuditLog(o.dataDir, o.databaseUrl, async ({ store }) => {
    const versions = await store.history({
      group: resource.group,
      resource: resource.resource,
      namespace,
      name,
    });
    const target =
      o.rv === undefined ? versions[versions.length - 1] : versions.find((v) => String(v.event.seq) === o.rv);
    if (!target) return undefined;
    return explain(store, await store.causalChain(target.event.seq), versions);
  });
  if (!steps) {
    process.stderr.write(
      `Error: ${what}${namespace ? ` in namespace ${namespace}` : ''} has no ${o.rv === undefined ? 'history' : `version at resourceVersion ${o.rv}`}\n`,
    );
    return 1;
  }
  const root = steps[0].event;
  const broken = root.cause !== null;
  if (o.output) {
    write(
      formatData(
        {
          object: what,
          namespace,
          chain: steps.map((s) => ({ ...s.event, change: s.change })),
          complete: !broken,
        },
        o.output,
      ),
    );
    return broken ? 3 : 0;
  }
  write(
    textTable(
      ['SEQ', 'TIME', 'WHO', 'AGENT', 'VERB', 'NAMESPACE', 'OBJECT', 'CAUSE', 'CHANGE'],
      steps.map(({ event: e, change }) => ({
        cells: [
          e.seq,
          e.at,
          whoOf(e.actor),
          agentOf(e.userAgent),
          e.verb,
          e.namespace || '<none>',
          describe(e),
          e.cause ?? '<none>',
          change,
        ],
      })),
    ),
  );
  write(
    broken
      ? `the chain breaks at seq ${root.seq}: its cause, seq ${root.cause}, is not in the log\n`
      : startedBy(root),
  );
  return broken ? 3 : 0;
}

/** What each event of the chain changed in its object, from that object's own history. */
async function explain(store: EventStore, chain: StoredEvent[], known: ObjectVersion[]): Promise<Step[]> {
  const histories = new Map<string, ObjectVersion[]>();
  const historyOf = async (e: StoredEvent) => {
    const id = `${e.group}/${e.resource}/${e.namespace}/${e.name}`;
    if (!histories.has(id)) {
      const own = known[0] && sameObject(known[0].event, e);
      histories.set(id, own ? known : await store.history(e));
    }
    return histories.get(id)!;
  };
  const steps: Step[] = [];
  for (const event of chain) {
    const version = (await historyOf(event)).find((v) => v.event.seq === event.seq);
    steps.push({ event, change: changeOf(event, version) });
  }
  return steps;
}

function changeOf(e: StoredEvent, v: ObjectVersion | undefined): string {
  if (e.type === 'ADDED') return 'created';
  if (e.type === 'DELETED') return 'deleted';
  if (!v || v.diff === null) return '<payload expired>';
  return changedFields(v.base, e.object, v.diff).join(',') || '<no change>';
}

function sameObject(a: StoredEvent, b: StoredEvent): boolean {
  return a.group === b.group && a.resource === b.resource && a.namespace === b.namespace && a.name === b.name;
}

/** The object an event is about, as `kubectl get -o name` prints it (`pod/web`, `deployment.apps/web`). */
/** The chain's first event: who made it, with what, and (for users RBAC checked) the grant it was made under. */
function startedBy(e: StoredEvent): string {
  const agent = e.userAgent ? ` (${e.userAgent})` : '';
  const where = e.namespace ? ` in namespace ${e.namespace}` : '';
  const grant = e.actor.authorizedBy ? `  ${e.actor.authorizedBy}\n` : '';
  return `started by ${whoOf(e.actor)}${agent}: ${e.verb} ${describe(e)}${where} at seq ${e.seq}\n${grant}`;
}

function describe(e: StoredEvent): string {
  const type = typeOfStored(e.group, e.resource);
  return type ? objectName(type, e.name) : `${e.resource}${e.group ? `.${e.group}` : ''}/${e.name}`;
}
