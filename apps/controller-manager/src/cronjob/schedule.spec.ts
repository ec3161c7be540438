import { describe, expect, it } from '@jest/globals';

import {
  jobNameFor,
  mostRecentScheduleTime,
  nextScheduleDelayMs,
  parseSchedule,
  TOO_MANY_MISSED,
  zonedRfc3339,
} from './schedule.js';

const T = (iso: string) => Date.parse(iso);

// After upstream's utils_test.go (TestMostRecentScheduleTime, TestNextScheduleTime) and the TZ rules.
describe('CronJob schedules', () => {
  const hourly = parseSchedule('0 * * * *');

  it('parses the five standard fields and descriptors; refuses seconds, TZ prefixes and unknown zones', () => {
    expect(parseSchedule('@hourly').next(T('2026-01-01T10:30:00Z'))).toBe(T('2026-01-01T11:00:00Z'));
    expect(parseSchedule('@midnight').next(T('2026-01-01T10:30:00Z'))).toBe(T('2026-01-02T00:00:00Z'));
    expect(() => parseSchedule('0 0 * * * *')).toThrow(/5 fields/);
    expect(() => parseSchedule('CRON_TZ=UTC 0 * * * *')).toThrow(/timeZone field/);
    expect(() => parseSchedule('TZ=UTC 0 * * * *')).toThrow(/timeZone field/);
    expect(() => parseSchedule('@every 1h')).toThrow(/descriptor/);
    expect(() => parseSchedule('61 * * * *')).toThrow();
    expect(() => parseSchedule('0 9 * * *', 'Mars/Olympus')).toThrow(/invalid timeZone/);
  });

  it('honours timeZone', () => {
    const nineInNewYork = parseSchedule('0 9 * * *', 'America/New_York');
    expect(nineInNewYork.next(T('2026-01-01T00:00:00Z'))).toBe(T('2026-01-01T14:00:00Z'));
    expect(nineInNewYork.next(T('2026-07-01T00:00:00Z'))).toBe(T('2026-07-01T13:00:00Z'));
  });

  it('finds nothing due before the first activation after the last schedule', () => {
    expect(
      mostRecentScheduleTime(
        hourly,
        { lastScheduleTime: '2026-01-01T10:00:00Z' },
        T('2026-01-01T10:59:59Z'),
        true,
      ),
    ).toEqual({ missed: 0 });
  });

  it('finds the one activation due, and the latest of several', () => {
    const created = { creationTimestamp: '2026-01-01T09:30:00Z' };
    expect(mostRecentScheduleTime(hourly, created, T('2026-01-01T10:00:00Z'), true)).toEqual({
      mostRecent: T('2026-01-01T10:00:00Z'),
      missed: 1,
    });
    expect(mostRecentScheduleTime(hourly, created, T('2026-01-01T13:10:00Z'), true)).toEqual({
      mostRecent: T('2026-01-01T13:00:00Z'),
      missed: 4,
    });
  });

  it('looks back no further than startingDeadlineSeconds when asked', () => {
    const o = { lastScheduleTime: '2026-01-01T00:00:00Z', startingDeadlineSeconds: 600 };
    expect(mostRecentScheduleTime(hourly, o, T('2026-01-01T05:05:00Z'), true)).toEqual({
      mostRecent: T('2026-01-01T05:00:00Z'),
      missed: 1,
    });
    expect(mostRecentScheduleTime(hourly, o, T('2026-01-01T05:20:00Z'), true)).toEqual({ missed: 0 });
    expect(mostRecentScheduleTime(hourly, o, T('2026-01-01T05:20:00Z'), false).missed).toBe(5);
  });

  it('counts more than 100 missed as too many and still returns the latest', () => {
    const everyMinute = parseSchedule('* * * * *');
    const r = mostRecentScheduleTime(
      everyMinute,
      { lastScheduleTime: '2026-01-01T00:00:00Z' },
      T('2026-01-01T05:00:30Z'),
      true,
    );
    expect(r.missed).toBeGreaterThan(TOO_MANY_MISSED);
    expect(r.mostRecent).toBe(T('2026-01-01T05:00:00Z'));
  });

  it('requeues for the next activation, 100 ms after it', () => {
    const o = { lastScheduleTime: '2026-01-01T10:00:00Z' };
    expect(nextScheduleDelayMs(hourly, o, T('2026-01-01T10:15:00Z'))).toBe(45 * 60_000 + 100);
    expect(nextScheduleDelayMs(hourly, o, T('2026-01-01T12:15:00Z'))).toBe(45 * 60_000 + 100);
  });

  it('names the Job by the scheduled time in Unix minutes', () => {
    expect(jobNameFor('hello', T('2026-01-01T10:00:00Z'))).toBe(
      `hello-${T('2026-01-01T10:00:00Z') / 60_000}`,
    );
    expect(jobNameFor('hello', T('2026-01-01T10:00:00Z'))).toBe('hello-29454360');
  });
});

describe('the scheduled-timestamp annotation', () => {
  it("is RFC 3339 in the CronJob's zone, as Go formats Time.In(loc)", () => {
    const t = Date.parse('2026-01-15T14:00:00Z');
    expect(zonedRfc3339(t)).toBe('2026-01-15T14:00:00Z');
    expect(zonedRfc3339(t, 'America/New_York')).toBe('2026-01-15T09:00:00-05:00');
    expect(zonedRfc3339(t, 'Asia/Kolkata')).toBe('2026-01-15T19:30:00+05:30');
    expect(zonedRfc3339(Date.parse('2026-07-15T14:00:00Z'), 'Europe/Paris')).toBe(
      '2026-07-15T16:00:00+02:00',
    );
    expect(zonedRfc3339(t, 'Europe/London')).toBe('2026-01-15T14:00:00Z');
  });
});
