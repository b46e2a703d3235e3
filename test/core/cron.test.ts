import assert from 'node:assert/strict';
import {
  buildExpression,
  CronExpressionError,
  parseSchedule,
  validateExpression,
  type Preset,
} from '../../src/core/cron.js';
import { describeFields } from '../../src/core/cron-describe.js';

const iso = (dates: readonly Date[]): string[] => dates.map((date) => date.toISOString());
const at = (text: string): Date => new Date(text);

/** Local calendar date of an instant in a zone, e.g. '2026-03-08'. */
function localDay(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(date);
}

/** Every run whose local date in `timeZone` is `day` ('YYYY-MM-DD'). */
function runsOn(expression: string, timeZone: string, day: string): Date[] {
  const schedule = parseSchedule(expression, timeZone);
  const runs: Date[] = [];
  // 14 hours before midnight UTC is before midnight local in any zone up to UTC+14.
  let run = schedule.next(new Date(Date.parse(`${day}T00:00:00Z`) - 14 * 3_600_000));
  while (run !== null && localDay(run, timeZone) <= day) {
    if (localDay(run, timeZone) === day) runs.push(run);
    run = schedule.next(run);
  }
  return runs;
}

function assertCronError(expression: string, pattern: RegExp): void {
  assert.throws(
    () => parseSchedule(expression),
    (error: unknown) => {
      assert.ok(error instanceof CronExpressionError, `${expression}: ${String(error)}`);
      assert.match(error.message, pattern, expression);
      return true;
    },
  );
  assert.match(validateExpression(expression) ?? '', pattern);
}

describe('cron', () => {
  describe('Quartz fields', () => {
    it('fires the iWorkflow sample 0 32 19 * * ? * at 19:32:00 UTC every day in zone UTC', () => {
      const schedule = parseSchedule('0 32 19 * * ? *', 'UTC');
      assert.equal(schedule.expression, '0 32 19 * * ? *');
      assert.equal(schedule.timeZone, 'UTC');
      assert.deepEqual(iso(schedule.nextRuns(3, at('2026-01-01T12:00:00Z'))), [
        '2026-01-01T19:32:00.000Z',
        '2026-01-02T19:32:00.000Z',
        '2026-01-03T19:32:00.000Z',
      ]);
    });

    it('returns the next run strictly after the given instant', () => {
      const schedule = parseSchedule('0 32 19 * * ? *', 'UTC');
      assert.equal(schedule.next(at('2026-01-01T19:32:00Z'))?.toISOString(), '2026-01-02T19:32:00.000Z');
      assert.equal(schedule.next(at('2026-01-01T19:31:59.999Z'))?.toISOString(), '2026-01-01T19:32:00.000Z');
      const everySecond = parseSchedule('* * * * * ?');
      const next = everySecond.next();
      assert.ok(next !== null && next.getTime() > Date.now() - 5 && next.getTime() <= Date.now() + 1000);
      assert.deepEqual(everySecond.nextRuns(0), []);
      assert.throws(() => everySecond.nextRuns(-1), RangeError);
      assert.throws(() => everySecond.next(new Date('nonsense')), RangeError);
    });

    it('honours the seconds field', () => {
      const schedule = parseSchedule('15,45 * * * * ?', 'UTC');
      assert.deepEqual(iso(schedule.nextRuns(3, at('2026-01-01T00:00:00Z'))), [
        '2026-01-01T00:00:15.000Z',
        '2026-01-01T00:00:45.000Z',
        '2026-01-01T00:01:15.000Z',
      ]);
      assert.deepEqual(iso(parseSchedule('*/20 * * * * ?', 'UTC').nextRuns(2, at('2026-01-01T00:00:00Z'))), [
        '2026-01-01T00:00:20.000Z',
        '2026-01-01T00:00:40.000Z',
      ]);
    });

    it('steps from a start value: 0/15, 5/20 and 0/30 seconds', () => {
      const from = at('2026-01-01T00:00:00Z');
      assert.deepEqual(iso(parseSchedule('0 0/15 * * * ? *', 'UTC').nextRuns(4, from)), [
        '2026-01-01T00:15:00.000Z',
        '2026-01-01T00:30:00.000Z',
        '2026-01-01T00:45:00.000Z',
        '2026-01-01T01:00:00.000Z',
      ]);
      assert.deepEqual(iso(parseSchedule('0 5/20 * * * ?', 'UTC').nextRuns(4, from)), [
        '2026-01-01T00:05:00.000Z',
        '2026-01-01T00:25:00.000Z',
        '2026-01-01T00:45:00.000Z',
        '2026-01-01T01:05:00.000Z',
      ]);
      assert.deepEqual(iso(parseSchedule('0/30 * * * * ?', 'UTC').nextRuns(2, from)), [
        '2026-01-01T00:00:30.000Z',
        '2026-01-01T00:01:00.000Z',
      ]);
    });

    it('reads Quartz day-of-week 2-6 and Unix 1-5 both as Monday to Friday', () => {
      const from = at('2026-01-03T00:00:00Z'); // a Saturday
      const quartz = parseSchedule('0 0 8 ? * 2-6 *', 'UTC').nextRuns(10, from);
      const unix = parseSchedule('0 8 * * 1-5', 'UTC').nextRuns(10, from);
      assert.deepEqual(iso(quartz), iso(unix));
      assert.deepEqual(
        quartz.map((run) => run.getUTCDay()),
        [1, 2, 3, 4, 5, 1, 2, 3, 4, 5],
      );
      assert.equal(quartz[0].toISOString(), '2026-01-05T08:00:00.000Z');
    });

    it('numbers Sunday 1 in Quartz and 0 or 7 in Unix', () => {
      const from = at('2026-01-01T00:00:00Z');
      const sunday = '2026-01-04T08:00:00.000Z';
      assert.equal(parseSchedule('0 0 8 ? * 1 *', 'UTC').next(from)?.toISOString(), sunday);
      assert.equal(
        parseSchedule('0 0 8 ? * 7 *', 'UTC').next(from)?.toISOString(),
        '2026-01-03T08:00:00.000Z',
      );
      assert.equal(parseSchedule('0 8 * * 0', 'UTC').next(from)?.toISOString(), sunday);
      assert.equal(parseSchedule('0 8 * * 7', 'UTC').next(from)?.toISOString(), sunday);
    });

    it('accepts month and day names in any case', () => {
      const from = at('2026-01-03T00:00:00Z');
      assert.deepEqual(
        iso(parseSchedule('0 0 8 ? * MON-FRI *', 'UTC').nextRuns(5, from)),
        iso(parseSchedule('0 0 8 ? * mon-fri *', 'UTC').nextRuns(5, from)),
      );
      assert.deepEqual(iso(parseSchedule('0 0 8 ? * MON-FRI *', 'UTC').nextRuns(2, from)), [
        '2026-01-05T08:00:00.000Z',
        '2026-01-06T08:00:00.000Z',
      ]);
      assert.deepEqual(iso(parseSchedule('0 0 9 1 JAN ? *', 'UTC').nextRuns(2, from)), [
        '2027-01-01T09:00:00.000Z',
        '2028-01-01T09:00:00.000Z',
      ]);
      assert.equal(parseSchedule('0 9 1 jan *', 'UTC').next(from)?.toISOString(), '2027-01-01T09:00:00.000Z');
      assert.equal(
        parseSchedule('0 0 8 ? * FRI#1 *', 'UTC').next(from)?.toISOString(),
        '2026-02-06T08:00:00.000Z',
      );
    });

    it('joins the day fields with OR as Quartz.NET does: a * in either is every day', () => {
      const from = at('2026-01-01T00:00:00Z');
      assert.equal(parseSchedule('0 0 8 * * * *', 'UTC').nextRuns(3, from).length, 3);
      const everyDay = iso(parseSchedule('0 0 8 * * ? *', 'UTC').nextRuns(3, from));
      assert.deepEqual(iso(parseSchedule('0 0 8 1 * * *', 'UTC').nextRuns(3, from)), everyDay);
      assert.deepEqual(iso(parseSchedule('0 0 8 * * MON *', 'UTC').nextRuns(3, from)), everyDay);
      // a value in both: the 1st of the month or a Monday (5 and 12 January 2026 are Mondays)
      assert.deepEqual(iso(parseSchedule('0 0 8 1 * MON 2026', 'UTC').nextRuns(3, from)), [
        '2026-01-01T08:00:00.000Z',
        '2026-01-05T08:00:00.000Z',
        '2026-01-12T08:00:00.000Z',
      ]);
      // ... with L, W or # on either side too
      assert.deepEqual(
        iso(parseSchedule('0 0 8 L-1 * 6#1 *', 'UTC').nextRuns(3, at('2026-01-03T00:00:00Z'))),
        ['2026-01-30T08:00:00.000Z', '2026-02-06T08:00:00.000Z', '2026-02-27T08:00:00.000Z'],
      );
      assert.equal(
        parseSchedule('0 0 8 1 * MON *').describe(),
        'At 08:00, on day 1 of the month or on Monday',
      );
    });

    it('keeps the Unix rule in 5-field form: day-of-month OR day-of-week', () => {
      const runs = parseSchedule('0 8 1 * 1', 'UTC').nextRuns(3, at('2026-01-01T12:00:00Z'));
      // Mondays (5th, 12th) or the 1st of a month
      assert.deepEqual(iso(runs), [
        '2026-01-05T08:00:00.000Z',
        '2026-01-12T08:00:00.000Z',
        '2026-01-19T08:00:00.000Z',
      ]);
      const february = parseSchedule('0 8 1 * 1', 'UTC').nextRuns(2, at('2026-01-27T00:00:00Z'));
      assert.deepEqual(iso(february), ['2026-02-01T08:00:00.000Z', '2026-02-02T08:00:00.000Z']);
    });
  });

  describe('Quartz special characters', () => {
    it('L is the last day of the month: 28 February 2026, 29 February 2028', () => {
      const schedule = parseSchedule('0 0 8 L * ? *', 'UTC');
      assert.equal(schedule.next(at('2026-02-01T00:00:00Z'))?.toISOString(), '2026-02-28T08:00:00.000Z');
      assert.equal(schedule.next(at('2028-02-01T00:00:00Z'))?.toISOString(), '2028-02-29T08:00:00.000Z');
    });

    it('L-3 is three days before the last day, also across a DST change', () => {
      const utc = parseSchedule('0 0 8 L-3 * ? *', 'UTC');
      assert.deepEqual(iso(utc.nextRuns(3, at('2026-01-01T00:00:00Z'))), [
        '2026-01-28T08:00:00.000Z',
        '2026-02-25T08:00:00.000Z',
        '2026-03-28T08:00:00.000Z',
      ]);
      // Berlin: 28 March is still CET (+1), 27 April is CEST (+2); 08:00 local both times.
      const berlin = parseSchedule('0 0 8 L-3 * ?', 'Europe/Berlin');
      assert.deepEqual(iso(berlin.nextRuns(2, at('2026-03-28T06:00:00Z'))), [
        '2026-03-28T07:00:00.000Z',
        '2026-04-27T06:00:00.000Z',
      ]);
      // runs on the day itself when the time is still ahead, and honours month and year
      assert.equal(utc.next(at('2026-01-28T07:59:59Z'))?.toISOString(), '2026-01-28T08:00:00.000Z');
      const inDecember2026 = parseSchedule('0 0/30 8 L-1 DEC ? 2026', 'UTC');
      assert.deepEqual(iso(inDecember2026.nextRuns(5, at('2026-01-01T00:00:00Z'))), [
        '2026-12-30T08:00:00.000Z',
        '2026-12-30T08:30:00.000Z',
      ]);
      // a month too short for the offset has no run
      assert.equal(parseSchedule('0 0 0 L-29 2 ? *', 'UTC').next(at('2026-01-01T00:00:00Z')), null);
    });

    it('1W in a month whose 1st is a Saturday runs on Monday the 3rd', () => {
      const schedule = parseSchedule('0 30 8 1W * ? *', 'UTC');
      // 1 August 2026 is a Saturday; the nearest weekday in the same month is Monday 3 August.
      assert.equal(schedule.next(at('2026-07-15T00:00:00Z'))?.toISOString(), '2026-08-03T08:30:00.000Z');
      // 15 February 2026 is a Sunday → Monday 16th
      assert.equal(
        parseSchedule('0 0 8 15W * ? *', 'UTC').next(at('2026-02-01T00:00:00Z'))?.toISOString(),
        '2026-02-16T08:00:00.000Z',
      );
      // LW: last weekday; 31 January 2026 is a Saturday → Friday 30th
      assert.equal(
        parseSchedule('0 0 8 LW * ? *', 'UTC').next(at('2026-01-01T00:00:00Z'))?.toISOString(),
        '2026-01-30T08:00:00.000Z',
      );
    });

    it('6#3 is the third Friday, 2#1 the first Monday, 6L the last Friday', () => {
      const from = at('2026-01-01T00:00:00Z');
      assert.deepEqual(iso(parseSchedule('0 0 0 ? * 6#3 *', 'UTC').nextRuns(2, from)), [
        '2026-01-16T00:00:00.000Z',
        '2026-02-20T00:00:00.000Z',
      ]);
      assert.equal(
        parseSchedule('0 0 0 ? * 2#1 *', 'UTC').next(from)?.toISOString(),
        '2026-01-05T00:00:00.000Z',
      );
      assert.deepEqual(iso(parseSchedule('0 0 0 ? * 6L *', 'UTC').nextRuns(2, from)), [
        '2026-01-30T00:00:00.000Z',
        '2026-02-27T00:00:00.000Z',
      ]);
      // a fifth Monday exists only in some months: nothing runs in the others
      assert.equal(
        parseSchedule('0 0 0 ? * 2#5 *', 'UTC').next(from)?.toISOString(),
        '2026-03-30T00:00:00.000Z',
      );
      // L alone in day-of-week is Saturday
      assert.equal(
        parseSchedule('0 0 0 ? * L *', 'UTC').next(from)?.toISOString(),
        '2026-01-03T00:00:00.000Z',
      );
    });

    it('a year field limits the runs: 0 0 12 1 1 ? 2027 runs once, then never', () => {
      const schedule = parseSchedule('0 0 12 1 1 ? 2027', 'UTC');
      assert.deepEqual(iso(schedule.nextRuns(5, at('2026-01-01T00:00:00Z'))), ['2027-01-01T12:00:00.000Z']);
      assert.equal(schedule.next(at('2027-01-01T12:00:00Z')), null);
      assert.deepEqual(
        iso(parseSchedule('0 0 0 1 1 ? 2026-2030/2', 'UTC').nextRuns(5, at('2026-06-01T00:00:00Z'))),
        ['2028-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z'],
      );
    });
  });

  describe("Quartz.NET forms (its CronExpression's own tests: test/core/quartz-cases.test.ts)", () => {
    const runs = (expression: string, from: string, count: number, timeZone = 'UTC'): string[] =>
      iso(parseSchedule(expression, timeZone).nextRuns(count, at(from)));

    it('a wrap-around hour range 22-2 is an overnight window: 22, 23, 0, 1 and 2 o’clock', () => {
      assert.deepEqual(runs('0 0 22-2 * * ?', '2026-01-01T12:00:00Z', 6), [
        '2026-01-01T22:00:00.000Z',
        '2026-01-01T23:00:00.000Z',
        '2026-01-02T00:00:00.000Z',
        '2026-01-02T01:00:00.000Z',
        '2026-01-02T02:00:00.000Z',
        '2026-01-02T22:00:00.000Z',
      ]);
      assert.equal(parseSchedule('0 0 22-2 * * ?').describe(), 'Every hour, between 22:00 and 02:00');
    });

    it('counts a step across the wrap as Quartz.NET does: hours 22-4/3 are 22, 1 and 4', () => {
      assert.deepEqual(runs('0 0 22-4/3 * * ?', '2026-01-01T12:00:00Z', 4), [
        '2026-01-01T22:00:00.000Z',
        '2026-01-02T01:00:00.000Z',
        '2026-01-02T04:00:00.000Z',
        '2026-01-02T22:00:00.000Z',
      ]);
    });

    it('wraps seconds, minutes, days of the month and months too', () => {
      assert.deepEqual(runs('58-2 0 12 * * ?', '2026-01-01T00:00:00Z', 6), [
        '2026-01-01T12:00:00.000Z',
        '2026-01-01T12:00:01.000Z',
        '2026-01-01T12:00:02.000Z',
        '2026-01-01T12:00:58.000Z',
        '2026-01-01T12:00:59.000Z',
        '2026-01-02T12:00:00.000Z',
      ]);
      assert.deepEqual(runs('0 55-5/5 12 * * ?', '2026-01-01T00:00:00Z', 3), [
        '2026-01-01T12:00:00.000Z',
        '2026-01-01T12:05:00.000Z',
        '2026-01-01T12:55:00.000Z',
      ]);
      // 30-2: the 30th, the 31st, the 1st and the 2nd (February has no 30th)
      assert.deepEqual(runs('0 0 8 30-2 * ?', '2026-01-15T00:00:00Z', 5), [
        '2026-01-30T08:00:00.000Z',
        '2026-01-31T08:00:00.000Z',
        '2026-02-01T08:00:00.000Z',
        '2026-02-02T08:00:00.000Z',
        '2026-03-01T08:00:00.000Z',
      ]);
      assert.deepEqual(runs('0 0 8 1 NOV-FEB ?', '2026-03-01T00:00:00Z', 5), [
        '2026-11-01T08:00:00.000Z',
        '2026-12-01T08:00:00.000Z',
        '2027-01-01T08:00:00.000Z',
        '2027-02-01T08:00:00.000Z',
        '2027-11-01T08:00:00.000Z',
      ]);
    });

    it('FRI-TUE and 6-3 are Friday to Tuesday', () => {
      const fridayToTuesday = [
        '2026-01-02T08:00:00.000Z',
        '2026-01-03T08:00:00.000Z',
        '2026-01-04T08:00:00.000Z',
        '2026-01-05T08:00:00.000Z',
        '2026-01-06T08:00:00.000Z',
        '2026-01-09T08:00:00.000Z',
      ];
      assert.deepEqual(runs('0 0 8 ? * FRI-TUE', '2026-01-01T00:00:00Z', 6), fridayToTuesday);
      assert.deepEqual(runs('0 0 8 ? * 6-3', '2026-01-01T00:00:00Z', 6), fridayToTuesday);
      assert.equal(parseSchedule('0 0 8 ? * FRI-TUE').describe(), 'At 08:00, Friday through Tuesday');
    });

    it('keeps an overnight window DST-safe in New York: each hour once, the repeated one too', () => {
      // 8 March 2026: 02:00 EST does not exist → the 02:00 run is at 03:00 EDT; five runs.
      assert.deepEqual(runs('0 0 22-2 * * ?', '2026-03-07T12:00:00-05:00', 5, 'America/New_York'), [
        '2026-03-08T03:00:00.000Z',
        '2026-03-08T04:00:00.000Z',
        '2026-03-08T05:00:00.000Z',
        '2026-03-08T06:00:00.000Z',
        '2026-03-08T07:00:00.000Z',
      ]);
      // 1 November 2026: 01:00 comes twice; the fixed 01:00 runs once (EDT), then 02:00 EST.
      assert.deepEqual(runs('0 0 22-2 * * ?', '2026-10-31T12:00:00-04:00', 5, 'America/New_York'), [
        '2026-11-01T02:00:00.000Z',
        '2026-11-01T03:00:00.000Z',
        '2026-11-01T04:00:00.000Z',
        '2026-11-01T05:00:00.000Z',
        '2026-11-01T07:00:00.000Z',
      ]);
      // Every 30 minutes in the window is an interval job: both copies of 01:00-01:59 run,
      // and the spring-forward night skips the 02:xx that do not exist.
      const fallBack = runs('0 0/30 22-2 * * ?', '2026-10-31T12:00:00-04:00', 13, 'America/New_York');
      assert.equal(fallBack.filter((run) => run < '2026-11-02').length, 12);
      assert.equal(new Set(fallBack).size, fallBack.length);
      const springForward = runs('0 0/30 22-2 * * ?', '2026-03-07T12:00:00-05:00', 9, 'America/New_York');
      assert.equal(springForward.filter((run) => run < '2026-03-09').length, 8);
    });

    it('FRI/2 is every other Friday, counted from where the search starts', () => {
      assert.deepEqual(runs('0 0 8 ? * FRI/2', '2026-01-02T00:00:00Z', 3), [
        '2026-01-02T08:00:00.000Z',
        '2026-01-16T08:00:00.000Z',
        '2026-01-30T08:00:00.000Z',
      ]);
      assert.equal(parseSchedule('0 0 8 ? * FRI/2').describe(), 'At 08:00, only on Friday, every 2 weeks');
    });

    it('31W runs in every month: the weekday nearest the 31st, or the last day when shorter', () => {
      assert.deepEqual(runs('0 0 8 31W * ?', '2026-01-01T00:00:00Z', 5), [
        '2026-01-30T08:00:00.000Z', // 31 January is a Saturday
        '2026-02-27T08:00:00.000Z', // 28 February is a Saturday
        '2026-03-31T08:00:00.000Z',
        '2026-04-30T08:00:00.000Z',
        '2026-05-29T08:00:00.000Z', // 31 May is a Sunday, the last day: back to Friday
      ]);
    });

    it('L-3W, LW-2 and L, LW or L-n inside lists', () => {
      // 28 March 2026 (L-3) is a Saturday → Friday 27th
      assert.deepEqual(runs('0 0 8 L-3W * ?', '2026-03-01T00:00:00Z', 2), [
        '2026-03-27T08:00:00.000Z',
        '2026-04-27T08:00:00.000Z',
      ]);
      assert.deepEqual(runs('0 0 8 1,15,L,LW * ?', '2026-01-01T00:00:00Z', 5), [
        '2026-01-01T08:00:00.000Z',
        '2026-01-15T08:00:00.000Z',
        '2026-01-30T08:00:00.000Z',
        '2026-01-31T08:00:00.000Z',
        '2026-02-01T08:00:00.000Z',
      ]);
      assert.deepEqual(runs('0 0 8 L-1,L-2 * ?', '2026-02-01T00:00:00Z', 2), [
        '2026-02-26T08:00:00.000Z',
        '2026-02-27T08:00:00.000Z',
      ]);
      const describe = (expression: string): string => parseSchedule(expression).describe();
      assert.equal(describe('0 0 8 1,15,L * ?'), 'At 08:00, on day 1, day 15 and the last day of the month');
      assert.equal(
        describe('0 0 8 L-3W * ?'),
        'At 08:00, on the weekday nearest 3 days before the last day of the month',
      );
      assert.equal(describe('0 0 8 LW-2 * ?'), 'At 08:00, 2 days before the last weekday of the month');
    });

    it('a year field with both day fields runs on either day, in that year only', () => {
      assert.deepEqual(runs('0 0 12 13 * FRI 2026', '2026-11-10T00:00:00Z', 5), [
        '2026-11-13T12:00:00.000Z', // the 13th and a Friday
        '2026-11-20T12:00:00.000Z',
        '2026-11-27T12:00:00.000Z',
        '2026-12-04T12:00:00.000Z',
        '2026-12-11T12:00:00.000Z',
      ]);
      assert.deepEqual(runs('0 0 12 13 * FRI 2026', '2026-12-12T00:00:00Z', 5), [
        '2026-12-13T12:00:00.000Z',
        '2026-12-18T12:00:00.000Z',
        '2026-12-25T12:00:00.000Z',
      ]);
    });
  });

  describe('invalid expressions', () => {
    it('rejects them with a CronExpressionError that says what is wrong', () => {
      assertCronError('61 * * * * ?', /seconds value 61 is out of range: use 0-59/);
      assertCronError('? ? ? ? ? ?', /'\?' is only allowed in the day-of-month and day-of-week fields/);
      assertCronError('0 0 0 ? * 9 *', /day-of-week value 9 is out of range: Quartz numbers the days 1-7/);
      assertCronError('0 0 0 ? * 0 *', /day-of-week value 0 is out of range.*1 = SUN/);
      assertCronError('0 8 * * 8', /day-of-week value 8 is out of range.*0-7/);
      assertCronError('hello', /needs 6 or 7 fields .* or 5 fields .* has 1/);
      assertCronError('0 0 0 1 1 ? 2027 1', /has 8/);
      assertCronError('', /empty/);
      assertCronError('0 0 0 ? * ? *', /cannot both be '\?'/);
      assertCronError('0 0 25 * * ?', /hours value 25 is out of range: use 0-23/);
      assertCronError('0 0 0 32 * ?', /day-of-month value 32/);
      assertCronError('0 0 0 1 13 ?', /month value 13 .* JAN-DEC/);
      assertCronError('0 0 0 1 1 ? 1800', /year value 1800 is out of range: use 1970-2099/);
      assertCronError('0 0 8 ? * MONDAY', /day-of-week field 'MONDAY'/);
      assertCronError('0 0 0 ? * 2#6', /after '#' must be 1-5/);
      assertCronError('0 0 8 L-31 * ?', /1-30/);
      assertCronError('0 0 8 LW-31 * ?', /1-30/);
      assertCronError('0 0 0 1 1 ? 2030-2026', /year range '2030-2026' runs backwards/);
      assertCronError('0 0 8 0W * ?', /1-31/);
      assertCronError('0 0 8 32W * ?', /day-of-month value 32|1-31/);
      assertCronError('0 0 8 1-5W * ?', /not one of L, L-n, LW, L-nW, LW-n or nW/);
      assertCronError('0 0 8 ? * FRI/6', /every n-th week: n must be 1-5/);
      assertCronError('0 0 8 ? * SAT,SUN,L', /Invalid cron expression/);
    });

    it('validateExpression returns undefined for a valid expression', () => {
      for (const expression of ['0 32 19 * * ? *', '0 8 * * 1-5', '0 0 8 L-3 * ?', '  0 0 8 ? * MON-FRI  ']) {
        assert.equal(validateExpression(expression), undefined, expression);
      }
    });

    it('rejects an unknown time zone', () => {
      assert.throws(() => parseSchedule('0 0 8 * * ?', 'Mars/Olympus'), CronExpressionError);
      assert.equal(parseSchedule('0 0 8 * * ?').timeZone, '');
    });
  });

  describe('describe()', () => {
    // cronstrue's wording, Quartz forms included (L, W, #, 7 fields, day-of-week 1 = Sunday).
    const cronstrue: [string, string][] = [
      ['0 32 19 * * ? *', 'At 19:32'],
      ['30 32 19 * * ? *', 'At 19:32:30'],
      ['0 0/15 * * * ? *', 'Every 15 minutes'],
      ['0 0 * * * ? *', 'Every hour'],
      ['0 15 * * * ? *', 'At 15 minutes past the hour'],
      ['0 0 9,12,16 * * ? *', 'At 09:00, 12:00 and 16:00'],
      ['0 0 8 ? * MON-FRI *', 'At 08:00, Monday through Friday'],
      ['0 0 8 ? * 2-6 *', 'At 08:00, Monday through Friday'],
      ['0 0 8 ? * 1', 'At 08:00, only on Sunday'],
      ['0 0 8 ? * L', 'At 08:00, only on Saturday'],
      ['0 8 * * 1-5', 'At 08:00, Monday through Friday'],
      ['0 8 * * 0', 'At 08:00, only on Sunday'],
      ['0 8 * * 7', 'At 08:00, only on Sunday'],
      ['0 0 8 L * ? *', 'At 08:00, on the last day of the month'],
      ['0 0 8 L-3 * ?', 'At 08:00, 3 days before the last day of the month'],
      ['0 0 8 LW * ?', 'At 08:00, on the last weekday of the month'],
      ['0 0 8 15W * ?', 'At 08:00, on the weekday nearest day 15 of the month'],
      ['0 0 0 ? * 6#3 *', 'At 00:00, on the third Friday of the month'],
      ['0 0 0 ? * 6L *', 'At 00:00, on the last Friday of the month'],
      ['0 */5 8-17 ? * MON-FRI', 'Every 5 minutes, between 08:00 and 17:59, Monday through Friday'],
      ['*/10 * * * * ?', 'Every 10 seconds'],
      ['0 0 0 15 * ? 2027', 'At 00:00, on day 15 of the month, only in 2027'],
    ];
    for (const [expression, text] of cronstrue) {
      it(`${expression} → ${text}`, () => assert.equal(parseSchedule(expression).describe(), text));
    }

    // Our fixes: Unix runs on the day-of-month OR the day-of-week; a single date reads as a date.
    const fixes: [string, string][] = [
      ['0 8 1 * 1', 'At 08:00, on day 1 of the month or on Monday'],
      ['0 8 1-7 * 1-5', 'At 08:00, between day 1 and 7 of the month or on Monday through Friday'],
      ['0 8 1,15 * 5#2', 'At 08:00, on day 1 and 15 of the month or on the second Friday of the month'],
      ['0 8 1 7 1', 'At 08:00, on day 1 of the month or on Monday, only in July'],
      ['0 0 0 1 7 ? *', 'At 00:00, on July 1'],
      ['0 8 1 7 *', 'At 08:00, on July 1'],
      ['0 0 12 1 1 ? 2027', 'At 12:00, on January 1, 2027'],
      ['0 0 0 1 JUL ? 2026,2027', 'At 00:00, on July 1, only in 2026 and 2027'],
    ];
    for (const [expression, text] of fixes) {
      it(`${expression} → ${text}`, () => assert.equal(parseSchedule(expression).describe(), text));
    }

    it('words a list of nearest weekdays itself (cronstrue has no words for it)', () => {
      assert.equal(
        parseSchedule(' 0 0 8 1W,15W * ? ').describe(),
        'At 08:00, on the weekday nearest day 1 and the weekday nearest day 15 of the month',
      );
    });

    it('quotes, as written, fields that cronstrue cannot word', () => {
      const fields = { second: '0', minute: '0', hour: '8', dayOfMonth: '?', month: '*', year: '*' };
      assert.equal(
        describeFields({ ...fields, dayOfWeek: 'X', weekdayBase: 1, dayFieldsOr: false }, '0 0 8 ? * X'),
        "'0 0 8 ? * X' (no plain-English description for this expression)",
      );
    });
  });

  describe('buildExpression', () => {
    const from = at('2026-01-01T00:00:00Z');
    const cases: [Preset, string, string, string[]][] = [
      [
        { kind: 'hourly', minute: 15 },
        '0 15 * * * ? *',
        'At 15 minutes past the hour',
        ['2026-01-01T00:15:00.000Z'],
      ],
      [{ kind: 'daily', hour: 23, minute: 0 }, '0 0 23 * * ? *', 'At 23:00', ['2026-01-01T23:00:00.000Z']],
      [
        { kind: 'weekly', days: [6, 2, 3, 4, 5], hour: 8, minute: 0 },
        '0 0 8 ? * MON-FRI *',
        'At 08:00, Monday through Friday',
        ['2026-01-01T08:00:00.000Z', '2026-01-02T08:00:00.000Z', '2026-01-05T08:00:00.000Z'],
      ],
      [
        { kind: 'weekly', days: [2, 4, 6], hour: 8, minute: 0 },
        '0 0 8 ? * MON,WED,FRI *',
        'At 08:00, only on Monday, Wednesday, and Friday',
        ['2026-01-02T08:00:00.000Z', '2026-01-05T08:00:00.000Z'],
      ],
      [
        { kind: 'weekly', days: [1, 7], hour: 9, minute: 30 },
        '0 30 9 ? * SUN,SAT *',
        'At 09:30, only on Sunday and Saturday',
        ['2026-01-03T09:30:00.000Z', '2026-01-04T09:30:00.000Z'],
      ],
      [
        { kind: 'monthly', day: 'L', hour: 8, minute: 0 },
        '0 0 8 L * ? *',
        'At 08:00, on the last day of the month',
        ['2026-01-31T08:00:00.000Z', '2026-02-28T08:00:00.000Z'],
      ],
      [
        { kind: 'monthly', day: 15, hour: 9, minute: 30 },
        '0 30 9 15 * ? *',
        'At 09:30, on day 15 of the month',
        ['2026-01-15T09:30:00.000Z'],
      ],
      [
        { kind: 'once', at: '2026-05-27T09:30' },
        '0 30 9 27 5 ? 2026',
        'At 09:30, on May 27, 2026',
        ['2026-05-27T09:30:00.000Z'],
      ],
    ];
    for (const [preset, expression, text, runs] of cases) {
      it(`${JSON.stringify(preset)} → ${expression}, round-trips through parseSchedule`, () => {
        assert.equal(buildExpression(preset), expression);
        const schedule = parseSchedule(expression, 'UTC');
        assert.equal(schedule.describe(), text);
        assert.deepEqual(iso(schedule.nextRuns(runs.length, from)), runs);
      });
    }

    it('a one-time schedule runs once at that local time in its zone, then never', () => {
      const schedule = parseSchedule(
        buildExpression({ kind: 'once', at: '2026-05-27T09:30' }),
        'America/New_York',
      );
      assert.deepEqual(iso(schedule.nextRuns(3, from)), ['2026-05-27T13:30:00.000Z']);
      assert.equal(schedule.next(at('2026-05-27T13:30:00Z')), null);
    });

    it('all seven days is every day', () => {
      assert.equal(
        buildExpression({ kind: 'weekly', days: [1, 2, 3, 4, 5, 6, 7], hour: 6, minute: 0 }),
        '0 0 6 ? * * *',
      );
    });

    it('rejects impossible presets', () => {
      const bad: Preset[] = [
        { kind: 'hourly', minute: 60 },
        { kind: 'daily', hour: 24, minute: 0 },
        { kind: 'daily', hour: 1.5, minute: 0 },
        { kind: 'weekly', days: [], hour: 8, minute: 0 },
        { kind: 'weekly', days: [0], hour: 8, minute: 0 },
        { kind: 'monthly', day: 32, hour: 8, minute: 0 },
        { kind: 'once', at: '2026-02-30T09:00' },
        { kind: 'once', at: 'tomorrow' },
      ];
      for (const preset of bad)
        assert.throws(() => buildExpression(preset), CronExpressionError, JSON.stringify(preset));
    });
  });

  describe('daylight saving policy', () => {
    const HOUR = 3_600_000;
    const gaps = (runs: readonly Date[]): number[] =>
      runs.slice(1).map((run, index) => run.getTime() - runs[index].getTime());

    describe('America/New_York (2026-03-08 spring forward, 2026-11-01 fall back)', () => {
      const zone = 'America/New_York';

      it('hourly fires every real hour when clocks spring forward: nothing twice in the skipped hour', () => {
        const runs = parseSchedule('0 0 * * * ?', zone).nextRuns(4, at('2026-03-08T04:30:00Z'));
        // 00:00 EST, 01:00 EST, 03:00 EDT, 04:00 EDT
        assert.deepEqual(iso(runs), [
          '2026-03-08T05:00:00.000Z',
          '2026-03-08T06:00:00.000Z',
          '2026-03-08T07:00:00.000Z',
          '2026-03-08T08:00:00.000Z',
        ]);
        assert.equal(runsOn('0 0 * * * ?', zone, '2026-03-08').length, 23);
      });

      it('hourly fires in both copies of the repeated hour when clocks fall back', () => {
        const runs = parseSchedule('0 0 * * * ?', zone).nextRuns(4, at('2026-11-01T03:30:00Z'));
        // 00:00 EDT, 01:00 EDT, 01:00 EST, 02:00 EST
        assert.deepEqual(iso(runs), [
          '2026-11-01T04:00:00.000Z',
          '2026-11-01T05:00:00.000Z',
          '2026-11-01T06:00:00.000Z',
          '2026-11-01T07:00:00.000Z',
        ]);
        assert.equal(runsOn('0 0 * * * ?', zone, '2026-11-01').length, 25);
      });

      it('every 15 minutes keeps a 15-minute rhythm through both transitions', () => {
        const fall = parseSchedule('0 */15 * * * ?', zone).nextRuns(12, at('2026-11-01T04:50:00Z'));
        assert.equal(fall[0].toISOString(), '2026-11-01T05:00:00.000Z'); // 01:00 EDT
        assert.ok(fall.some((run) => run.toISOString() === '2026-11-01T06:00:00.000Z')); // 01:00 EST
        assert.deepEqual(new Set(gaps(fall)), new Set([HOUR / 4]));
        const spring = parseSchedule('0 */15 * * * ?', zone).nextRuns(8, at('2026-03-08T06:20:00Z'));
        assert.deepEqual(new Set(gaps(spring)), new Set([HOUR / 4]));
        assert.equal(runsOn('0 */15 * * * ?', zone, '2026-03-08').length, 23 * 4);
        assert.equal(runsOn('0 */15 * * * ?', zone, '2026-11-01').length, 25 * 4);
      });

      it('a daily 02:30 job runs once on the spring-forward day, at 03:00 EDT, and once when clocks fall back', () => {
        const schedule = parseSchedule('0 30 2 * * ?', zone);
        assert.deepEqual(iso(schedule.nextRuns(2, at('2026-03-07T12:00:00Z'))), [
          '2026-03-08T07:00:00.000Z', // 03:00 EDT: 02:30 does not exist
          '2026-03-09T06:30:00.000Z', // 02:30 EDT
        ]);
        assert.deepEqual(iso(runsOn('0 30 2 * * ?', zone, '2026-03-08')), ['2026-03-08T07:00:00.000Z']);
        assert.deepEqual(iso(runsOn('0 30 2 * * ?', zone, '2026-11-01')), ['2026-11-01T07:30:00.000Z']);
      });

      it('a daily 01:30 job runs once when 01:00-02:00 repeats, at the first (EDT) 01:30', () => {
        assert.deepEqual(iso(runsOn('0 30 1 * * ?', zone, '2026-11-01')), ['2026-11-01T05:30:00.000Z']);
        assert.deepEqual(iso(runsOn('30 1 * * *', zone, '2026-11-01')), ['2026-11-01T05:30:00.000Z']);
        // a list of times of day counts as fixed times too
        assert.deepEqual(iso(runsOn('0 30 1,13 * * ?', zone, '2026-11-01')), [
          '2026-11-01T05:30:00.000Z',
          '2026-11-01T18:30:00.000Z',
        ]);
      });
    });

    describe('Europe/Berlin (2026-03-29 spring forward, 2026-10-25 fall back)', () => {
      const zone = 'Europe/Berlin';

      it('hourly skips nothing and repeats nothing when clocks spring forward', () => {
        const runs = parseSchedule('0 0 * * * ?', zone).nextRuns(4, at('2026-03-28T22:30:00Z'));
        // 00:00 CET, 01:00 CET, 03:00 CEST, 04:00 CEST
        assert.deepEqual(iso(runs), [
          '2026-03-28T23:00:00.000Z',
          '2026-03-29T00:00:00.000Z',
          '2026-03-29T01:00:00.000Z',
          '2026-03-29T02:00:00.000Z',
        ]);
        assert.deepEqual(new Set(gaps(runsOn('0 0 * * * ?', zone, '2026-03-29'))), new Set([HOUR]));
      });

      it('hourly fires at 02:00 CEST and 02:00 CET when clocks fall back', () => {
        const runs = parseSchedule('0 0 * * * ?', zone).nextRuns(4, at('2026-10-24T22:30:00Z'));
        // 01:00 CEST, 02:00 CEST, 02:00 CET, 03:00 CET
        assert.deepEqual(iso(runs), [
          '2026-10-24T23:00:00.000Z',
          '2026-10-25T00:00:00.000Z',
          '2026-10-25T01:00:00.000Z',
          '2026-10-25T02:00:00.000Z',
        ]);
        assert.equal(runsOn('0 0 * * * ?', zone, '2026-10-25').length, 25);
      });

      it('a daily 02:30 job runs exactly once on both transition days', () => {
        // spring: 02:30 does not exist → 03:00 CEST
        assert.deepEqual(iso(runsOn('0 30 2 * * ?', zone, '2026-03-29')), ['2026-03-29T01:00:00.000Z']);
        // fall: 02:30 happens twice (CEST, then CET) → only the first
        assert.deepEqual(iso(runsOn('0 30 2 * * ?', zone, '2026-10-25')), ['2026-10-25T00:30:00.000Z']);
        assert.equal(
          parseSchedule('0 30 2 * * ?', zone).next(at('2026-10-25T00:30:00Z'))?.toISOString(),
          '2026-10-26T01:30:00.000Z',
        );
      });
    });
  });
});
