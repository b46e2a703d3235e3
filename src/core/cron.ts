/**
 * Cron schedules for the Cron trigger (docs/nodes.md §3, docs/imis-api.md §8). Plain logic, no Node-RED.
 *
 * Parsing and all date math are croner's. This module only checks what croner does not check the
 * Quartz way, rewrites a few Quartz spellings into croner's, and picks croner's options. The Quartz
 * form follows Quartz.NET's CronExpression, proven by its own tests (test/fixtures/quartz-cron/):
 *
 * - Form by field count: 6 or 7 fields = Quartz (second minute hour day-of-month month day-of-week
 *   [year]; day-of-week 1-7 = SUN-SAT), 5 fields = classic Unix cron (minute hour day-of-month month
 *   day-of-week; day-of-week 0-7, 0 and 7 = Sunday).
 * - Days: a day matching the day-of-month OR the day-of-week runs, in both forms. In Quartz, `?` in
 *   one field leaves the other alone, and a `*` in either is every day (as Quartz.NET); `?` in both is
 *   rejected. Unix keeps cron's rule (a `*` in one field leaves the other alone).
 * - Rewrites: names become numbers; a step with a start value (`0/15`) becomes `start-max/step`; a
 *   range that wraps around (`22-2`, `FRI-TUE`, `NOV-FEB`, `28-3`, `58-2`) becomes the list of its
 *   values, a step counted across the wrap (`22-4/3` = 22,1,4); day-of-week `L` alone becomes 7
 *   (Saturday).
 * - What croner cannot say is found with croner, one day or one month at a time: day-of-month L and
 *   W items (`L-3`, `LW`, `L-2W`, `LW-2`, `31W`, `1,15,L`): croner finds each month's last day (in
 *   UTC, where days are all 24 hours), the days the items name follow by Quartz.NET's rules, and
 *   croner gives their runs in the schedule's zone. Day-of-week `FRI/2` (every other Friday, counted
 *   from where the search starts, as in Quartz.NET): croner gives the runs of each day it reaches.
 *   Both day fields: the earlier of the two one-field schedules' runs.
 * - Years: Quartz's 1970-2099; croner handles the year field itself (next() is null once exhausted).
 *
 * Daylight saving time. With an IANA zone (or '' = the server's zone) runs are wall-clock times in
 * that zone. croner applies Vixie cron's rules to "fixed-time" and "interval" jobs; we choose its
 * `fixedTimeRule` per expression so that the classes are:
 * - Interval jobs: the hour field covers all 24 hours (the job fires every hour or more often, e.g.
 *   `0 0 * * * ?`, `0 0/15 * * * ?`), or seconds, minutes or hours contain `*` or a step (also a
 *   wrapped one, `22-4/3`). They run at every real instant whose wall-clock time matches: when
 *   clocks fall back, the repeated hour runs again (01:00 EDT and 01:00 EST are both runs); when
 *   clocks spring forward, the wall-clock times that do not exist are skipped (nothing runs twice,
 *   nothing is moved).
 * - Fixed-time jobs: everything else, i.e. plain values, lists or ranges of times of day that do not
 *   cover the whole day (daily `0 30 2 * * ?`, `0 0 9,12,16 * * ?`, overnight `0 0 22-2 * * ?`).
 *   Quartz.NET counts a range as an interval; we keep ranges of times of day fixed. Each listed
 *   time runs once a day: a repeated time runs at its first occurrence (daylight time), and a time
 *   inside the spring-forward gap runs at the end of the gap, the first valid instant (New York
 *   2026-03-08: 02:30 → 03:00 EDT; Berlin 2026-03-29: 02:30 → 03:00 CEST). Quartz.NET moves such
 *   a time by the DST delta instead (02:30 → 03:30); its test calls that a current-behaviour pin.
 */
import type { Cron, CronDate, CronOptions, CronPattern } from 'croner';
import { ExpectedError } from './errors.js';
import { lazy } from './lazy.js';
import { describeFields, type CronFields } from './cron-describe.js';
import { isTimeZone } from './dates.js';

/** croner, loaded when a schedule is first parsed (lazy.ts). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const croner = lazy(() => require('croner') as typeof import('croner'));

function newCron(pattern: string, options: CronOptions): Cron {
  const { Cron } = croner();
  return new Cron(pattern, options);
}

function newCronPattern(...args: ConstructorParameters<typeof CronPattern>): CronPattern {
  const { CronPattern } = croner();
  return new CronPattern(...args);
}

function newCronDate(...args: ConstructorParameters<typeof CronDate>): CronDate {
  const { CronDate } = croner();
  return new CronDate(...args);
}

export class CronExpressionError extends ExpectedError {
  override readonly name = 'CronExpressionError';
}

export interface Schedule {
  /** As the user wrote it. */
  readonly expression: string;
  /** IANA zone; '' = the server's zone. */
  readonly timeZone: string;
  /** The next run strictly after `after` (default now), or null when there is none. */
  next(after?: Date): Date | null;
  /** Up to `count` next runs strictly after `after` (fewer when the schedule ends). */
  nextRuns(count: number, after?: Date): Date[];
  /** Plain English, e.g. "At 08:00 on Monday through Friday". */
  describe(): string;
}

export type Preset =
  | { kind: 'hourly'; minute: number }
  | { kind: 'daily'; hour: number; minute: number }
  /** days: 1-7, 1 = Sunday (Quartz). */
  | { kind: 'weekly'; days: number[]; hour: number; minute: number }
  | { kind: 'monthly'; day: number | 'L'; hour: number; minute: number }
  /** at: local 'YYYY-MM-DDTHH:mm' in the schedule's zone. */
  | { kind: 'once'; at: string };

/** Parses a Quartz (6/7 fields) or Unix (5 fields) expression. Throws CronExpressionError. */
export function parseSchedule(expression: string, timeZone = ''): Schedule {
  const analysis = analyse(expression);
  if (timeZone !== '') checkTimeZone(timeZone);
  const zone = timeZone === '' ? undefined : timeZone;
  let find: (after: Date) => Date | null;
  try {
    find = finder(analysis, zone);
  } catch (error) {
    throw new CronExpressionError(cronerMessage(error));
  }
  return new CronSchedule(expression, timeZone, describeFields(analysis.fields, expression.trim()), find);
}

/** undefined when `expression` is valid, else what is wrong with it. */
export function validateExpression(expression: string): string | undefined {
  try {
    analyse(expression);
    return undefined;
  } catch (error) {
    if (error instanceof CronExpressionError) return error.message;
    throw error;
  }
}

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** The "Build schedule" helper: a preset → a Quartz 7-field expression. Throws CronExpressionError. */
export function buildExpression(preset: Preset): string {
  switch (preset.kind) {
    case 'hourly':
      return `0 ${int(preset.minute, 0, 59, 'minute')} * * * ? *`;
    case 'daily':
      return `0 ${int(preset.minute, 0, 59, 'minute')} ${int(preset.hour, 0, 23, 'hour')} * * ? *`;
    case 'weekly': {
      const time = `0 ${int(preset.minute, 0, 59, 'minute')} ${int(preset.hour, 0, 23, 'hour')}`;
      return `${time} ? * ${weekdays(preset.days)} *`;
    }
    case 'monthly': {
      const time = `0 ${int(preset.minute, 0, 59, 'minute')} ${int(preset.hour, 0, 23, 'hour')}`;
      const day = preset.day === 'L' ? 'L' : int(preset.day, 1, 31, 'day of the month');
      return `${time} ${day} * ? *`;
    }
    case 'once': {
      const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(preset.at.trim());
      if (match === null) {
        throw new CronExpressionError(`One-time date '${preset.at}' must be written YYYY-MM-DDTHH:mm.`);
      }
      const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0));
      const date = new Date(Date.UTC(year, month - 1, day));
      if (
        year < 1970 ||
        year > 2099 ||
        date.getUTCMonth() !== month - 1 ||
        date.getUTCDate() !== day ||
        hour > 23 ||
        minute > 59 ||
        second > 59
      ) {
        throw new CronExpressionError(
          `One-time date '${preset.at}' is not a valid date and time (1970-2099).`,
        );
      }
      return `${second} ${minute} ${hour} ${day} ${month} ? ${year}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------

class CronSchedule implements Schedule {
  constructor(
    readonly expression: string,
    readonly timeZone: string,
    private readonly description: string,
    private readonly find: (after: Date) => Date | null,
  ) {}

  next(after: Date = new Date()): Date | null {
    return this.find(checkDate(after));
  }

  nextRuns(count: number, after: Date = new Date()): Date[] {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError('count must be a whole number, 0 or more');
    const runs: Date[] = [];
    let cursor = checkDate(after);
    while (runs.length < count) {
      const run = this.find(cursor);
      if (run === null) break;
      runs.push(run);
      cursor = run;
    }
    return runs;
  }

  describe(): string {
    return this.description;
  }
}

function checkDate(date: Date): Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new RangeError('Invalid date');
  return date;
}

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Characters allowed besides digits , - * / (after names are taken out). */
  readonly extra: string;
  readonly names?: readonly string[];
  readonly hint: string;
  /** How many values a range wraps around (`22-2` = 22,23,0,1,2); none for the year. */
  readonly cycle?: number;
}

const SECONDS: FieldSpec = { label: 'seconds', min: 0, max: 59, extra: '', hint: 'use 0-59', cycle: 60 };
const MINUTES: FieldSpec = { label: 'minutes', min: 0, max: 59, extra: '', hint: 'use 0-59', cycle: 60 };
const HOURS: FieldSpec = { label: 'hours', min: 0, max: 23, extra: '', hint: 'use 0-23', cycle: 24 };
const DAY_OF_MONTH: FieldSpec = {
  label: 'day-of-month',
  min: 1,
  max: 31,
  extra: '?LW',
  hint: 'use 1-31, L, L-n, LW, L-nW, LW-n or nW',
  cycle: 31,
};
const MONTH: FieldSpec = {
  label: 'month',
  min: 1,
  max: 12,
  extra: '',
  names: MONTH_NAMES,
  hint: 'use 1-12 or JAN-DEC',
  cycle: 12,
};
const QUARTZ_DAY_OF_WEEK: FieldSpec = {
  label: 'day-of-week',
  min: 1,
  max: 7,
  extra: '?L#',
  names: DAY_NAMES,
  hint: 'Quartz numbers the days 1-7 from Sunday (1 = SUN, 2 = MON ... 7 = SAT); use 1-7 or SUN-SAT',
  cycle: 7,
};
const UNIX_DAY_OF_WEEK: FieldSpec = {
  ...QUARTZ_DAY_OF_WEEK,
  min: 0,
  max: 7,
  hint: 'in 5-field (Unix) cron use 0-7 (0 and 7 = Sunday) or SUN-SAT',
};
const YEAR: FieldSpec = { label: 'year', min: 1970, max: 2099, extra: '', hint: 'use 1970-2099' };

const QUARTZ_FIELDS = [SECONDS, MINUTES, HOURS, DAY_OF_MONTH, MONTH, QUARTZ_DAY_OF_WEEK, YEAR];
const UNIX_FIELDS = [MINUTES, HOURS, DAY_OF_MONTH, MONTH, UNIX_DAY_OF_WEEK];

/** croner's reading of a Quartz pattern. */
const QUARTZ_OPTIONS = { mode: '6-or-7-parts', alternativeWeekdays: true, domAndDow: true } as const;

interface Analysis {
  readonly quartz: boolean;
  /** For croner after the rewrites: 7 fields for Quartz (year '*' when absent), 5 for Unix. */
  readonly parts: readonly string[];
  readonly options: CronOptions;
  readonly fields: CronFields;
}

function analyse(expression: string): Analysis {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new CronExpressionError('The cron expression is empty.');
  }
  const raw = expression.trim().toUpperCase().split(/\s+/);
  if (raw.length < 5 || raw.length > 7) {
    throw new CronExpressionError(
      `A cron expression needs 6 or 7 fields (Quartz: seconds minutes hours day-of-month month ` +
        `day-of-week [year]) or 5 fields (Unix: minute hour day-of-month month day-of-week), ` +
        `but '${expression.trim()}' has ${raw.length}.`,
    );
  }
  const quartz = raw.length >= 6;
  const specs = quartz ? QUARTZ_FIELDS : UNIX_FIELDS;
  raw.forEach((field, index) => checkField(field, specs[index]));
  if (quartz && raw.length === 6) raw.push('*');

  const dayIndex = quartz ? 3 : 2;
  let dayOfMonth = raw[dayIndex];
  let dayOfWeek = raw[dayIndex + 2];
  if (dayOfMonth === '?' && dayOfWeek === '?') {
    throw new CronExpressionError(
      "Day-of-month and day-of-week cannot both be '?': give one of them a value (or '*' for every day).",
    );
  }
  // Quartz.NET runs on a day matching either day field, so a '*' in one of them is every day
  // (its CronExpressionTest, CanUse_DayOfMonth_And_DayOfWeek_Together).
  if (quartz && (dayOfMonth === '*' || dayOfWeek === '*')) {
    dayOfMonth = '*';
    dayOfWeek = '?';
  }
  if (quartz && dayOfWeek === 'L') dayOfWeek = '7';

  const parts = raw.map((field, index) => {
    if (index === dayIndex) return rewrite(dayOfMonth, specs[index]);
    if (index === dayIndex + 2) return rewrite(dayOfWeek, specs[index], quartz ? 7 : 6);
    return rewrite(field, specs[index]);
  });

  const mode = quartz ? '6-or-7-parts' : '5-part';
  let parsed: CronPattern;
  try {
    parsed = newCronPattern(cronerChecked(parts, quartz).join(' '), undefined, {
      mode,
      alternativeWeekdays: quartz,
    });
  } catch (error) {
    throw new CronExpressionError(cronerMessage(error));
  }
  // See the daylight saving policy at the top. A wrapped range with a step (`22-2/2`) is a list for
  // croner but keeps its step's interval class.
  const everyHour = parsed.hour.every((flag) => flag !== 0);
  const stepped = raw.slice(0, quartz ? 3 : 2).some((field) => /[*/]/.test(field));
  const options: CronOptions = {
    mode,
    alternativeWeekdays: quartz,
    domAndDow: quartz,
    fixedTimeRule: everyHour || stepped ? 'single-value' : 'no-wildcard',
  };

  const restricted = (field: string): boolean => field !== '?' && field !== '*';
  const fields: CronFields = quartz
    ? {
        second: raw[0],
        minute: raw[1],
        hour: raw[2],
        dayOfMonth,
        month: raw[4],
        dayOfWeek,
        year: raw[6],
        weekdayBase: 1,
        dayFieldsOr: restricted(dayOfMonth) && restricted(dayOfWeek),
      }
    : {
        second: '0',
        minute: raw[0],
        hour: raw[1],
        dayOfMonth: raw[2],
        month: raw[3],
        dayOfWeek: raw[4],
        year: '*',
        weekdayBase: 0,
        dayFieldsOr: true,
      };
  return { quartz, parts, options, fields };
}

/** The checks croner does not make (the Quartz ones) or words less helpfully. */
function checkField(field: string, spec: FieldSpec): void {
  if (field.includes('?')) {
    if (!spec.extra.includes('?')) {
      throw new CronExpressionError(
        `'?' is only allowed in the day-of-month and day-of-week fields, not in ${spec.label}.`,
      );
    }
    if (field !== '?') throw new CronExpressionError(`'?' must stand alone in the ${spec.label} field.`);
    return;
  }
  const names = spec.names ?? [];
  const withoutNames = field.replace(/[A-Z]{3}/g, (name) => (names.includes(name) ? '' : name));
  const bad = [...withoutNames].find((char) => !/[0-9,\-*/]/.test(char) && !spec.extra.includes(char));
  if (bad !== undefined) {
    throw new CronExpressionError(`The ${spec.label} field '${field}' contains '${bad}': ${spec.hint}.`);
  }
  for (const match of field.matchAll(/#(\d+)/g)) {
    if (Number(match[1]) < 1 || Number(match[1]) > 5) {
      throw new CronExpressionError(
        `In the ${spec.label} field '${field}' the number after '#' must be 1-5.`,
      );
    }
  }
  for (const match of field.matchAll(/[A-Z]{3}\/(\d+)/g)) {
    if (Number(match[1]) < 1 || Number(match[1]) > 5) {
      throw new CronExpressionError(
        `In the ${spec.label} field '${field}' a day name with '/n' runs every n-th week: n must be 1-5.`,
      );
    }
  }
  for (const item of field.split(',')) {
    if (spec === DAY_OF_MONTH && /[LW]/.test(item)) {
      checkLastOrWeekday(item);
      continue;
    }
    for (const match of item.matchAll(/(?:^|-)(\d+)/g)) {
      const value = Number(match[1]);
      if (value < spec.min || value > spec.max) {
        throw new CronExpressionError(`The ${spec.label} value ${value} is out of range: ${spec.hint}.`);
      }
    }
    const years = spec === YEAR ? /^(\d+)-(\d+)/.exec(item) : null;
    if (years !== null && Number(years[1]) > Number(years[2])) {
      throw new CronExpressionError(`The year range '${item}' runs backwards: write the earlier year first.`);
    }
  }
}

/** Day-of-month L, L-n, LW, L-nW, LW-n, L-nW-m (Quartz.NET) and nW. */
function checkLastOrWeekday(item: string): void {
  const last = LAST_DAY.exec(item);
  if (last !== null) {
    if (Number(last[1] ?? 0) > 30 || Number(last[3] ?? 0) > 30) {
      throw new CronExpressionError(`In '${item}' the days before the last (week)day must be 1-30.`);
    }
    return;
  }
  const weekday = NEAREST_WEEKDAY.exec(item);
  if (weekday === null) {
    throw new CronExpressionError(
      `The day-of-month item '${item}' is not one of L, L-n, LW, L-nW, LW-n or nW (n a number).`,
    );
  }
  if (Number(weekday[1]) < 1 || Number(weekday[1]) > 31) {
    throw new CronExpressionError(`In '${item}' the day whose nearest weekday runs must be 1-31.`);
  }
}

/** `L`, `L-n`, `LW`, `L-nW`, `LW-m`, `L-nW-m`: 1 = n, 2 = W, 3 = m. */
const LAST_DAY = /^L(?:-(\d+))?(W)?(?:-(\d+))?$/;
const NEAREST_WEEKDAY = /^(\d+)W$/;
/** Day-of-week `FRI/2`: a day name with a step runs every n-th week (Quartz.NET). */
const NTH_WEEK = /([A-Z]{3})\/(\d+)/g;

/**
 * Croner spellings of the Quartz ones, item by item: names become numbers, `start/step` becomes
 * `start-max/step`, and a range that wraps around (`22-2`, `FRI-TUE`, `NOV-FEB`) becomes the list of
 * its values, its step counted across the wrap as Quartz.NET does (`22-4/3` = 22,1,4). Items croner
 * does not read are left for the finders (day-of-month L/W, day-of-week `FRI/2`).
 */
function rewrite(field: string, spec: FieldSpec, max = spec.max): string {
  const number = (value: string): number => {
    const index = spec.names?.indexOf(value) ?? -1;
    return index < 0 ? Number(value) : index + (spec === MONTH || spec === QUARTZ_DAY_OF_WEEK ? 1 : 0);
  };
  return field
    .split(',')
    .map((item) => {
      const range = /^(\d+|[A-Z]{3})(?:-(\d+|[A-Z]{3}))?(?:\/(\d+))?$/.exec(item);
      if (range === null || (range[2] === undefined && range[3] === undefined)) return item;
      if (range[2] === undefined && spec === QUARTZ_DAY_OF_WEEK && /[A-Z]/.test(range[1])) return item; // FRI/2
      const from = number(range[1]);
      const to = range[2] === undefined ? max : number(range[2]);
      const step = range[3] === undefined ? 1 : Number(range[3]);
      if (from <= to || spec.cycle === undefined || step < 1) {
        return range[3] === undefined ? `${from}-${to}` : `${from}-${to}/${step}`;
      }
      const values: number[] = [];
      for (let value = from; value <= to + spec.cycle; value += step) {
        const wrapped = value % spec.cycle;
        values.push(spec.min === 1 && wrapped === 0 ? spec.cycle : wrapped);
      }
      return values.join(',');
    })
    .join(',');
}

/** The parts croner can check: day-of-month L/W items and day-of-week `/n` after a name left out. */
function cronerChecked(parts: readonly string[], quartz: boolean): string[] {
  if (!quartz) return [...parts];
  const plainDays = parts[3].split(',').filter((item) => !/[LW]/.test(item) || item === 'L');
  return parts.map((part, index) => {
    if (index === 3) return plainDays.length > 0 ? plainDays.join(',') : '*';
    if (index === 5) return part.replace(NTH_WEEK, '$1');
    return part;
  });
}

/** Next run after an instant, or null when there is none. */
type Finder = (after: Date) => Date | null;

function finder(analysis: Analysis, zone: string | undefined): Finder {
  const options: CronOptions = { ...analysis.options, timezone: zone, paused: true };
  const { parts } = analysis;
  if (!analysis.quartz) {
    const cron = newCron(parts.join(' '), options);
    return (after) => cron.nextRun(after);
  }
  const [dayOfMonth, dayOfWeek] = [parts[3], parts[5]];
  if (dayOfMonth === '?' || dayOfWeek === '?' || dayOfMonth === '*') {
    return oneDayFieldFinder(parts, options, zone);
  }
  // Both day fields: a day matching either runs (Quartz.NET).
  const byDay = oneDayFieldFinder(withDays(parts, dayOfMonth, '?'), options, zone);
  const byWeekday = oneDayFieldFinder(withDays(parts, '?', dayOfWeek), options, zone);
  return (after) => {
    const [a, b] = [byDay(after), byWeekday(after)];
    return a === null || (b !== null && b < a) ? b : a;
  };
}

function withDays(parts: readonly string[], dayOfMonth: string, dayOfWeek: string): string[] {
  return parts.map((part, index) => (index === 3 ? dayOfMonth : index === 5 ? dayOfWeek : part));
}

function oneDayFieldFinder(parts: readonly string[], options: CronOptions, zone: string | undefined): Finder {
  if (parts[3] !== 'L' && /[LW]/.test(parts[3])) return monthDaysFinder(parts, options, zone);
  const nthWeek = [...parts[5].matchAll(NTH_WEEK)].map((match) => Number(match[2]));
  if (nthWeek.length > 0) return nthWeekFinder(parts, Math.max(...nthWeek), options, zone);
  const cron = newCron(parts.join(' '), options);
  return (after) => cron.nextRun(after);
}

const DAY = 86_400_000;

/** Years as Quartz allows them, so that a search for a month that never comes ends at 2099. */
const quartzYears = (year: string): string => (year === '*' ? '1970-2099' : year);

/** croner's runs on one calendar day (`date` = that day's UTC midnight) in the schedule's zone. */
function runOnDay(parts: readonly string[], date: number, after: Date, options: CronOptions): Date | null {
  const day = new Date(date);
  const pattern = `${parts.slice(0, 3).join(' ')} ${day.getUTCDate()} ${day.getUTCMonth() + 1} ? ${day.getUTCFullYear()}`;
  return newCron(pattern, { ...options, ...QUARTZ_OPTIONS }).nextRun(after);
}

/** The calendar day (as UTC midnight) on which `after` falls in the zone. */
function localDay(after: Date, zone: string | undefined): number {
  const local = newCronDate(after, zone);
  return Date.UTC(local.year, local.month, local.day);
}

/**
 * Day-of-month with L or W items (`L-3`, `LW`, `L-2W`, `LW-2`, `31W`, `1,15,L`): croner finds each
 * month's last day (in UTC, so that a day is always 24 hours); the days of that month the items name
 * follow from it by Quartz.NET's rules, and croner gives the runs on them in the schedule's zone.
 */
function monthDaysFinder(parts: readonly string[], options: CronOptions, zone: string | undefined): Finder {
  const items = parts[3].split(',');
  const plain = items.filter((item) => !/[LW]/.test(item));
  const plainDays =
    plain.length === 0
      ? []
      : flagged(newCronPattern(`0 0 0 ${plain.join(',')} * ?`, undefined, QUARTZ_OPTIONS).day, 1);
  const specials = items.filter((item) => /[LW]/.test(item));
  const lastDays = newCron(`0 0 0 L ${parts[4]} ? ${quartzYears(parts[6])}`, {
    ...QUARTZ_OPTIONS,
    timezone: 'UTC',
  });
  const daysOf = (year: number, month: number, last: number): number[] => {
    const days = new Set(plainDays.filter((day) => day <= last));
    for (const item of specials) {
      const weekday = NEAREST_WEEKDAY.exec(item);
      if (weekday !== null) {
        // 31W in a 30-day month is the weekday nearest the 30th (Quartz.NET issue #2330).
        days.add(nearestWeekday(year, month, Math.min(Number(weekday[1]), last), last));
        continue;
      }
      const [, offset, w, weekdayOffset] = LAST_DAY.exec(item) ?? [];
      const base = last - Number(offset ?? 0);
      if (base < 1) continue; // a month too short for the offset has no run
      if (w === undefined) days.add(base);
      else days.add(Math.max(1, nearestWeekday(year, month, base, last) - Number(weekdayOffset ?? 0)));
    }
    return [...days].sort((a, b) => a - b);
  };
  return (after) => {
    const today = localDay(after, zone);
    let cursor = new Date(
      Date.UTC(new Date(today).getUTCFullYear(), new Date(today).getUTCMonth(), 1) - 1000,
    );
    for (let months = 0; months < 12 * 130; months++) {
      const last = lastDays.nextRun(cursor);
      if (last === null) return null;
      cursor = last;
      const [year, month] = [last.getUTCFullYear(), last.getUTCMonth()];
      const days = daysOf(year, month, last.getUTCDate()).filter(
        (day) => Date.UTC(year, month, day) >= today,
      );
      if (days.length === 0) continue;
      const pattern = `${parts.slice(0, 3).join(' ')} ${days.join(',')} ${month + 1} ? ${year}`;
      const run = newCron(pattern, { ...options, ...QUARTZ_OPTIONS }).nextRun(after);
      if (run !== null) return run;
    }
    return null;
  };
}

/** Quartz's nearest weekday to `day`, never leaving the month: 1st a Saturday → Monday the 3rd. */
function nearestWeekday(year: number, month: number, day: number, last: number): number {
  switch (new Date(Date.UTC(year, month, day)).getUTCDay()) {
    case 6:
      return day === 1 ? 3 : day - 1;
    case 0:
      return day === last ? day - 2 : day + 1;
    default:
      return day;
  }
}

/**
 * Day-of-week with a name and a step (`FRI/2`, `THU,FRI/2`): Quartz.NET runs on a listed day, and
 * when it has to move on to another listed day it skips n-1 weeks more. So the runs depend on where
 * the search starts, as in Quartz.NET: from a Friday, `FRI/2` runs that day and every other Friday.
 * Croner gives the runs on each day, and which months and years are allowed.
 */
function nthWeekFinder(
  parts: readonly string[],
  weeks: number,
  options: CronOptions,
  zone: string | undefined,
): Finder {
  const listed = flagged(
    newCronPattern(`0 0 0 ? * ${parts[5].replace(NTH_WEEK, '$1')}`, undefined, QUARTZ_OPTIONS).dayOfWeek,
    0,
  );
  const allowedDays = newCron(`0 0 0 * ${parts[4]} ? ${quartzYears(parts[6])}`, {
    ...QUARTZ_OPTIONS,
    timezone: 'UTC',
  });
  return (after) => {
    let date = localDay(after, zone);
    for (let steps = 0; steps < 5000; steps++) {
      const allowed = allowedDays.nextRun(new Date(date - 1000));
      if (allowed === null) return null;
      date = allowed.getTime();
      const run = runOnDay(parts, date, after, options);
      const weekday = new Date(date).getUTCDay();
      if (run === null) date += DAY;
      else if (listed.includes(weekday)) return run;
      else {
        const next = listed.find((day) => day >= weekday) ?? listed[0] + 7;
        date += (next - weekday + 7 * (weeks - 1)) * DAY;
      }
    }
    return null;
  };
}

/** Indexes of the set flags, plus `base`. */
function flagged(flags: readonly number[], base: number): number[] {
  return flags.flatMap((flag, index) => (flag === 0 ? [] : [index + base]));
}

function checkTimeZone(timeZone: string): void {
  if (!isTimeZone(timeZone)) {
    throw new CronExpressionError(
      `Unknown time zone '${timeZone}': use an IANA name such as 'UTC', 'America/New_York' or 'Europe/Berlin'.`,
    );
  }
}

const CRONER_FIELD_HINTS: Record<string, string> = {
  second: 'seconds: use 0-59',
  minute: 'minutes: use 0-59',
  hour: 'hours: use 0-23',
  month: 'month: use 1-12 or JAN-DEC',
  year: 'year: use 1970-2099',
};

function cronerMessage(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/^Cron\w*: /, '');
  const field = /for (\w+):/.exec(text)?.[1];
  const hint = field === undefined ? undefined : CRONER_FIELD_HINTS[field];
  return `Invalid cron expression: ${text}${hint === undefined ? '' : ` (${hint})`}.`;
}

function int(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CronExpressionError(`The ${what} must be a whole number from ${min} to ${max}, not ${value}.`);
  }
  return value;
}

/** 1-7 (1 = Sunday) → names, runs of 3 or more as ranges: [2,3,4,5,6] → 'MON-FRI'. All 7 → '*'. */
function weekdays(days: readonly number[]): string {
  const sorted = [...new Set(days.map((day) => int(day, 1, 7, 'day of the week (1 = Sunday)')))].sort(
    (a, b) => a - b,
  );
  if (sorted.length === 0) throw new CronExpressionError('Choose at least one day of the week.');
  if (sorted.length === 7) return '*';
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    const run = sorted.slice(i, j + 1).map((day) => DAY_NAMES[day - 1]);
    parts.push(run.length >= 3 ? `${run[0]}-${run[run.length - 1]}` : run.join(','));
    i = j + 1;
  }
  return parts.join(',');
}
