import type { RunRecord, RunStatus } from '../runs/tracker.js';
import type { FireClaims } from './fires.js';

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

/** A published export (Export Data to URL): the body exactly as served and how to serve it. */
export interface StoredExport {
  /** SHA-256 of the link's secret key: the key itself is never stored. */
  keyHash: string;
  format: 'json' | 'csv';
  body: Buffer;
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

/** The integration workflow instances of a store, and their history (docs/workflows.md). */
export interface WorkflowTables {
  getInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined>;
  /**
   * Writes a change (grouped with others into one transaction); rejects with WorkflowConflict when
   * the instance is not at `expectedVersion` any more (nothing of the change is written).
   */
  writeInstance(change: WorkflowChange): Promise<void>;
  /** Deletes an instance and its history; answers what was deleted. */
  deleteInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined>;
  listInstances(query: WorkflowInstanceQuery): Promise<WorkflowInstancePage>;
  /** Instances per state of one workflow. */
  countInstances(workflow: string): Promise<Record<string, number>>;
  /** An instance's history, oldest first (at most `limit`, the newest). */
  instanceHistory(workflow: string, key: string, limit?: number): Promise<WorkflowHistoryEntry[]>;
  /**
   * Takes up to `limit` instances of `workflows` whose timeout is due at `now`, oldest due first,
   * and writes what `decide` says for each, in one transaction; with PostgreSQL the rows are locked
   * (SKIP LOCKED), so two processes never handle the same instance. Answers the changes written.
   */
  takeDueTimeouts(
    workflows: readonly string[],
    now: number,
    limit: number,
    decide: (instance: WorkflowInstance) => DueDecision,
  ): Promise<WorkflowChange[]>;
  /**
   * Deletes, with their history, up to `limit` instances of `workflow` that are in one of `states`
   * (its final states) and entered it before `before` (epoch ms), in one short transaction; answers
   * how many. With PostgreSQL, rows another process holds are skipped.
   */
  pruneInstances(workflow: string, states: readonly string[], before: number, limit: number): Promise<number>;
  /** The earliest due time among instances of `workflows`. */
  nextDueAt(workflows: readonly string[]): Promise<number | undefined>;
  /**
   * After a definition changed: flags the instances of `workflow` whose state is not in `states`
   * (clears the flag of the others), and sets the due time of every instance in each state of
   * `timeouts` (state → timeout ms, or null for none) from the time it entered that state.
   * Answers the flagged instances per missing state.
   */
  syncWorkflow(
    workflow: string,
    states: readonly string[],
    timeouts: Record<string, number | null>,
  ): Promise<Record<string, number>>;
}

/**
 * Everything the package remembers, behind one interface: SQLite when embedded, PostgreSQL when
 * shared by several Node-RED processes. Every method is asynchronous, whatever the engine, so that
 * callers are written once. See docs/store.md.
 */
/** What the store holds of a de-duplication key. */
export type DedupRecord = { settled: true; result: unknown } | { settled: false; openedAt: Date };

export interface Store extends WorkflowTables, FireClaims {
  readonly engine: 'sqlite' | 'postgres';

  /** Commits an accepted input (group commit: inputs arriving together share one transaction). */
  accept(input: AcceptedInput): Promise<void>;
  /**
   * Commits the input and remembers `seen` in one transaction (the same group commit), unless
   * `seen.id` is remembered and unexpired in its scope: then nothing is written and the answer
   * kept with it is returned.
   */
  acceptOnce(input: AcceptedInput, seen: SeenMark): Promise<AcceptOnce>;
  /** Accepted inputs of `source` that no live process owns, claimed by this process. */
  claimPending(source: string): Promise<AcceptedInput[]>;
  /** Extends this process's ownership of the inputs it accepted (call every lease/3). */
  heartbeat(): Promise<void>;
  /** Adds inputs accepted by an earlier version or process, owned by no one (claimable at once). */
  importInputs(inputs: AcceptedInput[]): Promise<void>;
  /** Records a finished run and settles its accepted input, if any, in one transaction (batched). */
  finishRun(run: RunRecord): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  listRuns(query: RunQuery): Promise<RunPage>;
  /** Runs per status for the dashboard's filter (its `status`, cursor and limit are ignored). */
  countRuns(query: RunQuery): Promise<RunCounts>;
  /** Deletes runs beyond the policy, at most `batch` per call; returns how many went. */
  pruneRuns(policy: RetentionPolicy, now?: Date, batch?: number): Promise<number>;

  /** Small per-node state (a cron node's schedule and enable flag), as JSON. */
  getNodeState<T>(nodeId: string, kind: string): Promise<T | undefined>;
  setNodeState(nodeId: string, kind: string, value: unknown): Promise<void>;

  /**
   * Remembers `id` in `scope` until `expiresAt`; false when it was already there and unexpired
   * (a duplicate delivery).
   */
  markSeen(scope: string, id: string, expiresAt: Date, now?: Date): Promise<boolean>;
  /** Forgets `id` in `scope` (its delivery could not be accepted after all). */
  unmarkSeen(scope: string, id: string): Promise<void>;
  pruneSeen(now?: Date): Promise<number>;

  putExport(entry: StoredExport): Promise<void>;
  /** The export under `keyHash`, unless there is none or it expired by `now`. */
  getExport(keyHash: string, now?: Date): Promise<StoredExport | undefined>;
  deleteExport(keyHash: string): Promise<void>;
  /** Deletes the exports expired by `now`; returns how many went. */
  pruneExports(now?: Date): Promise<number>;

  /** Delta Hash: the hash of each key a node committed (`scope`: the node), never the rows. */
  getDeltaHashes(scope: string): Promise<Map<string, string>>;
  /**
   * Applies a successful run's changes, in batches (100,000 keys must not hold the store for long);
   * a crash part-way leaves some keys at their old hash, so those rows count as changed once more
   * at the next run: nothing is lost.
   */
  commitDelta(scope: string, change: DeltaChange): Promise<void>;

  /**
   * De-duplicated inserts (src/core/dedup.ts) of `scope` (a node), by key: settled with the record
   * the insert made, or open (an insert was sent and its outcome is not known here). Each write is
   * committed at once, not batched: a crash must not forget it.
   */
  getDedup(scope: string, key: string): Promise<DedupRecord | undefined>;
  /** Opens the key before its insert is sent; keeps what is there already. */
  openDedup(scope: string, key: string, now?: Date): Promise<void>;
  /** Settles the key with the record iMIS made (an earlier settled record stays). */
  putDedup(scope: string, key: string, result: unknown, now?: Date): Promise<void>;
  /** Removes an open key whose insert certainly did not happen (iMIS refused it). */
  dropDedup(scope: string, key: string): Promise<void>;
  /** Forgets de-duplication records made before `before`; returns how many went. */
  pruneDedup(before: Date): Promise<number>;

  /**
   * Automatic retries planned in the runs' `retryAt` (a failed run's record carries it when it is
   * stored): the ids of those due by `now`, soonest first, at most `limit`.
   */
  dueRetries(now: Date, limit: number): Promise<string[]>;
  /** Takes the planned retry of run `id` off the list; false if another process took it first. */
  claimRetry(id: string): Promise<boolean>;

  /**
   * Sends `message` to the other processes sharing this store, to their subscribers of `channel` (a
   * lower-case name), in the order sent; not to this process. PostgreSQL: NOTIFY, under 8,000 bytes,
   * received by the processes listening at that moment. SQLite: one process, nothing to send.
   */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Calls `handler` with every message the other processes publish on `channel` from now on;
   * resolves, once listening, with the function that stops it. `onError` is told when listening is
   * interrupted (a lost connection); it resumes by itself, and what was sent meanwhile is missed.
   */
  subscribe(
    channel: string,
    handler: (message: string) => void,
    onError?: (err: Error) => void,
  ): Promise<() => void>;

  /** Resolves once every batched write so far is committed. */
  flush(): Promise<void>;
  /**
   * Commits batched writes before the process exits, where the engine can do so synchronously
   * (SQLite); elsewhere a no-op: unsettled inputs then run again at the next start (at-least-once).
   */
  flushSync(): void;
  /** Writes what is batched and closes the connection. */
  close(): Promise<void>;
}
