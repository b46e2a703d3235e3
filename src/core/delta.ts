/**
 * Delta Hash (iWorkflow's action, docs/nodes.md §12): keeps only the rows of a data set that are new or
 * changed since the last successful run. Each row is identified by its key column and summarised by
 * a hash, the SHA-256 of its stable serialisation (keys sorted at every level, so that the same
 * values in another property order hash the same); only key and hash are kept, never the row.
 * This module computes a run's delta against the hashes kept so far; the store keeps them, and the
 * node commits a run's hashes once that run has succeeded. No Node-RED in here.
 */
import * as crypto from 'node:crypto';
import { ExpectedError } from './errors.js';
import { lazy } from './lazy.js';

/**
 * Sorted keys; BigInt as a number; a circular reference is an error, not a silent marker. Made on
 * the first row that needs it (lazy.ts).
 */
const stableJsonOf = lazy(() =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('safe-stable-stringify') as typeof import('safe-stable-stringify')).configure({
    deterministic: true,
    bigint: true,
    circularValue: Error,
  }),
);
const stableJson = (value: unknown): string | undefined => stableJsonOf()(value);

/** What is wrong with a run's input; the message names the row or the key. */
export class DeltaInputError extends ExpectedError {
  override readonly name = 'DeltaInputError';
}

/** SHA-256 as base64url: the one-shot `crypto.hash` (Node 20.12+, 3× faster on short input), else createHash. */
const sha256: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'base64url')
    : (text) => crypto.createHash('sha256').update(text).digest('base64url');

/** Keys a plain object cannot take over in sorted order: array indexes (always listed first) and __proto__. */
const SPECIAL_KEY = /^(?:0|[1-9]\d*|__proto__)$/;

/**
 * The stable JSON of a row. A flat row (every value text, a number, a boolean or null: the rows of
 * an IQA query) is copied into an object with its keys in sorted order and written by
 * JSON.stringify, the same text stableJson writes, faster (JSON.stringify's fast path); the order is
 * worked out once per run of rows with the same keys. Other rows (nested values, dates, BigInt)
 * go through stableJson.
 */
export function stableRowJson(): (row: unknown) => string {
  let lastKeys: string[] = [];
  let sortedKeys: string[] = [];
  let inOrder = true;
  let special = false;
  return (row: unknown): string => {
    if (!isRecord(row)) return stableJson(row) ?? 'undefined';
    const keys = Object.keys(row);
    let same = keys.length === lastKeys.length;
    for (let i = 0; same && i < keys.length; i++) same = keys[i] === lastKeys[i];
    if (!same) {
      lastKeys = keys;
      sortedKeys = [...keys].sort();
      inOrder = sortedKeys.every((key, i) => key === keys[i]);
      special = keys.some((key) => SPECIAL_KEY.test(key));
    }
    if (special) return stableJson(row) as string;
    for (let i = 0; i < keys.length; i++) {
      const value = row[keys[i]];
      const type = typeof value;
      if ((type === 'object' && value !== null) || type === 'bigint' || type === 'function')
        return stableJson(row) as string;
    }
    if (inOrder) return JSON.stringify(row);
    const copy: Record<string, unknown> = {};
    for (const key of sortedKeys) copy[key] = row[key];
    return JSON.stringify(copy);
  };
}

const rowJson = stableRowJson();

/** The hash kept for one row: SHA-256 of its stable JSON, base64url (43 characters). */
export function rowHash(row: unknown, json: (row: unknown) => string = rowJson): string {
  return sha256(json(row));
}

export interface DeltaResult {
  /** Rows new or changed since the hashes given, in input order. */
  changed: unknown[];
  /** Keys that had a hash but are no longer in the input, sorted. */
  removed: string[];
  /** The hashes to commit for the changed rows, `[key, hash]`. */
  upserts: [string, string][];
  counts: { rows: number; added: number; changed: number; unchanged: number; removed: number };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keyText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return undefined;
}

const columnList = (row: Record<string, unknown>): string => {
  const names = Object.keys(row);
  const shown = names.slice(0, 10).join(', ');
  return names.length > 10 ? `${shown}, …` : shown || 'none';
};

/**
 * The rows of `rows` whose hash differs from `previous` (new keys included), and the keys of
 * `previous` absent from `rows`. `keyColumn` names a property of each row whose value (text or
 * number) is unique within the input; a missing or repeated key is a DeltaInputError naming it.
 */
export function computeDelta(
  rows: unknown,
  keyColumn: string,
  previous: ReadonlyMap<string, string>,
  /** How errors name the input, e.g. `msg.payload`. */
  inputName = 'The input',
): DeltaResult {
  const column = String(keyColumn ?? '').trim();
  if (column === '')
    throw new DeltaInputError('No Key Column: name the column that identifies a row, e.g. ID');
  if (!Array.isArray(rows)) {
    const what = rows === null ? 'null' : typeof rows;
    throw new DeltaInputError(`${inputName} must be an array of rows, not ${what}`);
  }
  const json = stableRowJson();
  const seen = new Set<string>();
  const changed: unknown[] = [];
  const upserts: [string, string][] = [];
  let added = 0;
  for (let i = 0; i < rows.length; i++) {
    const row: unknown = rows[i];
    if (!isRecord(row)) {
      throw new DeltaInputError(
        `Row ${i + 1} is not an object (it is ${Array.isArray(row) ? 'an array' : typeof row})`,
      );
    }
    const key = keyText(row[column]);
    if (key === undefined) {
      throw new DeltaInputError(
        column in row
          ? `Row ${i + 1} has no usable value in the key column "${column}" (it holds ${JSON.stringify(row[column]) ?? 'undefined'})`
          : `Row ${i + 1} has no key column "${column}" (its columns: ${columnList(row)})`,
      );
    }
    if (seen.has(key)) {
      const first = rows.findIndex((r: unknown) => isRecord(r) && keyText(r[column]) === key);
      throw new DeltaInputError(
        `The key column "${column}" must be unique, but the key "${key}" appears in rows ${first + 1} and ${i + 1}`,
      );
    }
    seen.add(key);
    let hash: string;
    try {
      hash = rowHash(row, json);
    } catch (err) {
      throw new DeltaInputError(
        `Row ${i + 1} (key "${key}") cannot be written as JSON: ${(err as Error).message}`,
      );
    }
    const before = previous.get(key);
    if (before === hash) continue;
    if (before === undefined) added++;
    changed.push(row);
    upserts.push([key, hash]);
  }
  const removed: string[] = [];
  if (previous.size > 0) for (const key of previous.keys()) if (!seen.has(key)) removed.push(key);
  removed.sort();
  return {
    changed,
    removed,
    upserts,
    counts: {
      rows: rows.length,
      added,
      changed: changed.length - added,
      unchanged: rows.length - changed.length,
      removed: removed.length,
    },
  };
}
