/**
 * Plain-English description of a cron expression that `cron.ts` has already validated (croner parsed
 * it). This only words the fields; it never computes run times. Anything it does not recognise is
 * quoted as written rather than guessed at, and it never throws.
 */

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

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_ABBREVIATIONS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const MONTH_ABBREVIATIONS = MONTHS.map((name) => name.slice(0, 3).toUpperCase());
const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth'];

interface Step {
  start: number | undefined; // undefined: from the field's first value ('*/n')
  end: number | undefined;
  every: number;
}

export function describeFields(fields: CronFields): string {
  const month = replaceNames(fields.month, MONTH_ABBREVIATIONS, 1);
  const dayOfWeek = replaceNames(fields.dayOfWeek, DAY_ABBREVIATIONS, fields.weekdayBase);
  const time = describeTime(fields.second, fields.minute, fields.hour);
  let text = time.text;

  const dayOfMonthAny = isAny(fields.dayOfMonth);
  const dayOfWeekAny = isAny(dayOfWeek);
  const singleDate =
    dayOfWeekAny && isInt(fields.dayOfMonth) && isInt(month) && validIndex(Number(month) - 1, MONTHS);
  let monthConsumed = false;
  let yearConsumed = false;
  if (singleDate) {
    // "on July 1" / "on May 27, 2026"
    text += ` on ${MONTHS[Number(month) - 1]} ${Number(fields.dayOfMonth)}`;
    monthConsumed = true;
    if (isInt(fields.year)) {
      text += `, ${fields.year}`;
      yearConsumed = true;
    }
  } else if (dayOfMonthAny && dayOfWeekAny) {
    if (time.fixed) text += ', every day';
  } else {
    const dom = dayOfMonthAny ? undefined : describeDayOfMonth(fields.dayOfMonth);
    const dow = dayOfWeekAny ? undefined : describeDayOfWeek(dayOfWeek, fields.weekdayBase);
    if (dom !== undefined && dow !== undefined) {
      text += fields.dayFieldsOr ? ` on ${dom} or on ${dow}` : ` on ${dom} if it is ${dow}`;
    } else {
      text += ` on ${dom ?? dow ?? ''}`;
    }
  }

  const monthText = monthConsumed || isAny(month) ? undefined : describeMonths(month);
  const yearText = yearConsumed || isAny(fields.year) ? undefined : describeYears(fields.year);
  if (monthText !== undefined && yearText !== undefined && isInt(fields.year)) {
    text += ` in ${monthText} ${fields.year}`;
  } else {
    if (monthText !== undefined) text += ` in ${monthText}`;
    if (yearText !== undefined) text += monthText === undefined ? ` in ${yearText}` : `, in ${yearText}`;
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Time of day

function describeTime(second: string, minute: string, hour: string): { text: string; fixed: boolean } {
  const secondValue = isInt(second) ? Number(second) : undefined;
  const minuteValue = isInt(minute) ? Number(minute) : undefined;
  const hourStep = parseStep(hour);
  const hours = hourStep === undefined ? expand(hour, 0, 23) : undefined;

  if (secondValue !== undefined && minuteValue !== undefined && hours !== undefined && hours.length <= 6) {
    return { text: `At ${joinList(hours.map((h) => clock(h, minuteValue, secondValue)))}`, fixed: true };
  }

  const parts: string[] = [];
  const secondStep = parseStep(second);
  const secondsRepeat = second === '*' || secondStep !== undefined;
  if (second === '*') parts.push('every second');
  else if (secondStep !== undefined) parts.push(stepText(secondStep, 'second', 'seconds', 0));
  else if (second !== '0') parts.push(valuesText(second, 'second', 'seconds', 0, 59));

  if (minuteValue !== undefined && secondValue !== undefined) {
    // One run in each matching hour.
    const past =
      minuteValue === 0 ? '' : ` at ${minuteValue} ${minuteValue === 1 ? 'minute' : 'minutes'} past`;
    if (isAny(hour)) {
      parts.push(`every hour${past}`);
    } else if (hourStep !== undefined) {
      const start = hourStep.start ?? 0;
      let phrase = hourStep.every === 1 ? 'every hour' : `every ${hourStep.every} hours`;
      phrase += start === 0 ? past : ` starting at ${clock(start, minuteValue, secondValue)}`;
      if (hourStep.end !== undefined) phrase += ` until ${clock(hourStep.end, minuteValue, secondValue)}`;
      parts.push(phrase);
    } else {
      const range = /^(\d+)-(\d+)$/.exec(hour);
      if (range !== null) {
        const from = clock(Number(range[1]), minuteValue, secondValue);
        const to = clock(Number(range[2]), minuteValue, secondValue);
        parts.push(`every hour from ${from} through ${to}`);
      } else {
        parts.push(`every hour${past}`, hoursText(hour));
      }
    }
  } else {
    const minuteStep = parseStep(minute);
    if (minute === '*') {
      if (!secondsRepeat) parts.push('every minute');
    } else if (minuteStep !== undefined) {
      parts.push(stepText(minuteStep, 'minute', 'minutes', 0));
    } else if (minuteValue !== undefined) {
      parts.push(secondsRepeat ? `during minute ${minuteValue}` : `at minute ${minuteValue}`);
    } else {
      parts.push(valuesText(minute, 'minute', 'minutes', 0, 59));
    }
    if (hourStep !== undefined) {
      let phrase = `in ${everyNth(hourStep.every, 'hour')}`;
      if ((hourStep.start ?? 0) !== 0) phrase += ` starting at ${clock(hourStep.start ?? 0, 0, 0)}`;
      if (hourStep.end !== undefined) phrase += ` until ${clock(hourStep.end, 59, 59)}`;
      if (phrase !== 'in every hour') parts.push(phrase);
    } else if (!isAny(hour)) {
      parts.push(hoursText(hour));
    }
  }
  return { text: capitalise(parts.join(', ')), fixed: false };
}

function hoursText(hour: string): string {
  const single = /^(\d+)$/.exec(hour);
  if (single !== null)
    return `between ${clock(Number(single[1]), 0, 0)} and ${clock(Number(single[1]), 59, 0)}`;
  const range = /^(\d+)-(\d+)$/.exec(hour);
  if (range !== null) return `between ${clock(Number(range[1]), 0, 0)} and ${clock(Number(range[2]), 59, 0)}`;
  const hours = expand(hour, 0, 23);
  if (hours !== undefined) return `in the hours starting at ${joinList(hours.map((h) => clock(h, 0, 0)))}`;
  return `with hours '${hour}'`;
}

// ---------------------------------------------------------------------------------------------
// Days, months, years

function describeDayOfMonth(field: string): string {
  if (field === 'L') return 'the last day of the month';
  if (field === 'LW') return 'the last weekday of the month';
  const offset = /^L-(\d+)$/.exec(field);
  if (offset !== null) {
    const days = Number(offset[1]);
    return `the last day of the month minus ${days} ${days === 1 ? 'day' : 'days'}`;
  }
  const nearest = /^(\d+)W$/.exec(field);
  if (nearest !== null) return `the weekday nearest day ${Number(nearest[1])} of the month`;
  const step = parseStep(field);
  if (step !== undefined) {
    let phrase = `every ${step.every} days of the month`;
    if ((step.start ?? 1) !== 1) phrase += ` starting on day ${step.start ?? 1}`;
    if (step.end !== undefined) phrase += ` until day ${step.end}`;
    return phrase;
  }
  const list = listText(field, (n) => String(n));
  if (list !== undefined) return `${isInt(field) ? 'day' : 'days'} ${list} of the month`;
  const items = field.split(',').map((item) => {
    if (item === 'L') return 'the last day';
    const weekday = /^(\d+)W$/.exec(item);
    if (weekday !== null) return `the weekday nearest day ${Number(weekday[1])}`;
    return listText(item, (n) => `day ${n}`);
  });
  if (items.every((item) => item !== undefined)) return `${joinList(items as string[])} of the month`;
  return `day-of-month '${field}'`;
}

function describeDayOfWeek(field: string, base: 0 | 1): string {
  const day = (n: number): string | undefined => DAYS[(((n - base) % 7) + 7) % 7];
  if (field === 'L' && base === 1) return 'Saturday';
  const items = field.split(',').map((item): string | undefined => {
    const nthDay = /^(\d+)#(\d)$/.exec(item);
    if (nthDay !== null) {
      const ordinal = ORDINALS[Number(nthDay[2]) - 1];
      return ordinal === undefined ? undefined : `the ${ordinal} ${day(Number(nthDay[1]))} of the month`;
    }
    const last = /^(\d+)#?L$/.exec(item);
    if (last !== null) return `the last ${day(Number(last[1]))} of the month`;
    const step = parseStep(item);
    if (step !== undefined) {
      const days = expand(item, base, base + 6);
      return days === undefined ? undefined : joinList(days.map((n) => day(n) ?? String(n)));
    }
    return listText(item, (n) => day(n) ?? String(n));
  });
  if (items.every((item) => item !== undefined)) return joinList(items as string[]);
  return `day-of-week '${field}'`;
}

function describeMonths(field: string): string {
  const name = (n: number): string => MONTHS[n - 1] ?? String(n);
  const text = parseStep(field) === undefined ? listText(field, name) : undefined;
  if (text !== undefined) return text;
  const months = expand(field, 1, 12);
  return months === undefined ? `months '${field}'` : joinList(months.map(name));
}

function describeYears(field: string): string {
  const step = parseStep(field);
  if (step !== undefined) {
    let phrase = everyNth(step.every, 'year');
    if (step.start !== undefined) phrase += ` from ${step.start}`;
    if (step.end !== undefined) phrase += ` through ${step.end}`;
    return phrase;
  }
  return listText(field, (n) => String(n)) ?? `the years '${field}'`;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isAny(field: string): boolean {
  return field === '*' || field === '?';
}

function isInt(field: string): boolean {
  return /^\d+$/.test(field);
}

function validIndex(index: number, list: readonly string[]): boolean {
  return index >= 0 && index < list.length;
}

/** Month / day names → numbers (a name may be followed by L or #n, as in FRIL or FRI#2). */
function replaceNames(field: string, abbreviations: readonly string[], base: number): string {
  return field.replace(/[A-Z]{3}/g, (name) => {
    const index = abbreviations.indexOf(name);
    return index < 0 ? name : String(index + base);
  });
}

function parseStep(field: string): Step | undefined {
  const match = /^(\*|\d+)(?:-(\d+))?\/(\d+)$/.exec(field);
  if (match === null) return undefined;
  return {
    start: match[1] === '*' ? undefined : Number(match[1]),
    end: match[2] === undefined ? undefined : Number(match[2]),
    every: Number(match[3]),
  };
}

/** The values of a field of numbers, ranges and steps, or undefined for anything else. */
function expand(field: string, min: number, max: number): number[] | undefined {
  if (isAny(field)) return undefined;
  const values = new Set<number>();
  for (const item of field.split(',')) {
    const match = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(item);
    if (match === null) return undefined;
    const from = match[1] === '*' ? min : Number(match[1]);
    const to =
      match[2] !== undefined ? Number(match[2]) : match[1] === '*' || match[3] !== undefined ? max : from;
    const every = match[3] === undefined ? 1 : Number(match[3]);
    if (every < 1) return undefined;
    for (let value = from; value <= to; value += every) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/** "1, 3 through 5 and 9" for lists of numbers and ranges; undefined for anything else. */
function listText(field: string, name: (n: number) => string): string | undefined {
  const items = field.split(',').map((item) => {
    const match = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (match === null) return undefined;
    return match[2] === undefined
      ? name(Number(match[1]))
      : `${name(Number(match[1]))} through ${name(Number(match[2]))}`;
  });
  return items.every((item) => item !== undefined) ? joinList(items as string[]) : undefined;
}

function valuesText(field: string, singular: string, plural: string, min: number, max: number): string {
  if (isInt(field)) return `at ${singular} ${Number(field)}`;
  const text = listText(field, (n) => String(n));
  if (text !== undefined) return `at ${plural} ${text}`;
  const values = expand(field, min, max);
  return values === undefined ? `with ${plural} '${field}'` : `at ${plural} ${joinList(values.map(String))}`;
}

function stepText(step: Step, singular: string, plural: string, min: number): string {
  let phrase = step.every === 1 ? `every ${singular}` : `every ${step.every} ${plural}`;
  const start = step.start ?? min;
  if (step.end !== undefined) phrase += ` from ${singular} ${start} through ${singular} ${step.end}`;
  else if (start !== min) phrase += ` starting at ${singular} ${start}`;
  return phrase;
}

function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function clock(hour: number, minute: number, second: number): string {
  const hhmm = `${pad2(hour)}:${pad2(minute)}`;
  return second === 0 ? hhmm : `${hhmm}:${pad2(second)}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** "every hour", "every 2nd hour", "every 3rd year" */
function everyNth(n: number, unit: string): string {
  return n === 1 ? `every ${unit}` : `every ${nth(n)} ${unit}`;
}

function nth(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
