import { type Violation } from './history.js';

/** What one watch stream delivered, in order: events (by seq) and bookmarks. */
export type WatchRecord = { kind: 'event'; seq: number } | { kind: 'bookmark'; seq: number };

export interface WatchCheck {
  /** The watch started after this resourceVersion. */
  after: number;
  /** What it delivered, in delivery order. */
  delivered: WatchRecord[];
  /** The seqs of every event in the log that matches the watch's filter. */
  matching: number[];
}

/**
 * etcd's watch validators (reliability.md §5.2) for one watch stream:
 * ordered (seqs strictly increase), unique (no event twice), reliable (no matching event
 * missing between the start and the last delivered event), resumable (the first event is the
 * first matching one after the start), bookmarkable (nothing at or below a bookmark arrives
 * after it). Atomic holds by construction here: one event per seq, delivered whole.
 */
export function checkWatch({ after, delivered, matching }: WatchCheck): Violation[] {
  const out: Violation[] = [];
  const fail = (message: string) => out.push({ checker: 'watch', message });
  const events = delivered.filter((d) => d.kind === 'event').map((d) => d.seq);
  let floor = after;
  for (const d of delivered) {
    if (d.kind === 'bookmark') {
      if (d.seq < floor) fail(`bookmark ${d.seq} after seq ${floor} was delivered`);
      floor = Math.max(floor, d.seq);
      continue;
    }
    if (d.seq <= floor) {
      fail(`seq ${d.seq} delivered after seq ${floor} (out of order, duplicate or behind a bookmark)`);
      return out;
    }
    floor = d.seq;
  }
  if (new Set(events).size !== events.length) fail('an event was delivered twice');
  const last = Math.max(after, ...delivered.map((d) => d.seq));
  const due = matching.filter((s) => s > after && s <= last);
  const got = new Set(events);
  const missed = due.filter((s) => !got.has(s));
  if (missed.length) fail(`missed ${missed.length} matching events, first ${missed.slice(0, 5).join(', ')}`);
  const extra = events.filter((s) => !matching.includes(s));
  if (extra.length)
    fail(`delivered ${extra.length} events that do not match, first ${extra.slice(0, 5).join(', ')}`);
  if (events.length && due.length && events[0] !== due[0])
    fail(`first event ${events[0]}, but the first matching event after ${after} is ${due[0]}`);
  return out;
}
