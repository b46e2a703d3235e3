/**
 * Plain-English description of a cron expression that `cron.ts` has already validated: cronstrue's,
 * with fixes where its wording misleads for our schedules or it has none:
 * - A day matching the day-of-month OR the day-of-week runs when both are restricted (Unix cron and
 *   Quartz.NET); cronstrue writes "on day 1 of the month, and on Monday", which reads like both at
 *   once. We write "on day 1 of the month or on Monday".
 * - A single date (one day of one month, e.g. the "once" preset) reads "on May 27, 2026" rather than
 *   "on day 27 of the month, only in May, only in 2026".
 * - Quartz.NET day-of-month items cronstrue does not word, or words wrongly, in a list or with an
 *   offset (`1,15,L`, `L-1,L-2`, `L-3W`, `LW-2`, `2W,16W`): each item is worded on its own.
 * - Quartz.NET's day name with a step (`FRI/2`) is every n-th week, not every n days.
 * Wrap-around ranges (`22-2`, `FRI-TUE`) are cronstrue's ("between 22:00 and 02:00").
 * It never computes run times and never throws.
 */
import { lazy } from './lazy.js';

/** The fields of a validated expression, upper-cased, in Quartz order (Unix: second '0', year '*'). */
export interface CronFields {
  readonly second: string;
  readonly minute: string;
  readonly hour: string;
  readonly dayOfMonth: string;
  readonly month: string;
  readonly dayOfWeek: string;
  readonly year: string;
  /** Number of Sunday in the day-of-week field: 1 in Quartz (1-7 = SUN-SAT), 0 in Unix (0-7). */
  readonly weekdayBase: 0 | 1;
  /** Unix: a day matching either day-of-month or day-of-week runs. Quartz: both (one is '?'). */
  readonly dayFieldsOr: boolean;
}

/** `asWritten` is quoted when cronstrue cannot word an expression that croner accepts (`1W,15W`). */
export function describeFields(fields: CronFields, asWritten: string): string {
  try {
    const Describer = describer();
    return new Describer(fields).describe();
  } catch {
    // cronstrue throws strings, not Errors.
    return `'${asWritten}' (no plain-English description for this expression)`;
  }
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const isAny = (field: string): boolean => field === '*' || field === '?';
const isInt = (field: string): boolean => /^\d+$/.test(field);

/** Day-of-month items we word ourselves (lists with L or W, `L-nW`, `LW-n`), else undefined. */
function ownDaysOfMonth(field: string): string[] | undefined {
  const items = field.split(',');
  const special = items.some((item) => /[LW]/.test(item));
  return special && (items.length > 1 || /^L-\d+W|^LW-/.test(field)) ? items : undefined;
}

/** What cronstrue reads: our own day-of-month words stand in for a plain '1'; `FRI/2` is `FRI`. */
function expressionOf(f: CronFields): string {
  const dayOfMonth = ownDaysOfMonth(f.dayOfMonth) === undefined ? f.dayOfMonth : '1';
  const dayOfWeek = f.dayOfWeek.replace(/([A-Z]{3})\/\d+/g, '$1');
  return [f.second, f.minute, f.hour, dayOfMonth, f.month, dayOfWeek, f.year].join(' ');
}

/**
 * cronstrue's descriptor, with the two fixes above in the segments they concern; made when the
 * first expression is described (lazy.ts: cronstrue is loaded then).
 */
const describer = lazy(() => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ExpressionDescriptor = (require('cronstrue') as typeof import('cronstrue')).default;
  return class Describer extends ExpressionDescriptor {
    /** The single date's month (0-11), when the schedule runs on one day of one month. */
    private readonly dateMonth: number | undefined;

    constructor(private readonly fields: CronFields) {
      super(expressionOf(fields), {
        throwExceptionOnParseError: true,
        verbose: false,
        dayOfWeekStartIndexZero: fields.weekdayBase === 0,
        monthStartIndexZero: false,
        use24HourTimeFormat: true,
        trimHoursLeadingZero: false,
        locale: 'en',
      });
      const month = isInt(fields.month) ? Number(fields.month) : MONTHS.indexOf(fields.month) + 1;
      const single = isInt(fields.dayOfMonth) && isAny(fields.dayOfWeek) && month >= 1 && month <= 12;
      this.dateMonth = single ? month - 1 : undefined;
    }

    describe(): string {
      return this.getFullDescription();
    }

    protected override getDayOfMonthDescription(): string | null {
      const items = ownDaysOfMonth(this.fields.dayOfMonth);
      if (items !== undefined) {
        const words = items.map(dayOfMonthItem);
        return `, ${/^(day|the)/.test(words[0]) ? 'on ' : ''}${listed(words)} of the month`;
      }
      if (this.dateMonth === undefined) return super.getDayOfMonthDescription();
      const name = this.i18n.monthsOfTheYear()[this.dateMonth];
      const year = isInt(this.fields.year) ? `, ${this.fields.year}` : '';
      return `, on ${name} ${Number(this.fields.dayOfMonth)}${year}`;
    }

    protected override getMonthDescription(): string {
      return this.dateMonth === undefined ? super.getMonthDescription() : '';
    }

    protected override getYearDescription(): string {
      return this.dateMonth !== undefined && isInt(this.fields.year) ? '' : super.getYearDescription();
    }

    protected override getDayOfWeekDescription(): string | null {
      // Quartz.NET: `FRI/2` = on Friday, every 2nd week (cronstrue reads the days without the step).
      const weeks = /[A-Z]{3}\/(\d+)/.exec(this.fields.dayOfWeek)?.[1];
      const days = this.dayOfWeekDescription();
      return weeks === undefined || weeks === '1' ? days : `${days ?? ''}, every ${weeks} weeks`;
    }

    private dayOfWeekDescription(): string | null {
      const { dayOfMonth, dayOfWeek, dayFieldsOr } = this.fields;
      if (!dayFieldsOr || isAny(dayOfMonth) || isAny(dayOfWeek)) return super.getDayOfWeekDescription();
      // Word the day-of-week as if it stood alone (", only on Monday", ", Monday through Friday",
      // ", on the second Friday of the month"), then join it to the day-of-month with "or".
      const parts = this.expressionParts;
      const saved = parts[3];
      parts[3] = '*';
      try {
        const alone = super.getDayOfWeekDescription() ?? '';
        return ` or on ${alone.replace(/^, (only )?(on )?/, '')}`;
      } finally {
        parts[3] = saved;
      }
    }
  };
});

/** One Quartz day-of-month item in words: `L-3W` → "the weekday nearest 3 days before the last day". */
function dayOfMonthItem(item: string): string {
  const last = /^L(?:-(\d+))?(W)?(?:-(\d+))?$/.exec(item);
  if (last === null) {
    const weekday = /^(\d+)W$/.exec(item);
    if (weekday !== null) return `the weekday nearest day ${weekday[1]}`;
    return item.includes('-') || item.includes('/') ? `days ${item}` : `day ${item}`;
  }
  const [, offset, w, weekdayOffset] = last;
  const lastDay = offset === undefined ? 'the last day' : `${dayCount(offset)} before the last day`;
  if (w === undefined) return lastDay;
  const nearest =
    offset === undefined ? 'the last weekday' : `the weekday nearest ${lastDay.replace(/^the /, '')}`;
  return weekdayOffset === undefined ? nearest : `${dayCount(weekdayOffset)} before ${nearest}`;
}

const dayCount = (count: string): string => (count === '1' ? '1 day' : `${count} days`);

/** "a", "a and b", "a, b and c". */
function listed(items: readonly string[]): string {
  return items.length === 1 ? items[0] : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
