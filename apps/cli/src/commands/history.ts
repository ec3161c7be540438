import { type ObjectVersion } from '@app/event-store';

import { withAuditLog } from '../audit/audit-store.js';
import { fieldDiff, formatDiff } from '../audit/field-diff.js';
import { objectName, parseTarget } from '../audit/resource-arg.js';
import { formatData, textTable } from '../audit/text-table.js';
import { agentOf } from '../audit/user-agent.js';
import { whoOf } from '../audit/who.js';
import { type DataDir } from '../data-dir.js';

export interface HistoryOptions {
  dataDir: DataDir;
  databaseUrl?: string;
  positionals: string[];
  namespace?: string;
  output?: 'json' | 'yaml';
  /** Leave out the diff under each version. */
  noDiff?: boolean;
  /** Diff metadata.managedFields and metadata.resourceVersion too. */
  showManagedFields?: boolean;
  write?: (text: string) => void;
}

/**
 * `wake history <kind>/<name>`: every version of one object from the log, across deletions and
 * re-creations: its revision (the event's seq), when, who, the verb and the event that caused
 * it, and a field-path diff from the version before. Exits 1 when the log has no such object.
 */
export async function history(o: HistoryOptions): Promise<number> {
  const write = o.write ?? ((text: string) => process.stdout.write(text));
  const { resource, name } = parseTarget(o.positionals);
  if (!name) throw new Error('history needs an object: <kind>/<name>');
  const namespace = resource.type.namespaced ? (o.namespace ?? 'default') : '';
  const versions = await withAuditLog(o.dataDir, o.databaseUrl, ({ store }) =>
    store.history({ group: resource.group, resource: resource.resource, namespace, name }),
  );
  const what = objectName(resource.type, name);
  if (versions.length === 0) {
    process.stderr.write(`Error: ${what} has no history${namespace ? ` in namespace ${namespace}` : ''}\n`);
    return 1;
  }
  if (o.output) {
    write(
      formatData(
        versions.map(({ event, diff }) => ({ ...event, diff })),
        o.output,
      ),
    );
    return 0;
  }
  write(
    textTable(
      ['REVISION', 'TIME', 'WHO', 'AGENT', 'VERB', 'CAUSE'],
      versions.map((v) => ({
        cells: [
          v.event.seq,
          v.event.at,
          whoOf(v.event.actor),
          agentOf(v.event.userAgent),
          v.event.verb,
          v.event.cause ?? '<none>',
        ],
        after: o.noDiff ? [] : diffLines(v, !!o.showManagedFields),
      })),
    ),
  );
  return 0;
}

/** The version's changes under its row, indented; the first version of an incarnation is all `+`. */
function diffLines(v: ObjectVersion, all: boolean): string[] {
  if (v.diff === null) return ['    (payload expired: this version or the one before is no longer kept)'];
  return formatDiff(fieldDiff(v.base, v.event.object, v.diff, { all }), '    ');
}
