import fastJsonPatch from 'fast-json-patch';

import {
  type Checkpoint,
  type EventStore,
  type ObjectRef,
  type ReplayReport,
  type VerifyReport,
} from '@app/event-store';

import { withAuditLog } from '../audit/audit-store.js';
import { type DiffLine, fieldDiff, formatDiff } from '../audit/field-diff.js';
import { objectName, typeOfStored } from '../audit/resource-arg.js';
import { formatData } from '../audit/text-table.js';
import { type DataDir } from '../data-dir.js';
import { verifyChain } from './verify.js';

export interface ReplayCommandOptions {
  dataDir: DataDir;
  databaseUrl?: string;
  /** Also verify the hash chain and the signed checkpoints. */
  verify?: boolean;
  /** Keep the scratch schema the projections were rebuilt into. */
  keep?: boolean;
  output?: 'json' | 'yaml';
  write?: (text: string) => void;
}

/** An object the rebuilt and the live projection disagree on, and how. */
interface Difference extends ObjectRef {
  /** `differs`: both have it, unlike; `live-only`: the log does not account for it; `log-only`: the projection lost it. */
  kind: 'differs' | 'live-only' | 'log-only';
  /** For `differs`: the field diff from the log's fold (-) to the live row (+). */
  fields?: DiffLine[];
}

interface ChainResult {
  report: VerifyReport;
  /** The object of the first bad event, when the event is still there to name it. */
  badObject?: ObjectRef;
  latestCheckpoint?: Checkpoint;
  checkpointsFound: number;
}

/**
 * `wake replay [--verify]`: rebuilds every projection from the log into a scratch schema and
 * compares it with the live one (ProjectionReplayer), reporting each object that differs and
 * how; with --verify it also recomputes the hash chain and holds it against the checkpoints
 * signed into the data directory (as `wake verify` does). Exits 0 when everything agrees, 1
 * with a report of every disagreement otherwise.
 */
export async function replay(o: ReplayCommandOptions): Promise<number> {
  const write = o.write ?? ((text: string) => process.stdout.write(text));
  const { replayed, differences, chain } = await withAuditLog(
    o.dataDir,
    o.databaseUrl,
    async ({ store, state }) => {
      const replayed = await store.replay({ keep: o.keep, maxDifferences: 100 });
      const differences = await explainDifferences(store, replayed);
      let chain: ChainResult | undefined;
      if (o.verify) {
        const { report, checkpoints } = await verifyChain(store, state);
        const sorted = [...checkpoints].sort((a, b) => a.seq - b.seq);
        const bad = report.firstBadSeq !== undefined ? await store.events.at(report.firstBadSeq) : undefined;
        chain = {
          report,
          ...(bad
            ? {
                badObject: {
                  group: bad.group,
                  resource: bad.resource,
                  namespace: bad.namespace,
                  name: bad.name,
                },
              }
            : {}),
          ...(report.checkpointsChecked ? { latestCheckpoint: sorted[report.checkpointsChecked - 1] } : {}),
          checkpointsFound: checkpoints.length,
        };
      }
      return { replayed, differences, chain };
    },
  );
  const ok = replayed.identical && !replayed.malformed && (!chain || chain.report.ok);
  if (o.output) {
    write(formatData({ ok, replay: replayed, differences, ...(chain ? { chain } : {}) }, o.output));
    return ok ? 0 : 1;
  }
  const lines = [
    `replayed ${replayed.events} events (up to seq ${replayed.upTo}) into ${replayed.schema}${o.keep ? ' (kept)' : ''}: ${replayed.objects} objects; the live projection has ${replayed.liveObjects}`,
    ...projectionLines(replayed, differences),
    replayed.malformed
      ? `log grammar: BROKEN at seq ${replayed.malformed.seq}: ${replayed.malformed.reason}`
      : 'log grammar: ok (every object ADDED, MODIFIED*, DELETED?; resourceVersion = seq)',
    ...(chain ? chainLines(chain) : []),
    ok ? 'OK: the log and the projections agree' : 'FAILED',
  ];
  write(`${lines.join('\n')}\n`);
  return ok ? 0 : 1;
}

/** Pairs the replayer's one-sided rows into objects, and diffs the ones both sides have. */
async function explainDifferences(store: EventStore, r: ReplayReport): Promise<Difference[]> {
  const byKey = new Map<string, Difference>();
  for (const d of r.differences) {
    const id = `${d.group}/${d.resource}/${d.namespace}/${d.name}`;
    const side = d.side === 'live-only' ? 'live-only' : 'log-only';
    const seen = byKey.get(id);
    byKey.set(id, {
      group: d.group,
      resource: d.resource,
      namespace: d.namespace,
      name: d.name,
      kind: seen && seen.kind !== side ? 'differs' : side,
    });
  }
  for (const d of byKey.values()) {
    if (d.kind !== 'differs') continue;
    const [logged] = await store.objectsAt(d, r.upTo, { namespace: d.namespace, name: d.name });
    const live = await store.get(d);
    if (logged?.object && live)
      d.fields = fieldDiff(logged.object, live.object, fastJsonPatch.compare(logged.object, live.object), {
        all: true,
      });
  }
  return [...byKey.values()];
}

function projectionLines(r: ReplayReport, differences: Difference[]): string[] {
  if (r.identical) return ['projections: identical'];
  const lines = [
    `projections: ${differences.length} object${differences.length === 1 ? '' : 's'} differ${differences.length === 1 ? 's' : ''}${differences.length ? ' (- as the log has it, + as the live projection has it)' : ''}`,
  ];
  for (const d of differences) {
    const what = `${label(d)}${d.namespace ? ` in namespace ${d.namespace}` : ''}`;
    if (d.kind === 'live-only') lines.push(`  ${what}: in the live projection, but not as the log has it`);
    else if (d.kind === 'log-only') lines.push(`  ${what}: in the log, but missing from the live projection`);
    else {
      lines.push(`  ${what}: the live projection differs from the log`);
      lines.push(...formatDiff(d.fields ?? [], '    '));
      if (!d.fields?.length) lines.push("    (the objects agree; the row's uid or resourceVersion does not)");
    }
  }
  if (r.missingPayloads)
    lines.push(`  ${r.missingPayloads} objects' last payloads have expired and could not be rebuilt`);
  return lines;
}

function chainLines(c: ChainResult): string[] {
  const r = c.report;
  const where = c.badObject
    ? ` (${label(c.badObject)}${c.badObject.namespace ? ` in namespace ${c.badObject.namespace}` : ''})`
    : '';
  const lines = [
    r.ok
      ? `hash chain: ok, ${r.checked} events verified up to seq ${r.head}`
      : `hash chain: BROKEN at seq ${r.firstBadSeq}${where}: ${r.reason}`,
  ];
  if (c.latestCheckpoint)
    lines.push(
      `checkpoints: ${r.checkpointsChecked} of ${c.checkpointsFound} verified; the latest, signed at ${c.latestCheckpoint.at}, pins seq ${c.latestCheckpoint.seq}`,
    );
  else if (c.checkpointsFound) lines.push(`checkpoints: ${c.checkpointsFound} found, none verified`);
  else lines.push('checkpoints: none signed yet (or no data directory to read them from)');
  return lines;
}

function label(ref: ObjectRef): string {
  const type = typeOfStored(ref.group, ref.resource);
  return type ? objectName(type, ref.name) : `${ref.resource}${ref.group ? `.${ref.group}` : ''}/${ref.name}`;
}
