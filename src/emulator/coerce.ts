/**
 * Turning request values into stored values, by property type, and stored values back into wire values
 * (docs/imis-api.md §2.1). Stored values are plain: strings, numbers, booleans, and dates as ISO-8601 local
 * time without a zone (`2025-01-15T00:00:00`), the emulator's clock being its "server time".
 */
import type { PropertyDefinition, PropertyType } from './definitions.js';
import { typed } from './wire.js';

export type Coerced = { ok: true; value: unknown } | { ok: false; message: string };

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

function formatLocal(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  fraction = '',
): string {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}${fraction}`;
}

function validParts(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): boolean {
  const probe = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    probe.getUTCFullYear() === year &&
    probe.getUTCMonth() === month - 1 &&
    probe.getUTCDate() === day &&
    probe.getUTCHours() === hour &&
    probe.getUTCMinutes() === minute &&
    probe.getUTCSeconds() === second
  );
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,7})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?)?$/i;

/**
 * Normalises a date as .NET's DateTime would read it: ISO-8601 (a zone converts to the server's UTC
 * clock) or US `M/D/YYYY [h:mm[:ss] [AM|PM]]`. Returns undefined for anything else.
 */
export function normalizeDate(input: string): string | undefined {
  const textValue = input.trim();
  const iso = ISO_DATE.exec(textValue);
  if (iso) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = iso;
    const parts = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)] as const;
    if (!validParts(...parts)) return undefined;
    if (zone === undefined) return formatLocal(...parts, fraction.replace(/\.?0+$/, ''));
    const instant = new Date(textValue.replace(' ', 'T'));
    if (Number.isNaN(instant.getTime())) return undefined;
    const ms = instant.getUTCMilliseconds();
    return formatLocal(
      instant.getUTCFullYear(),
      instant.getUTCMonth() + 1,
      instant.getUTCDate(),
      instant.getUTCHours(),
      instant.getUTCMinutes(),
      instant.getUTCSeconds(),
      ms === 0 ? '' : `.${pad(ms, 3)}`.replace(/0+$/, ''),
    );
  }
  const us = US_DATE.exec(textValue);
  if (us) {
    const [, mo, d, y, h = '0', mi = '0', s = '0', meridiem] = us;
    let hour = Number(h);
    if (meridiem !== undefined) {
      if (hour < 1 || hour > 12) return undefined;
      hour = (hour % 12) + (meridiem.toUpperCase() === 'PM' ? 12 : 0);
    }
    const parts = [Number(y), Number(mo), Number(d), hour, Number(mi), Number(s)] as const;
    return validParts(...parts) ? formatLocal(...parts) : undefined;
  }
  return undefined;
}

/** Today at midnight, server time: what iMIS fills in for an empty TRANSACTION_DATE (docs/imis-api.md §2.2). */
export function today(now: Date = new Date()): string {
  return formatLocal(now.getFullYear(), now.getMonth() + 1, now.getDate());
}

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && NUMBER.test(value.trim())) return Number(value.trim());
  return undefined;
}

/** Converts one decoded request value (null = omitted) to the stored value for `prop`. */
export function coerce(prop: PropertyDefinition, value: unknown): Coerced {
  if (value === null || value === undefined) return { ok: true, value: null };
  // An empty string is "no value" for every non-text type: templates render missing data as ''.
  if (value === '' && prop.type !== 'String') return { ok: true, value: null };
  const name = prop.name;
  switch (prop.type) {
    case 'String': {
      if (typeof value === 'object')
        return { ok: false, message: `${name} must be text, not ${describe(value)}` };
      const textValue = String(value);
      if (prop.maxLength !== undefined && textValue.length > prop.maxLength) {
        return {
          ok: false,
          message: `${name} is longer than its maximum length of ${prop.maxLength} characters`,
        };
      }
      return { ok: true, value: textValue };
    }
    case 'Integer': {
      const number = toNumber(value);
      if (number === undefined || !Number.isInteger(number) || number < INT32_MIN || number > INT32_MAX) {
        return { ok: false, message: `${name} must be a whole number, not ${describe(value)}` };
      }
      return { ok: true, value: number };
    }
    case 'Decimal':
    case 'Monetary':
    case 'Double': {
      const number = toNumber(value);
      if (number === undefined)
        return { ok: false, message: `${name} must be a number, not ${describe(value)}` };
      return { ok: true, value: number };
    }
    case 'Boolean': {
      if (typeof value === 'boolean') return { ok: true, value };
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) {
        return { ok: true, value: value.trim().toLowerCase() === 'true' };
      }
      return { ok: false, message: `${name} must be true or false, not ${describe(value)}` };
    }
    case 'Date': {
      const date = typeof value === 'string' ? normalizeDate(value) : undefined;
      if (date === undefined)
        return { ok: false, message: `${name} is not a valid date: ${describe(value)}` };
      return { ok: true, value: date };
    }
    case 'Binary': {
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
        return { ok: false, message: `${name} must be base64 data` };
      }
      return { ok: true, value };
    }
  }
}

/**
 * A stored value in wire form; undefined for null (the property is then written without Value).
 * Strings and dates are bare strings, the rest `{"$type", "$value"}` (docs/imis-api.md §2.1).
 */
export function encodeValue(type: PropertyType, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  switch (type) {
    case 'String':
    case 'Date':
      return String(value);
    case 'Integer':
      return typed('System.Int32', value);
    case 'Decimal':
    case 'Monetary':
      return typed('System.Decimal', value);
    case 'Double':
      return typed('System.Double', value);
    case 'Boolean':
      return typed('System.Boolean', value);
    case 'Binary':
      return typed('System.Byte[], mscorlib', value);
  }
}
