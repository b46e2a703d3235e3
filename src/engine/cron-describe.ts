/**
 * Plain-English description of a cron expression that `cron.ts` has already validated: cronstrue's,
 * with two fixes where its wording misleads for our schedules:
 * - Unix cron runs on a day matching the day-of-month OR the day-of-week when both are restricted;
 *   cronstrue writes "on day 1 of the month, and on Monday", which reads like both at once. We
 *   write "on day 1 of the month or on Monday".
 * - A single date (one day of one month, e.g. the "once" preset) reads "on May 27, 2026" rather than
 *   "on day 27 of the month, only in May, only in 2026".
 * It never computes run times and never throws.
 */
import ExpressionDescriptor from 'cronstrue';

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
    return new Describer(fields).describe();
  } catch {
    // cronstrue throws strings, not Errors.
    return `'${asWritten}' (no plain-English description for this expression)`;
  }
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const isAny = (field: string): boolean => field === '*' || field === '?';
const isInt = (field: string): boolean => /^\d+$/.test(field);

function expressionOf(f: CronFields): string {
  return [f.second, f.minute, f.hour, f.dayOfMonth, f.month, f.dayOfWeek, f.year].join(' ');
}

/** cronstrue's descriptor, with the two fixes above in the segments they concern. */
class Describer extends ExpressionDescriptor {
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
}
