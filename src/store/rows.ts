import type { RunRecord, RunStatus } from '../runs/tracker.js';
import type { Dialect } from './engine/types.js';
import type { AcceptedInput, DedupRecord, RunCounts, RunQuery } from './types.js';

/** The columns of `imis_runs` for one run (RUN_COLUMNS); the whole record is kept as JSON in `data`. */
export const RUN_COLUMNS =
  'id, flow_id, trigger_id, status, started_at, finished_at, business_key, rerun_of, data, retry_at';

export function runRow(run: RunRecord): unknown[] {
  return [
    run.id,
    run.flowId,
    run.trigger.id,
    run.status,
    Date.parse(run.startedAt),
    run.finishedAt ? Date.parse(run.finishedAt) : null,
    run.businessKey ?? null,
    run.rerunOf ?? null,
    JSON.stringify(run),
    run.retryAt ? Date.parse(run.retryAt) : null,
  ];
}

/** A finished run as it is written: its row of `imis_runs` (runRow) and its values' rows. */
export interface RunWrite {
  row: unknown[];
  /** `[name, value]` of each of the run's values (`imis_run_values`). */
  values: [string, string][];
}

/** What a finished run writes, serialised as the record stands now. */
export function runWrite(run: RunRecord): RunWrite {
  return { row: runRow(run), values: Object.entries(run.values ?? {}) };
}

export function runFromData(data: string): RunRecord {
  return JSON.parse(data) as RunRecord;
}

export interface InputRow {
  id: string;
  source: string;
  payload: string;
  extra: string | null;
  accepted_at: number | string;
}

export function inputFromRow(row: InputRow): AcceptedInput {
  return {
    id: row.id,
    source: row.source,
    payload: JSON.parse(row.payload) as unknown,
    extra: row.extra ? (JSON.parse(row.extra) as Record<string, unknown>) : undefined,
    acceptedAt: new Date(Number(row.accepted_at)).toISOString(),
  };
}

export function inputRow(input: AcceptedInput, owner: string, leaseUntil: number): unknown[] {
  return [
    input.id,
    input.source,
    JSON.stringify(input.payload ?? null),
    input.extra ? JSON.stringify(input.extra) : null,
    Date.parse(input.acceptedAt),
    owner,
    leaseUntil,
  ];
}

/** A LIKE pattern matching `text` anywhere, its own `%`, `_` and `\` taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The least text after every text that starts with `prefix`, in code point order: the prefix with
 * its last code point raised by one (past the surrogates, which UTF-8 does not hold). Undefined
 * when there is none (a prefix of U+10FFFF only): every key from the prefix on then matches.
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  while (points.length > 0) {
    let last = (points.pop() ?? 0) + 1;
    if (last >= 0xd800 && last <= 0xdfff) last = 0xe000;
    if (last <= 0x10ffff) return String.fromCodePoint(...points, last);
  }
  return undefined;
}

/**
 * The WHERE clause and parameters of a runs query, for either engine (`?` placeholders). Newest
 * first, keyset-paged by (started_at, id). A business key matches the keys that start with it
 * (itself too): a range of the key index, compared in byte order (the index's order: SQLite's
 * BINARY; PostgreSQL's key index and the query say COLLATE "C"), so `%` and `_` are plain
 * characters. Each named value must be the run's exactly, found through the values index (its
 * first 200 characters, schema version 5), then compared whole.
 */
export function runsWhere(query: RunQuery, dialect: Dialect): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  /** The placeholder of a new parameter: each use of a value binds it again. */
  const bind = (value: unknown) => {
    params.push(value);
    return '?';
  };
  const add = (clause: (p: string) => string, value: unknown) => {
    clauses.push(clause(bind(value)));
  };
  if (query.flowId) add((p) => `flow_id = ${p}`, query.flowId);
  if (query.triggerId) add((p) => `trigger_id = ${p}`, query.triggerId);
  if (query.status) add((p) => `status = ${p}`, query.status);
  if (query.businessKey) {
    const end = prefixEnd(query.businessKey);
    add((p) => `${dialect.byteOrder('business_key')} >= ${p}`, query.businessKey);
    if (end !== undefined) add((p) => `${dialect.byteOrder('business_key')} < ${p}`, end);
  }
  for (const [name, value] of Object.entries(query.values ?? {})) {
    clauses.push(
      `id IN (SELECT run_id FROM imis_run_values WHERE name = ${bind(name)}` +
        ` AND substr(value, 1, 200) = substr(${bind(value)}, 1, 200) AND value = ${bind(value)})`,
    );
  }
  if (query.since) add((p) => `started_at >= ${p}`, Date.parse(query.since));
  if (query.until) add((p) => `started_at < ${p}`, Date.parse(query.until));
  if (query.rerunOf) add((p) => `rerun_of = ${p}`, query.rerunOf);
  if (query.notRerun)
    clauses.push(`NOT EXISTS (SELECT 1 FROM imis_runs AS r WHERE r.rerun_of = imis_runs.id)`);
  const { text } = query;
  if (text) {
    clauses.push(dialect.textMatch(() => bind(containsPattern(text))));
  }
  const cursor = decodeCursor(query.after);
  if (cursor) {
    params.push(cursor.startedAt, cursor.id);
    clauses.push(`(started_at, id) < (?, ?)`);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** Runs counted per status at most (beyond: "more than"), so that a count costs a bounded index scan. */
export const COUNT_CAP = 10_000;

const STATUSES: RunStatus[] = ['running', 'ok', 'failed', 'unfinished'];

/**
 * The query of `countRuns` (its status, cursor and page aside): for each status, the runs counted
 * up to COUNT_CAP + 1, one bounded subquery per status, in one statement.
 */
export function countSql(query: RunQuery, dialect: Dialect): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const parts = STATUSES.map((status) => {
    const where = runsWhere({ ...countQuery(query), status }, dialect);
    params.push(...where.params);
    return `SELECT '${status}' AS status, COUNT(*) AS n FROM (SELECT 1 FROM imis_runs ${where.sql} LIMIT ${COUNT_CAP + 1}) AS c`;
  });
  return { sql: parts.join(' UNION ALL '), params };
}

/** The counts of `countRuns` from its `status, n` rows; statuses without runs count 0. */
export function countsOf(rows: { status: string; n: number | string }[], capped = false): RunCounts {
  const counts: RunCounts = { running: 0, ok: 0, failed: 0, unfinished: 0, capped };
  for (const row of rows) {
    if (row.status in counts) counts[row.status as RunStatus] = Math.min(Number(row.n), COUNT_CAP);
    if (Number(row.n) > COUNT_CAP) counts.capped = true;
  }
  return counts;
}

/** The query of `countRuns`: every filter but the status and the page. */
export function countQuery({ status: _s, after: _a, limit: _l, ...filter }: RunQuery): RunQuery {
  return filter;
}

export function pageLimit(query: RunQuery): number {
  const n = Math.trunc(Number(query.limit ?? 100));
  return Number.isFinite(n) ? Math.min(Math.max(n, 1), 1000) : 100;
}

export function encodeCursor(run: RunRecord): string {
  return cursorAt(Date.parse(run.startedAt), run.id);
}

/** The cursor of the page after the run started at `startedAt` (epoch ms) with id `id`. */
export function cursorAt(startedAt: number, id: string): string {
  return Buffer.from(JSON.stringify([startedAt, id])).toString('base64url');
}

/** The run position (started at, epoch ms, and id) a cursor names; none for an unreadable one. */
export function decodeCursor(cursor: string | undefined): { startedAt: number; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const [startedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, string];
    if (typeof startedAt === 'number' && typeof id === 'string') return { startedAt, id };
  } catch {
    // an unreadable cursor pages from the start
  }
  return undefined;
}

/** A row of `imis_dedup`, as either engine returns it. */
export interface DedupRow {
  result: string;
  settled: number | string;
  created_at: number | string;
}

export function dedupFromRow(row: DedupRow): DedupRecord {
  return Number(row.settled) === 1
    ? { settled: true, result: JSON.parse(row.result) as unknown }
    : { settled: false, openedAt: new Date(Number(row.created_at)) };
}
