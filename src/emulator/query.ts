/**
 * Query strings of list calls: `limit`/`offset` paging (default 100, at most 500, docs/imis-api.md §4) and
 * property filters such as `?PartyId=eq:12345` or `?lastname=eq:smith` (docs/imis-api.md §2.4).
 */
import { invalid } from './errors.js';
import type { Paging } from './wire.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 500;

const RESERVED = new Set(['limit', 'offset', 'orderby']);
export const OPERATORS = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'contains', 'startswith'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Filter {
  /** The property as the caller spelled it. */
  key: string;
  operator: Operator;
  value: string;
}

/** The first value of a query-string key, matched case-insensitively (`name` in lower case). */
export function param(query: URLSearchParams, name: string): string | undefined {
  for (const [key, value] of query) if (key.toLowerCase() === name) return value;
  return undefined;
}

export function readPaging(query: URLSearchParams): Paging {
  const limit = Number.parseInt(param(query, 'limit') ?? '', 10);
  const offset = Number.parseInt(param(query, 'offset') ?? '', 10);
  return {
    limit: Number.isNaN(limit) || limit <= 0 ? DEFAULT_LIMIT : Math.min(limit, MAX_LIMIT),
    offset: Number.isNaN(offset) || offset < 0 ? 0 : offset,
  };
}

/** `eq:smith` → eq / smith; a value without a known operator prefix is compared with `fallback`. */
export function parseFilter(key: string, raw: string, fallback: Operator = 'eq'): Filter {
  const colon = raw.indexOf(':');
  const prefix = colon > 0 ? raw.slice(0, colon).toLowerCase() : '';
  const operator = OPERATORS.find((candidate) => candidate === prefix);
  return operator === undefined
    ? { key, operator: fallback, value: raw }
    : { key, operator, value: raw.slice(colon + 1) };
}

export function readFilters(query: URLSearchParams): Filter[] {
  const filters: Filter[] = [];
  for (const [key, raw] of query) {
    if (RESERVED.has(key.toLowerCase())) continue;
    filters.push(parseFilter(key, raw));
  }
  return filters;
}

function compare(actual: unknown, expected: string): number {
  if (typeof actual === 'number' && expected.trim() !== '' && !Number.isNaN(Number(expected))) {
    return actual - Number(expected);
  }
  const left = String(actual).toLowerCase();
  const right = expected.toLowerCase();
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Whether a stored value passes a filter; comparisons ignore case. */
export function matches(actual: unknown, filter: Filter): boolean {
  if (actual === null || actual === undefined) return filter.operator === 'ne';
  // Comparisons ignore case, as SQL Server's default collation does.
  switch (filter.operator) {
    case 'eq':
      return compare(actual, filter.value) === 0;
    case 'ne':
      return compare(actual, filter.value) !== 0;
    case 'gt':
      return compare(actual, filter.value) > 0;
    case 'ge':
      return compare(actual, filter.value) >= 0;
    case 'lt':
      return compare(actual, filter.value) < 0;
    case 'le':
      return compare(actual, filter.value) <= 0;
    case 'contains':
      return String(actual).toLowerCase().includes(filter.value.toLowerCase());
    case 'startswith':
      return String(actual).toLowerCase().startsWith(filter.value.toLowerCase());
  }
}

/**
 * Keeps the rows matching every filter. `resolve` maps a caller's property name to the stored key;
 * an unknown name is a 400, as iMIS rejects a filter on a property the entity does not have.
 */
export function applyFilters<T extends Record<string, unknown>>(
  rows: T[],
  filters: Filter[],
  resolve: (key: string) => string | undefined,
  entityTypeName: string,
): T[] {
  const resolved = filters.map((filter) => {
    const property = resolve(filter.key);
    if (property === undefined)
      throw invalid(`${filter.key} is not a property of ${entityTypeName}`, filter.key);
    return { property, filter };
  });
  return rows.filter((row) => resolved.every(({ property, filter }) => matches(row[property], filter)));
}

/** Case-insensitive lookup of a key among a record's keys. */
export function keyResolver(keys: Iterable<string>): (key: string) => string | undefined {
  const byLower = new Map<string, string>();
  for (const key of keys) byLower.set(key.toLowerCase(), key);
  return (key) => byLower.get(key.toLowerCase());
}
