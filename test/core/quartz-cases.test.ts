/**
 * Quartz.NET's own CronExpression test cases (test/fixtures/quartz-cron/, data read from its C# tests,
 * Apache-2.0) run against our parser. Every case agrees, except the ones in EXCEPTIONS, each with its
 * reason (also listed in the README's Cron section). An exception that starts to agree fails too, so
 * that the list stays true.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSchedule, validateExpression, type Schedule } from '../../src/core/cron.js';

const FIXTURES = join(__dirname, '../../../test/fixtures/quartz-cron');

interface Base {
  readonly test: string;
  readonly expression: string;
  readonly timeZone?: string;
}
type Case = Base &
  (
    | { kind: 'valid'; expected: boolean }
    | { kind: 'next'; after: string; expected: string[] }
    | { kind: 'satisfies'; at: string; expected: boolean }
    | { kind: 'days'; month: string; time: string; days: number[]; exhaustive: boolean }
    | { kind: 'fireDays'; from: string; runs: number; month: string; days: number[] }
    | { kind: 'scan'; from: string; stepSeconds: number; count: number; fires: string[] }
    | { kind: 'progress'; from: string; runs: number }
    | {
        kind: 'walk';
        from: string;
        to: string;
        count?: number;
        includes?: string[];
        equals?: string[];
        countBetween?: { from: string; to: string; count: number };
      }
  );

interface Fixture {
  readonly source: string;
  readonly cases: Case[];
}

/**
 * Where we differ from Quartz.NET, keyed by "<C# test> <expression>". The README lists the same.
 */
const DST_GAP =
  'a daily time inside the spring-forward gap runs at the end of the gap (03:00), as croner and Vixie cron ' +
  'do; Quartz.NET shifts it by the DST delta (03:30), which its own test calls a current-behaviour pin';
const EXCEPTIONS: Record<string, string> = {
  'GetTimeAfter_FixedTimeInsideGap_FiresOnceShiftedByTransitionDelta 0 30 2 * * ?': DST_GAP,
  'GetTimeAfter_FixedTimeInsideGap_FiresOnceShiftedByTransitionDelta 0 15 2 * * ?': DST_GAP,
  'IsSatisfiedBy_InstantReturnedForInGapFixedTime_IsCurrentlyFalse 0 30 2 * * ?': DST_GAP,
  'TestInvalidCharactersAfterAsterisk * * ? */5 *':
    'five fields are classic Unix cron here (minute hour day-of-month month day-of-week), a documented ' +
    'extension; Quartz.NET only reads 6 or 7 fields',
};

const instant = (text: string): number => Date.parse(text);
const iso = (time: number): string => new Date(time).toISOString();

function isSatisfiedBy(schedule: Schedule, at: number): boolean {
  // Every run is on a whole second, so the run after the second before is `at` exactly when it runs.
  return schedule.next(new Date(at - 1000))?.getTime() === at;
}

/** Runs strictly after `from` and strictly before `to`. */
function walk(schedule: Schedule, from: number, to: number): number[] {
  const runs: number[] = [];
  let run = schedule.next(new Date(from));
  while (run !== null && run.getTime() < to && runs.length < 5000) {
    runs.push(run.getTime());
    run = schedule.next(run);
  }
  return runs;
}

function check(c: Case): void {
  if (c.kind === 'valid') {
    const error = validateExpression(c.expression);
    if (c.expected) assert.equal(error, undefined, `refused: ${error ?? ''}`);
    else assert.notEqual(error, undefined, 'accepted');
    return;
  }
  const schedule = parseSchedule(c.expression, c.timeZone ?? 'UTC');
  switch (c.kind) {
    case 'next': {
      const runs = schedule.nextRuns(c.expected.length, new Date(c.after));
      assert.deepEqual(
        runs.map((run) => run.toISOString()),
        c.expected.map((text) => iso(instant(text))),
      );
      return;
    }
    case 'satisfies':
      assert.equal(isSatisfiedBy(schedule, instant(c.at)), c.expected);
      return;
    case 'days': {
      const [year, month] = c.month.split('-').map(Number);
      const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
      const fired: number[] = [];
      for (let day = 1; day <= last; day++) {
        const at = instant(`${c.month}-${String(day).padStart(2, '0')}T${c.time}Z`);
        if (isSatisfiedBy(schedule, at)) fired.push(day);
      }
      const expected = [...new Set(c.days)].sort((a, b) => a - b);
      if (c.exhaustive) assert.deepEqual(fired, expected);
      else
        for (const day of expected)
          assert.ok(fired.includes(day), `day ${day} does not run (runs: ${fired.join(',')})`);
      return;
    }
    case 'fireDays': {
      const days = new Set<number>();
      for (const run of schedule.nextRuns(c.runs, new Date(c.from))) {
        if (run.toISOString().startsWith(c.month)) days.add(run.getUTCDate());
      }
      assert.deepEqual(
        [...days].sort((a, b) => a - b),
        [...c.days].sort((a, b) => a - b),
      );
      return;
    }
    case 'scan': {
      const fired: string[] = [];
      for (let i = 0; i < c.count; i++) {
        const at = instant(c.from) + i * c.stepSeconds * 1000;
        if (isSatisfiedBy(schedule, at)) fired.push(iso(at));
      }
      assert.deepEqual(
        fired,
        c.fires.map((text) => iso(instant(text))),
      );
      return;
    }
    case 'progress': {
      const runs = schedule.nextRuns(c.runs, new Date(c.from)).map((run) => run.getTime());
      assert.equal(runs.length, c.runs);
      runs.slice(1).forEach((run, i) => assert.ok(run > runs[i], `${iso(run)} follows ${iso(runs[i])}`));
      return;
    }
    case 'walk': {
      const runs = walk(schedule, instant(c.from), instant(c.to));
      if (c.count !== undefined) assert.equal(runs.length, c.count);
      for (const text of c.includes ?? []) assert.ok(runs.includes(instant(text)), `no run at ${text}`);
      if (c.equals !== undefined)
        assert.deepEqual(
          runs.map(iso),
          c.equals.map((text) => iso(instant(text))),
        );
      if (c.countBetween !== undefined) {
        const { from, to, count } = c.countBetween;
        assert.equal(runs.filter((run) => run >= instant(from) && run < instant(to)).length, count);
      }
      return;
    }
  }
}

describe("Quartz.NET's CronExpression tests", () => {
  const files = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));
  let total = 0;
  let agreed = 0;
  const used = new Set<string>();

  for (const file of files) {
    const fixture = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as Fixture;
    describe(fixture.source, () => {
      fixture.cases.forEach((c, index) => {
        const key = `${c.test} ${c.expression.trim()}`;
        const reason = EXCEPTIONS[key];
        const title = `#${index + 1} ${c.test}: '${c.expression}' (${c.kind})`;
        it(reason === undefined ? title : `${title}, a known difference: ${reason}`, () => {
          total++;
          if (reason === undefined) {
            check(c);
            agreed++;
            return;
          }
          used.add(key);
          assert.throws(() => check(c), 'agrees with Quartz.NET now: remove it from the exceptions');
        });
      });
    });
  }

  after(() => {
    console.log(`      Quartz.NET cases: ${agreed} of ${total} agree, ${total - agreed} listed exceptions`);
  });

  describe('exceptions', () => {
    // Declared last, so it runs after every case above.
    it('lists no exception that matches no case', () => {
      for (const key of Object.keys(EXCEPTIONS)) assert.ok(used.has(key), `unused exception: ${key}`);
    });
  });
});
