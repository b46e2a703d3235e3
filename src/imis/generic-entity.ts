// Codec for iMIS GenericEntityData, the JSON shape of business objects, panel rows and
// activities on the REST API (docs/imis-api.md §2.1), and for the PagedResult envelope (§4).

import { InputError } from '../core/errors.js';
import { collectionItems, isRecord } from './json-net.js';

/** Json.NET `$type` strings, exactly as iMIS writes them (docs/imis-api.md §2.1). */
export const TYPE_GENERIC_ENTITY = 'Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts';
export const TYPE_PROPERTY_COLLECTION =
  'Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts';
export const TYPE_PROPERTY = 'Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts';
export const TYPE_IDENTITY = 'Asi.Soa.Core.DataContracts.IdentityData, Asi.Contracts';
export const TYPE_STRING_COLLECTION =
  'System.Collections.ObjectModel.Collection`1[[System.String, mscorlib]], mscorlib';

export type PropertyType = 'String' | 'Integer' | 'Decimal' | 'Double' | 'Boolean' | 'Date';

/** CLR type of each wrapped value; strings and dates travel bare (docs/imis-api.md §2.1). */
const CLR_TYPES = {
  Integer: 'System.Int32',
  Decimal: 'System.Decimal',
  Double: 'System.Double',
  Boolean: 'System.Boolean',
} as const;

export interface TypedValue {
  $type: string;
  $value: unknown;
}

export type WireValue = string | TypedValue;

export interface GenericPropertyData {
  $type: string;
  Name: string;
  Value?: WireValue;
}

export interface IdentityData {
  $type: string;
  EntityTypeName: string;
  IdentityElements?: { $type: string; $values: string[] };
}

export interface GenericEntityData {
  $type: string;
  EntityTypeName?: string;
  PrimaryParentEntityTypeName?: string;
  PrimaryParentIdentity?: IdentityData;
  Properties: { $type: string; $values: GenericPropertyData[] };
}

export interface EntityInput {
  /** e.g. `Activity`, `Name_CEU`; omitted from the wire when not given. */
  entityTypeName?: string;
  /** e.g. `Party`, `Event`, `Standalone`. */
  parentEntityTypeName?: string;
  /** The parent's ID (e.g. the iMIS ID); `Standalone` parents have none. */
  parentId?: string;
  /** Property values by REST name, in the order they go on the wire. */
  properties: Record<string, unknown>;
  /** Target type per property; values (typically template text) are converted to it. */
  propertyTypes?: Record<string, PropertyType>;
  /** IANA zone for date-times that carry an offset (see `toImisDateTime`); default: this host's. */
  timeZone?: string;
}

function isTypedValue(value: unknown): value is TypedValue {
  return isRecord(value) && typeof value.$type === 'string' && '$value' in value;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function toNumber(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && NUMBER.test(value.trim())) return Number(value.trim());
  throw new InputError(
    `${name}: ${describe(value)} is not a number (write it like 1234.5, without separators)`,
  );
}

const TRUE = new Set(['true', '1', 'yes', 'y', 'on']);
const FALSE = new Set(['false', '0', 'no', 'n', 'off']);

function toBoolean(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if ((typeof value === 'string' || typeof value === 'number') && TRUE.has(text)) return true;
  if ((typeof value === 'string' || typeof value === 'number') && FALSE.has(text)) return false;
  throw new InputError(`${name}: ${describe(value)} is not a yes/no value (use true or false)`);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** The wall-clock time of instant `ms` in `timeZone` (default: this host's), as iMIS wants it. */
function wallClock(ms: number, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timeZone || undefined,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const part = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value ?? 0);
  return (
    `${pad(part('year'), 4)}-${pad(part('month'))}-${pad(part('day'))}` +
    `T${pad(part('hour'))}:${pad(part('minute'))}:${pad(part('second'))}`
  );
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Normalises a date to what iMIS is sent: a bare ISO local date-time without zone,
 * `YYYY-MM-DDTHH:mm:ss` (docs/imis-api.md §2.1, "Dates"). Policy:
 * - `2026-05-27` → `2026-05-27T00:00:00`;
 * - a date-time without zone (`2026-05-27T09:15`, `2026-05-27 09:15:00.123`) is already iMIS
 *   local time: kept as written, seconds added, fractions dropped;
 * - a date-time with a zone (`...Z`, `...+02:00`) or a JS Date is an instant: it is converted to
 *   the wall-clock time in `timeZone` (the iMIS site's zone; default: this host's zone).
 * Anything else (e.g. `05/27/2026`) is refused, as day/month order would be a guess.
 */
export function toImisDateTime(value: unknown, timeZone?: string, name = 'date'): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new InputError(`${name}: invalid date`);
    return wallClock(value.getTime(), timeZone);
  }
  const text = typeof value === 'string' ? value.trim() : '';
  const m = ISO_DATE.exec(text);
  const [year, month, day, hour, minute, second] = (m ?? []).slice(1, 7).map((p) => Number(p ?? 0));
  const valid =
    m !== null &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= new Date(Date.UTC(year, month, 0)).getUTCDate() &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  if (!m || !valid) {
    throw new InputError(
      `${name}: ${describe(value)} is not a date (write it as 2026-05-27 or 2026-05-27T09:15:00)`,
    );
  }
  const zone = m[7];
  if (!zone) return `${m[1]}-${m[2]}-${m[3]}T${pad(hour)}:${pad(minute)}:${pad(second)}`;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const sign = digits.startsWith('-') ? -1 : 1;
    offsetMinutes = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || 0));
  }
  const instant = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  return wallClock(instant, timeZone);
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * Converts one value to its wire form, or `undefined` when it must be omitted (null, undefined
 * or '': iMIS shows "no value" by leaving `Value` out, docs/imis-api.md §2.1).
 * With a `type`, text is parsed into it (template output is text); without one the JS type
 * decides: string → bare, integer → Int32, other number → Decimal, boolean → Boolean,
 * Date → local date-time. Already wrapped values (`{$type, $value}`) pass through.
 * Throws an InputError naming the property when the value cannot be converted.
 */
export function toWireValue(
  value: unknown,
  type: PropertyType | undefined,
  opts: { name: string; timeZone?: string },
): WireValue | undefined {
  const { name } = opts;
  if (isEmpty(value)) return undefined;
  if (isTypedValue(value)) return value;
  switch (type) {
    case 'String':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new InputError(`${name}: expected text, got ${typeof value}`);
    case 'Integer': {
      const n = toNumber(value, name);
      if (!Number.isSafeInteger(n)) throw new InputError(`${name}: ${describe(value)} is not a whole number`);
      return { $type: CLR_TYPES.Integer, $value: n };
    }
    case 'Decimal':
    case 'Double':
      return { $type: CLR_TYPES[type], $value: toNumber(value, name) };
    case 'Boolean':
      return { $type: CLR_TYPES.Boolean, $value: toBoolean(value, name) };
    case 'Date':
      return toImisDateTime(value, opts.timeZone, name);
    case undefined:
      break;
  }
  // No declared type: follow the JS type (a public Python client's mapping, docs/imis-api.md §2.1).
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return { $type: CLR_TYPES.Boolean, $value: value };
  if (typeof value === 'number' && Number.isFinite(value)) {
    return { $type: Number.isSafeInteger(value) ? CLR_TYPES.Integer : CLR_TYPES.Decimal, $value: value };
  }
  if (value instanceof Date) return toImisDateTime(value, opts.timeZone, name);
  throw new InputError(`${name}: cannot send ${describe(value)} (${typeof value}) to iMIS`);
}

function identity(entityTypeName: string, id?: string): IdentityData {
  const data: IdentityData = { $type: TYPE_IDENTITY, EntityTypeName: entityTypeName };
  if (id !== undefined && id !== '') {
    data.IdentityElements = { $type: TYPE_STRING_COLLECTION, $values: [id] };
  }
  return data;
}

/** Builds the GenericEntityData body of a POST (docs/imis-api.md §2.1). */
export function encodeEntity(input: EntityInput): GenericEntityData {
  const values: GenericPropertyData[] = [];
  for (const [name, raw] of Object.entries(input.properties)) {
    const value = toWireValue(raw, input.propertyTypes?.[name], { name, timeZone: input.timeZone });
    const property: GenericPropertyData = { $type: TYPE_PROPERTY, Name: name };
    if (value !== undefined) property.Value = value;
    values.push(property);
  }
  const parent = input.parentEntityTypeName;
  return {
    $type: TYPE_GENERIC_ENTITY,
    ...(input.entityTypeName ? { EntityTypeName: input.entityTypeName } : {}),
    ...(parent
      ? { PrimaryParentEntityTypeName: parent, PrimaryParentIdentity: identity(parent, input.parentId) }
      : {}),
    Properties: { $type: TYPE_PROPERTY_COLLECTION, $values: values },
  };
}

function isGenericEntity(value: Record<string, unknown>): boolean {
  return collectionItems(value.Properties) !== undefined;
}

/** Plain JSON from Json.NET output: `$value`/`$values` unwrapped, `$type` dropped, entities flattened. */
function unwrap(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrap);
  if (!isRecord(value)) return value;
  if ('$value' in value) return unwrap(value.$value);
  const items = collectionItems(value);
  if (items !== undefined) return items.map(unwrap);
  if (isGenericEntity(value)) return decodeEntity(value);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) if (key !== '$type') out[key] = unwrap(inner);
  return out;
}

/**
 * A GenericEntityData as a flat object `{ PropertyName: value }`: typed values unwrapped, an
 * omitted `Value` read as null. Other Json.NET objects (e.g. PersonData) come back as plain JSON.
 */
export function decodeEntity(wire: unknown): Record<string, unknown> {
  if (!isRecord(wire)) throw new TypeError(`Expected an iMIS entity object, got ${describe(wire)}`);
  if (!isGenericEntity(wire)) return unwrap(wire) as Record<string, unknown>;
  const record: Record<string, unknown> = {};
  for (const property of collectionItems(wire.Properties) ?? []) {
    if (!isRecord(property) || typeof property.Name !== 'string') continue;
    record[property.Name] = 'Value' in property ? (unwrap(property.Value) ?? null) : null;
  }
  return record;
}

export interface PagedResult {
  /** The page's items as sent (GenericEntityData rows stay wire objects: use decodeEntity). */
  items: unknown[];
  offset: number;
  limit: number;
  count: number;
  totalCount: number;
  hasNext: boolean;
  /** 0 when there is no next page (docs/imis-api.md §4). */
  nextOffset: number;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Reads a PagedResult envelope (docs/imis-api.md §4); a bare array counts as one complete page. */
export function decodePagedResult(wire: unknown): PagedResult {
  if (Array.isArray(wire)) {
    const n = wire.length;
    return { items: wire, offset: 0, limit: n, count: n, totalCount: n, hasNext: false, nextOffset: 0 };
  }
  const items = isRecord(wire) ? collectionItems(wire.Items) : undefined;
  if (!isRecord(wire) || !items) {
    throw new TypeError(`Expected an iMIS paged result (with Items), got ${describe(wire)}`);
  }
  const count = numberOr(wire.Count, items.length);
  return {
    items,
    offset: numberOr(wire.Offset, 0),
    limit: numberOr(wire.Limit, items.length),
    count,
    totalCount: numberOr(wire.TotalCount, count),
    hasNext: wire.HasNext === true,
    nextOffset: numberOr(wire.NextOffset, 0),
  };
}

/** A positive integer key from a record, else null (iMIS may report 0 for a new row, docs/imis-api.md §2.2). */
export function positiveKey(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
}
