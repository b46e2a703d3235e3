import type {
  WorkflowHistoryEntry,
  WorkflowInstance,
  WorkflowInstancePage,
  WorkflowInstanceQuery,
} from './types.js';

/** The columns of imis_wf_instances, in the order of instanceRow. */
export const INSTANCE_COLUMNS =
  'workflow, key, state, since, created_at, last_trigger, last_transition, due_at, flags, version';

export interface InstanceRow {
  workflow: string;
  key: string;
  state: string;
  since: number | string;
  created_at: number | string;
  last_trigger: string | null;
  last_transition: string | null;
  due_at: number | string | null;
  flags: string | null;
  version: number;
}

export function instanceRow(i: WorkflowInstance): unknown[] {
  return [
    i.workflow,
    i.key,
    i.state,
    i.since,
    i.createdAt,
    i.lastTrigger ?? null,
    i.lastTransition ?? null,
    i.dueAt ?? null,
    i.flags?.length ? i.flags.join(',') : null,
    i.version,
  ];
}

/** An instance from a row read as an array, in the order of INSTANCE_COLUMNS. */
export function instanceFromArray(row: unknown[]): WorkflowInstance {
  return instanceFromRow({
    workflow: row[0] as string,
    key: row[1] as string,
    state: row[2] as string,
    since: row[3] as number,
    created_at: row[4] as number,
    last_trigger: row[5] as string | null,
    last_transition: row[6] as string | null,
    due_at: row[7] as number | null,
    flags: row[8] as string | null,
    version: row[9] as number,
  });
}

export function instanceFromRow(row: InstanceRow): WorkflowInstance {
  const instance: WorkflowInstance = {
    workflow: row.workflow,
    key: row.key,
    state: row.state,
    since: Number(row.since),
    createdAt: Number(row.created_at),
    version: Number(row.version),
  };
  if (row.last_trigger !== null) instance.lastTrigger = row.last_trigger;
  if (row.last_transition !== null) instance.lastTransition = row.last_transition;
  if (row.due_at !== null) instance.dueAt = Number(row.due_at);
  if (row.flags) instance.flags = row.flags.split(',');
  return instance;
}

export const HISTORY_COLUMNS =
  'workflow, key, at, kind, from_state, to_state, transition, trigger, actor, run_id';

export interface HistoryRow {
  workflow: string;
  key: string;
  at: number | string;
  kind: WorkflowHistoryEntry['kind'];
  from_state: string | null;
  to_state: string;
  transition: string | null;
  trigger: string;
  actor: string | null;
  run_id: string | null;
}

export function historyRow(h: WorkflowHistoryEntry): unknown[] {
  return [
    h.workflow,
    h.key,
    h.at,
    h.kind,
    h.from ?? null,
    h.to,
    h.transition ?? null,
    h.trigger,
    h.actor ?? null,
    h.runId ?? null,
  ];
}

export function historyFromRow(row: HistoryRow): WorkflowHistoryEntry {
  const entry: WorkflowHistoryEntry = {
    workflow: row.workflow,
    key: row.key,
    at: Number(row.at),
    kind: row.kind,
    to: row.to_state,
    trigger: row.trigger,
  };
  if (row.from_state !== null) entry.from = row.from_state;
  if (row.transition !== null) entry.transition = row.transition;
  if (row.actor !== null) entry.actor = row.actor;
  if (row.run_id !== null) entry.runId = row.run_id;
  return entry;
}

/**
 * The WHERE clause of an Instances page, for either engine (`param(n)` writes the n-th placeholder).
 * Longest in state first: ordered by (since, key), keyset-paged.
 */
export function instancesWhere(
  query: WorkflowInstanceQuery,
  param: (n: number) => string,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const clauses: string[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(clause(param(params.length)));
  };
  add((p) => `workflow = ${p}`, query.workflow);
  if (query.state) add((p) => `state = ${p}`, query.state);
  if (query.sinceFrom !== undefined && Number.isFinite(query.sinceFrom))
    add((p) => `since >= ${p}`, query.sinceFrom);
  if (query.sinceTo !== undefined && Number.isFinite(query.sinceTo))
    add((p) => `since < ${p}`, query.sinceTo);
  if (query.flagged) clauses.push('flags IS NOT NULL');
  const cursor = decodeInstanceCursor(query.after);
  if (cursor) {
    params.push(cursor.since, cursor.key);
    clauses.push(`(since, key) > (${param(params.length - 1)}, ${param(params.length)})`);
  }
  return { sql: `WHERE ${clauses.join(' AND ')}`, params };
}

export function instancePageLimit(query: WorkflowInstanceQuery): number {
  const n = Math.trunc(Number(query.limit ?? 50));
  return Number.isFinite(n) ? Math.min(Math.max(n, 1), 1000) : 50;
}

/** A page of instances from up to `limit + 1` rows: the one more says there is a next page. */
export function instancePage(rows: InstanceRow[], limit: number): WorkflowInstancePage {
  const instances = rows.slice(0, limit).map(instanceFromRow);
  return rows.length > limit
    ? { instances, next: encodeInstanceCursor(instances[instances.length - 1]) }
    : { instances };
}

function encodeInstanceCursor(i: WorkflowInstance): string {
  return Buffer.from(JSON.stringify([i.since, i.key])).toString('base64url');
}

function decodeInstanceCursor(cursor: string | undefined): { since: number; key: string } | undefined {
  if (!cursor) return undefined;
  try {
    const [since, key] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, string];
    if (typeof since === 'number' && typeof key === 'string') return { since, key };
  } catch {
    // an unreadable cursor pages from the start
  }
  return undefined;
}
