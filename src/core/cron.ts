/**
 * Cron schedules for the Cron trigger (docs/nodes.md §3, docs/imis-api.md §8). Plain logic, no Node-RED.
 *
 * Parsing and all date math are croner's. This module only checks what croner does not check the
 * Quartz way, rewrites a few Quartz spellings into croner's, and picks croner's options:
 *
 * - Form by field count: 6 or 7 fields = Quartz (second minute hour day-of-month month day-of-week
 *   [year]; day-of-week 1-7 = SUN-SAT), 5 fields = classic Unix cron (minute hour day-of-month month
 *   day-of-week; day-of-week 0-7, 0 and 7 = Sunday).
 * - Quartz days: the field that is not `?` alone decides (croner `domAndDow: true`, so a `?` or `*` in
 *   the other field adds nothing). `*` in both is accepted (every day); `?` in both is rejected, and so
 *   is a value in both, which Quartz does not support either. Unix keeps cron's rule: when both are
 *   restricted, a day matching either runs (croner `domAndDow: false`).
 * - Rewrites: a step with a start value (`0/15`, `MON/2`) becomes `start-max/step`; day-of-week `L`
 *   alone becomes 7 (Saturday, as in Quartz); day-of-month `L-n` (n days before the last day of the
 *   month) is not croner syntax, so such a schedule finds each month's last day with croner (in UTC,
 *   where days are all 24 hours) and then asks croner for the runs on the day n days earlier, in the
 *   schedule's zone. A month too short for the offset has no run.
 * - Years: Quartz's 1970-2099; croner handles the year field itself (next() is null once exhausted).
 *
 * Daylight saving time. With an IANA zone (or '' = the server's zone) runs are wall-clock times in
 * that zone. croner applies Vixie cron's rules to "fixed-time" and "interval" jobs; we choose its
 * `fixedTimeRule` per expression so that the classes are:
 * - Interval jobs: the hour field covers all 24 hours (the job fires every hour or more often, e.g.
 *   `0 0 * * * ?`, `0 0/15 * * * ?`), or seconds, minutes or hours contain `*` or a step. They run at
 *   every real instant whose wall-clock time matches: when clocks fall back, the repeated hour runs
 *   again (01:00 EDT and 01:00 EST are both runs); when clocks spring forward, the wall-clock times
 *   that do not exist are skipped (nothing runs twice, nothing is moved).
 * - Fixed-time jobs: everything else, i.e. plain values, lists or ranges of times of day that do not
 *   cover the whole day (daily `0 30 2 * * ?`, `0 0 9,12,16 * * ?`). Each listed time runs once a
 *   day: a repeated time runs at its first occurrence (daylight time), and a time inside the
 *   spring-forward gap runs at the end of the gap, the first valid instant (New York 2026-03-08:
 *   02:30 → 03:00 EDT; Berlin 2026-03-29: 02:30 → 03:00 CEST).
 */
import { Cron, CronDate, CronPattern, type CronOptions } from 'croner';
import { ExpectedError } from './errors.js';
import { describeFields, type CronFields } from './cron-describe.js';
import { isTimeZone } from './dates.js';

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
  const options: CronOptions = { ...analysis.options, timezone: zone, paused: true };
  let find: (after: Date) => Date | null;
  try {
    if (analysis.lastDayOffset === undefined) {
      const cron = new Cron(analysis.pattern, options);
      find = (after) => cron.nextRun(after);
    } else {
      find = lastDayOffsetFinder(analysis, analysis.lastDayOffset, options, zone);
    }
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
}

const SECONDS: FieldSpec = { label: 'seconds', min: 0, max: 59, extra: '', hint: 'use 0-59' };
const MINUTES: FieldSpec = { label: 'minutes', min: 0, max: 59, extra: '', hint: 'use 0-59' };
const HOURS: FieldSpec = { label: 'hours', min: 0, max: 23, extra: '', hint: 'use 0-23' };
const DAY_OF_MONTH: FieldSpec = {
  label: 'day-of-month',
  min: 1,
  max: 31,
  extra: '?LW',
  hint: 'use 1-31, L, L-n, LW or nW',
};
const MONTH: FieldSpec = {
  label: 'month',
  min: 1,
  max: 12,
  extra: '',
  names: MONTH_NAMES,
  hint: 'use 1-12 or JAN-DEC',
};
const QUARTZ_DAY_OF_WEEK: FieldSpec = {
  label: 'day-of-week',
  min: 1,
  max: 7,
  extra: '?L#',
  names: DAY_NAMES,
  hint: 'Quartz numbers the days 1-7 from Sunday (1 = SUN, 2 = MON ... 7 = SAT); use 1-7 or SUN-SAT',
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

interface Analysis {
  /** For croner, 7 fields for Quartz, 5 for Unix. */
  readonly pattern: string;
  readonly options: CronOptions;
  readonly fields: CronFields;
  /** Day-of-month `L-n`: n. */
  readonly lastDayOffset: number | undefined;
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

  const dayIndex = quartz ? 3 : 2;
  let dayOfMonth = raw[dayIndex];
  let dayOfWeek = raw[dayIndex + 2];
  if (dayOfMonth === '?' && dayOfWeek === '?') {
    throw new CronExpressionError(
      "Day-of-month and day-of-week cannot both be '?': give one of them a value (or '*' for every day).",
    );
  }
  const restricted = (field: string): boolean => field !== '?' && field !== '*';
  if (quartz && restricted(dayOfMonth) && restricted(dayOfWeek)) {
    throw new CronExpressionError(
      `Quartz does not support a day-of-month ('${dayOfMonth}') and a day-of-week ('${dayOfWeek}') ` +
        `together: put '?' in one of them.`,
    );
  }

  let lastDayOffset: number | undefined;
  const offset = /^L-(\d+)$/.exec(dayOfMonth);
  if (offset !== null) {
    lastDayOffset = Number(offset[1]);
    if (lastDayOffset < 1 || lastDayOffset > 30) {
      throw new CronExpressionError(`In '${dayOfMonth}' the days before the last day must be 1-30.`);
    }
    if (restricted(dayOfWeek)) {
      throw new CronExpressionError(`'${dayOfMonth}' cannot be combined with a day-of-week: use '*' there.`);
    }
    dayOfMonth = 'L';
  }
  if (quartz && dayOfWeek === 'L') dayOfWeek = '7';

  const rewritten = raw.map((field, index) => {
    if (index === dayIndex) return withStepRanges(dayOfMonth, specs[index]);
    if (index === dayIndex + 2)
      return withStepRanges(dayOfWeek, quartz ? specs[index] : { ...specs[index], max: 6 });
    return withStepRanges(field, specs[index]);
  });
  const pattern = rewritten.join(' ');

  const mode = quartz ? '6-or-7-parts' : '5-part';
  let parsed: CronPattern;
  try {
    parsed = new CronPattern(pattern, undefined, { mode, alternativeWeekdays: quartz });
  } catch (error) {
    throw new CronExpressionError(cronerMessage(error));
  }
  // See the daylight saving policy at the top.
  const everyHour = parsed.hour.every((flag) => flag !== 0);
  const options: CronOptions = {
    mode,
    alternativeWeekdays: quartz,
    domAndDow: quartz,
    fixedTimeRule: everyHour ? 'single-value' : 'no-wildcard',
  };

  const fields: CronFields = quartz
    ? {
        second: raw[0],
        minute: raw[1],
        hour: raw[2],
        dayOfMonth: raw[3],
        month: raw[4],
        dayOfWeek: raw[5],
        year: raw[6] ?? '*',
        weekdayBase: 1,
        dayFieldsOr: false,
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
  return { pattern, options, fields, lastDayOffset };
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
  if (spec === DAY_OF_MONTH && /^L-\d+$/.test(field)) return;
  for (const match of field.matchAll(/(?:^|[,-])(\d+)/g)) {
    const value = Number(match[1]);
    if (value < spec.min || value > spec.max) {
      throw new CronExpressionError(`The ${spec.label} value ${value} is out of range: ${spec.hint}.`);
    }
  }
}

/** Quartz `start/step` (croner wants `start-max/step`). */
function withStepRanges(field: string, spec: FieldSpec): string {
  return field
    .split(',')
    .map((item) => item.replace(/^(\d+|[A-Z]{3})\/(\d+)$/, `$1-${spec.max}/$2`))
    .join(',');
}

/**
 * Day-of-month `L-n`: croner finds each month's last day (in UTC, so that a day is always 24 hours),
 * then a one-day croner pattern in the schedule's zone gives that day's runs n days earlier.
 */
function lastDayOffsetFinder(
  analysis: Analysis,
  offset: number,
  options: CronOptions,
  zone: string | undefined,
): (after: Date) => Date | null {
  const { second, minute, hour, month, year } = analysis.fields;
  const quartzOptions: CronOptions = {
    ...options,
    mode: '6-or-7-parts',
    alternativeWeekdays: true,
    domAndDow: true,
  };
  const step = (field: string, max: number): string => withStepRanges(field, { ...YEAR, max });
  // Years as Quartz allows them, so that a month too short for the offset is not sought until 9999.
  const years = year === '*' ? '1970-2099' : step(year, 2099);
  const lastDays = new Cron(`0 0 0 L ${step(month, 12)} ? ${years}`, {
    ...quartzOptions,
    timezone: 'UTC',
  });
  const time = [second, minute, hour].map((field, index) => step(field, index === 2 ? 23 : 59)).join(' ');
  return (after) => {
    const local = new CronDate(after, zone);
    const today = Date.UTC(local.year, local.month, local.day);
    let cursor = new Date(Date.UTC(local.year, local.month, 1) - 1000);
    for (let months = 0; months < 12 * 130; months++) {
      const last = lastDays.nextRun(cursor);
      if (last === null) return null;
      cursor = last;
      const day = last.getUTCDate() - offset;
      if (day < 1 || Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), day) < today) continue;
      const onDay = `${time} ${day} ${last.getUTCMonth() + 1} ? ${last.getUTCFullYear()}`;
      const run = new Cron(onDay, quartzOptions).nextRun(after);
      if (run !== null) return run;
    }
    return null;
  };
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
