import type { RunRecord, RunStatus } from '../runs/tracker.js';

/**
 * A trigger's accepted input, committed before the caller is told "accepted", so that a run whose
 * caller got 200/202 is never lost, even if the process is killed right after answering.
 */
export interface AcceptedInput {
  /** Run id: also the message id of the run. */
  id: string;
  /** Id of the trigger node that accepted it. */
  source: string;
  payload: unknown;
  /** Extra message properties the trigger set (e.g. the metadata output property). */
  extra?: Record<string, unknown>;
  /** ISO time. */
  acceptedAt: string;
}

/**
 * A delivery's id remembered with its input (acceptOnce): a copy of it, while unexpired, is not
 * accepted again and gets `answer` (what the first was answered, as text).
 */
export interface SeenMark {
  scope: string;
  id: string;
  expiresAt: Date;
  answer: string;
}

/** What acceptOnce did: accepted the input, or found its delivery's id with the answer kept. */
export type AcceptOnce = { accepted: true } | { accepted: false; answer?: string };

/** Which runs a dashboard page shows; every field narrows. Newest first. */
export interface RunQuery {
  flowId?: string;
  triggerId?: string;
  status?: RunStatus;
  /** Started at or after (ISO time). */
  since?: string;
  /** Started before (ISO time). */
  until?: string;
  /** Runs whose business key starts with this text (the key itself included); `%`, `_` are literal. */
  businessKey?: string;
  /** Runs that have each of these named values (RunRecord.values), exactly: name and value. */
  values?: Record<string, string>;
  /**
   * Free text: runs whose input or error contains it (case-insensitive for ASCII). A scan of the
   * runs the other filters select, newest first: the first page of a frequent text comes at once.
   * SQLite scans at most TEXT_WINDOW runs per page (its queries hold the event loop): a page may
   * then hold fewer runs, even none, with a cursor to search on.
   */
  text?: string;
  /** Re-runs of this run (its re-run chain). */
  rerunOf?: string;
  /** Only runs not re-run yet (bulk re-run: a run already re-run is not re-run again). */
  notRerun?: boolean;
  /** Page size (1..1000, default 100). */
  limit?: number;
  /** Cursor: the `next` of the previous page. */
  after?: string;
}

/**
 * How many runs of each status a query selects (its `status`, cursor and limit aside); `capped`:
 * some count stopped at its cap (rows.ts COUNT_CAP), or the text search its window: "at least".
 */
export type RunCounts = Record<RunStatus, number> & { capped: boolean };

export interface RunPage {
  runs: RunRecord[];
  /** Cursor of the next page; absent on the last page. */
  next?: string;
}

/** Runs kept: the newest `maxCount`, none older than `maxAgeMs`. */
export interface RetentionPolicy {
  maxAgeMs: number;
  maxCount: number;
}

/**
 * A published export (Export Data to URL): how to serve it. Its body, exactly as served, is kept in
 * parts (ExportsRepository.body reads them).
 */
export interface StoredExport {
  /** SHA-256 of the link's secret key: the key itself is never stored. */
  keyHash: string;
  format: 'json' | 'csv';
  /** Names the parts of the body this row serves (each publish writes new ones). */
  bodyId: string;
  /** The body's length in bytes. */
  bytes: number;
  etag: string;
  /** ISO time, whole seconds. */
  lastModified: string;
  rows: number;
  /** Epoch ms after which the link answers 404 and the data is deleted; absent: never. */
  expiresAt?: number;
}

/** One successful Delta Hash run's changes to the hashes of its node (see Store.commitDelta). */
export interface DeltaChange {
  /** `[key, hash]` of the rows new or changed: inserted or replaced. */
  set: [string, string][];
  /** Keys that disappeared: deleted. */
  remove: string[];
  /** Forget every other key of the scope first (a reset: the run compared against nothing). */
  replace?: boolean;
}

/**
 * One instance of an integration workflow: where one record (or one run) stands. Times are epoch
 * milliseconds. `version` grows by one with every change: a write names the version it read, so a
 * change made meanwhile (another process, a timeout) is never overwritten (see WorkflowConflict).
 */
export interface WorkflowInstance {
  workflow: string;
  key: string;
  state: string;
  /** Entered the current state at. */
  since: number;
  createdAt: number;
  /** Trigger type (or `timeout`, `reset`) of the last change. */
  lastTrigger?: string;
  /** Code of the last transition fired. */
  lastTransition?: string;
  /** When the current state's timeout falls due; absent when it has none. */
  dueAt?: number;
  /** `state-missing`: the state is no longer in the definition. */
  flags?: string[];
  version: number;
}

/** One line of an instance's history: its creation, a transition, a reset. */
export interface WorkflowHistoryEntry {
  workflow: string;
  key: string;
  at: number;
  kind: 'created' | 'transition' | 'reset';
  from?: string;
  to: string;
  transition?: string;
  /** Trigger type, `timeout` or `reset`. */
  trigger: string;
  /** Who did it from the editor (user name), or the run that carried the message. */
  actor?: string;
  runId?: string;
}

/**
 * A change of one instance: its new values, the version it was read at (0: it must not exist yet)
 * and the history lines it adds. Written atomically, grouped with other changes.
 */
export interface WorkflowChange {
  instance: WorkflowInstance;
  expectedVersion: number;
  history: WorkflowHistoryEntry[];
}

/** What the Instances view shows: one workflow, filters narrow; longest in state first. */
export interface WorkflowInstanceQuery {
  workflow: string;
  state?: string;
  /** In state since at or after / before (epoch ms). */
  sinceFrom?: number;
  sinceTo?: number;
  /** Only instances with a flag (e.g. a state missing from the definition). */
  flagged?: boolean;
  /** Page size (1..1000, default 50). */
  limit?: number;
  /** Cursor: the `next` of the previous page. */
  after?: string;
}

export interface WorkflowInstancePage {
  instances: WorkflowInstance[];
  next?: string;
}

/**
 * What to do with an instance whose timeout fell due, decided by the workflow runtime inside the
 * store's transaction: a change to write, or `clear` (no timeout applies any more: forget the due time).
 */
export type DueDecision = { change: WorkflowChange } | { clear: true };

export class WorkflowConflict extends Error {
  constructor(workflow: string, key: string) {
    super(`Instance ${key} of workflow ${workflow} was changed meanwhile`);
    this.name = 'WorkflowConflict';
  }
}

/** What the store holds of a de-duplication key. */
export type DedupRecord = { settled: true; result: unknown } | { settled: false; openedAt: Date };
