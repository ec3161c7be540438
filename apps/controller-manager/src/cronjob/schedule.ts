import { CronExpressionParser } from 'cron-parser';

/** A parsed CronJob schedule: the first activation strictly after a time, in ms. */
export interface Schedule {
  next(afterMs: number): number;
  /** The last activation strictly before a time. */
  prev(beforeMs: number): number;
}

/** robfig/cron's descriptors (ParseStandard with Descriptor); @midnight is @daily there. */
const DESCRIPTORS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/**
 * cron.ParseStandard as the CronJob controller uses it (cronjob_controllerv2.go): the five
 * standard fields or a descriptor, in `timeZone` (the controller's local zone — UTC here —
 * when unset). A TZ= or CRON_TZ= prefix is refused, as the API's validation refuses it
 * ("use timeZone field instead"). Throws on anything else it cannot parse.
 */
export function parseSchedule(schedule: string, timeZone?: string): Schedule {
  const text = schedule.trim();
  if (/^(CRON_)?TZ=/.test(text))
    throw new Error('cannot use TZ or CRON_TZ in schedule, use timeZone field instead');
  const expr = text.startsWith('@') ? DESCRIPTORS[text] : text;
  if (expr === undefined) throw new Error(`unrecognized descriptor: ${text}`);
  if (expr.split(/\s+/).length !== 5)
    throw new Error(`expected exactly 5 fields, found ${expr.split(/\s+/).length}: ${text}`);
  const tz = timeZone ?? 'UTC';
  if (!validTimeZone(tz)) throw new UnknownTimeZoneError(tz);
  // Parsed once here so a bad expression fails now rather than at the first next().
  CronExpressionParser.parse(expr, { tz });
  const at = (ms: number) => CronExpressionParser.parse(expr, { tz, currentDate: new Date(ms) });
  return { next: (ms) => at(ms).next().getTime(), prev: (ms) => at(ms).prev().getTime() };
}

export class UnknownTimeZoneError extends Error {
  constructor(readonly timeZone: string) {
    super(`invalid timeZone: "${timeZone}"`);
  }
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** What mostRecentScheduleTime finds: the latest activation due, and how many were missed. */
export interface MissedSchedules {
  /** The latest activation at or before now, if any is due. */
  mostRecent?: number;
  /** How many activations are due (upstream caps its count past 100: more is "too many"). */
  missed: number;
}

/** Upstream stops counting missed activations beyond this and warns TooManyMissedTimes. */
export const TOO_MANY_MISSED = 100;

/**
 * mostRecentScheduleTime (pkg/controller/cronjob/utils.go): activations after the last
 * scheduled time (or the CronJob's creation), not earlier than now − startingDeadlineSeconds
 * when asked, up to now.
 */
export function mostRecentScheduleTime(
  schedule: Schedule,
  o: { lastScheduleTime?: string; creationTimestamp?: string; startingDeadlineSeconds?: number },
  now: number,
  includeStartingDeadline: boolean,
): MissedSchedules {
  let earliest = Date.parse(o.lastScheduleTime ?? o.creationTimestamp ?? '');
  if (Number.isNaN(earliest)) earliest = now;
  if (includeStartingDeadline && o.startingDeadlineSeconds !== undefined)
    earliest = Math.max(earliest, now - o.startingDeadlineSeconds * 1000);
  let t = schedule.next(earliest);
  if (t > now) return { missed: 0 };
  let missed = 0;
  let mostRecent = t;
  for (; t <= now; t = schedule.next(t)) {
    if (++missed > TOO_MANY_MISSED) {
      // Past the cap only the latest activation matters.
      return { mostRecent: schedule.prev(now + 1), missed };
    }
    mostRecent = t;
  }
  return { mostRecent, missed };
}

/** nextScheduleTime: the first activation after the most recent one due (or after the last), plus upstream's 100 ms. */
export function nextScheduleDelayMs(
  schedule: Schedule,
  o: { lastScheduleTime?: string; creationTimestamp?: string },
  now: number,
): number {
  const { mostRecent } = mostRecentScheduleTime(schedule, o, now, false);
  const from = mostRecent ?? Date.parse(o.lastScheduleTime ?? o.creationTimestamp ?? '') ?? now;
  const next = schedule.next(Number.isNaN(from) ? now : Math.max(from, now));
  return Math.max(0, next - now) + 100;
}

/** getJobName: `<cronjob>-<scheduled time in Unix minutes>`, the same for every try at one time. */
export const jobNameFor = (cronJob: string, scheduledMs: number): string =>
  `${cronJob}-${Math.floor(scheduledMs / 60_000)}`;

/** RFC 3339 in UTC, to the second (metav1.Time's form). */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** RFC 3339 in a time zone (Go's Time.In(loc).Format(time.RFC3339)): "2026-01-01T09:00:00-05:00". */
export function zonedRfc3339(ms: number, timeZone?: string): string {
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return rfc3339(ms);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(
    +parts.year,
    +parts.month - 1,
    +parts.day,
    +parts.hour,
    +parts.minute,
    +parts.second,
  );
  const offsetMin = Math.round((local - Math.floor(ms / 1000) * 1000) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const offset =
    offsetMin === 0
      ? 'Z'
      : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}
