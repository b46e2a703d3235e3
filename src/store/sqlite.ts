import { randomUUID } from 'node:crypto';
import { closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { makePrivateDir, openPrivate } from './private-files.js';
import type { RunRecord } from '../runs/tracker.js';
import { GroupCommit } from './batch.js';
import {
  TEXT_MATCH,
  containsPattern,
  countQuery,
  countSql,
  countsOf,
  cursorAt,
  dedupFromRow,
  encodeCursor,
  inputFromRow,
  inputRow,
  pageLimit,
  RUN_COLUMNS,
  runFromData,
  runsWhere,
  runWrite,
} from './rows.js';
import type { DedupRow, InputRow, RunWrite } from './rows.js';
import type { CheckpointerData, WorkerAnswer } from './checkpointer.js';
import { openSqlite } from './sqlite-driver.js';
import type { SqliteDb, SqliteDriverName, SqliteStatement } from './sqlite-driver.js';
import { runsPruner } from './sqlite-prune.js';
import type { PruneRequest } from './sqlite-prune.js';
import { LATEST_VERSION, MIGRATIONS, SCHEMA_TABLE, SchemaTooNewError } from './schema.js';
import { SqliteWorkflowTables } from './sqlite-workflow.js';
import { SqliteFires } from './fires.js';
import type {
  AcceptOnce,
  AcceptedInput,
  DedupRecord,
  DeltaChange,
  RetentionPolicy,
  RunCounts,
  RunPage,
  RunQuery,
  SeenMark,
  Store,
  StoredExport,
} from './types.js';
import { StoreWithWorkflows } from './workflow-tables.js';

export interface SqliteOptions {
  /** The database file (':memory:' for tests). */
  file: string;
  /** NORMAL (default): an acknowledged input survives a killed process; FULL: also a power cut. */
  synchronous?: 'NORMAL' | 'FULL';
  busyTimeoutMs?: number;
  /**
   * How long an accepted input stays owned by this process without a heartbeat. An embedded store
   * has one process: at start-up it takes over every pending input at once.
   */
  leaseMs?: number;
  /**
   * Checkpoints of the WAL in a worker thread once the store is busy (default true; files only):
   * run by the writing connection, as SQLite does by default, each one copies the WAL into the
   * database file and fsyncs it while the event loop waits.
   */
  backgroundCheckpoints?: boolean;
  /** The SQLite engine (default: the first that loads, see driverOrder in sqlite-driver.ts). */
  driver?: SqliteDriverName;
}

/** Rows written before the checkpoints move to a worker thread: a lightly used store needs none. */
const CHECKPOINTER_AFTER_ROWS = 1000;
/** SQLite's own default of `wal_autocheckpoint`, restored if the worker thread fails. */
const AUTOCHECKPOINT_PAGES = 1000;

/** An input being accepted; acceptOnce's `seen` is remembered first, and `found` says it was there. */
interface Accepting {
  input: AcceptedInput;
  seen?: SeenMark;
  found?: AcceptOnce;
}

/**
 * The embedded store: one SQLite file in WAL mode through node:sqlite or better-sqlite3
 * (sqlite-driver.ts; both synchronous, so each method does its work at once and returns a settled promise). Writes of accepted inputs and
 * finished runs are grouped per turn of the event loop into one transaction.
 */
export class SqliteStore extends StoreWithWorkflows implements Store {
  readonly engine = 'sqlite' as const;
  private readonly db: SqliteDb;
  /** The SQLite engine in use, and why the preferred one could not load (for the log). */
  readonly driver: SqliteDriverName;
  readonly fellBack: string | undefined;
  private readonly owner = randomUUID();
  private readonly leaseMs: number;
  /** Accepted inputs, with the delivery id to remember first (acceptOnce) and what that found. */
  private readonly accepts: GroupCommit<Accepting>;
  /** Finished runs (runWrite): serialised when finished, so later changes to the record do not leak in. */
  private readonly finishes: GroupCommit<RunWrite>;
  private readonly statements;
  private readonly claimedAtStart = new Set<string>();
  /** Prepared runs queries, one per combination of filters. */
  private readonly queries = new Map<string, SqliteStatement>();
  /** 'waiting': not started yet (until CHECKPOINTER_AFTER_ROWS); 'off': SQLite checkpoints itself. */
  private checkpoints: 'waiting' | 'worker' | 'off';
  private checkpointer: Worker | undefined;
  /** Prunes on this connection (until the worker thread runs, or if it fails). */
  private readonly pruneHere: (request: PruneRequest) => number;
  private workerRequests = 0;
  private rowsWritten = 0;
  private readonly file: string;
  private readonly synchronous: 'NORMAL' | 'FULL';
  private readonly busyTimeoutMs: number;
  protected readonly workflows: SqliteWorkflowTables;
  private readonly fires: SqliteFires;

  constructor(options: SqliteOptions) {
    super();
    // The file holds member data: readable by the owner only (SQLite gives its -wal and -shm files
    // the database file's permissions).
    if (options.file !== ':memory:') {
      makePrivateDir(dirname(options.file));
      closeSync(openPrivate(options.file, 'a'));
    }
    this.file = options.file;
    this.synchronous = options.synchronous === 'FULL' ? 'FULL' : 'NORMAL';
    this.busyTimeoutMs = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000));
    this.checkpoints =
      options.file !== ':memory:' && options.backgroundCheckpoints !== false ? 'waiting' : 'off';
    const opened = openSqlite(options.file, { driver: options.driver });
    this.db = opened;
    this.driver = opened.driver;
    this.fellBack = opened.fellBack;
    try {
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec(`PRAGMA synchronous = ${this.synchronous}`);
      this.db.exec(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
      this.db.exec('PRAGMA foreign_keys = ON');
      migrate(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.leaseMs = options.leaseMs ?? 30_000;
    const db = this.db;
    this.workflows = new SqliteWorkflowTables(db);
    this.fires = new SqliteFires(db, this.owner, this.leaseMs);
    this.statements = {
      insertInput: db.prepare(
        `INSERT OR REPLACE INTO imis_inputs (id, source, payload, extra, accepted_at, owner, lease_until)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteInput: db.prepare(`DELETE FROM imis_inputs WHERE id = ?`),
      upsertRun: db.prepare(
        `INSERT OR REPLACE INTO imis_runs (${RUN_COLUMNS})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertValue: db.prepare(`INSERT INTO imis_run_values (run_id, name, value) VALUES (?, ?, ?)`),
      claim: db.prepare(
        `UPDATE imis_inputs SET owner = ?, lease_until = ?
         WHERE source = ? AND owner <> ? AND (lease_until < ? OR ?)
         RETURNING id, source, payload, extra, accepted_at`,
      ),
      renew: db.prepare(`UPDATE imis_inputs SET lease_until = ? WHERE owner = ?`),
      getRun: db.prepare(`SELECT data FROM imis_runs WHERE id = ?`),
      getState: db.prepare(`SELECT value FROM imis_node_state WHERE node_id = ? AND kind = ?`),
      setState: db.prepare(
        `INSERT INTO imis_node_state (node_id, kind, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (node_id, kind) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ),
      markSeen: db.prepare(
        `INSERT INTO imis_seen (scope, id, expires_at, answer) VALUES (?, ?, ?, ?)
         ON CONFLICT (scope, id) DO UPDATE SET expires_at = excluded.expires_at, answer = excluded.answer
         WHERE imis_seen.expires_at <= ?`,
      ),
      seenAnswer: db.prepare(`SELECT answer FROM imis_seen WHERE scope = ? AND id = ?`),
      unmarkSeen: db.prepare(`DELETE FROM imis_seen WHERE scope = ? AND id = ?`),
      pruneSeen: db.prepare(`DELETE FROM imis_seen WHERE expires_at <= ?`),
      putExport: db.prepare(
        `INSERT OR REPLACE INTO imis_exports (key_hash, format, body, etag, last_modified, row_count, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      getExport: db.prepare(
        `SELECT ${EXPORT_COLUMNS} FROM imis_exports
         WHERE key_hash = ? AND (expires_at IS NULL OR expires_at > ?)`,
      ),
      deleteExport: db.prepare(`DELETE FROM imis_exports WHERE key_hash = ?`),
      pruneExports: db.prepare(`DELETE FROM imis_exports WHERE expires_at <= ?`),
      getDedup: db.prepare(
        `SELECT result, settled, created_at FROM imis_dedup WHERE scope = ? AND dedup_key = ?`,
      ),
      openDedup: db.prepare(
        `INSERT INTO imis_dedup (scope, dedup_key, result, created_at, settled) VALUES (?, ?, 'null', ?, 0)
         ON CONFLICT (scope, dedup_key) DO NOTHING`,
      ),
      putDedup: db.prepare(
        `INSERT INTO imis_dedup (scope, dedup_key, result, created_at, settled) VALUES (?, ?, ?, ?, 1)
         ON CONFLICT (scope, dedup_key) DO UPDATE SET result = excluded.result, created_at = excluded.created_at, settled = 1
         WHERE imis_dedup.settled = 0`,
      ),
      dropDedup: db.prepare(`DELETE FROM imis_dedup WHERE scope = ? AND dedup_key = ? AND settled = 0`),
      dueRetries: db.prepare(`SELECT id FROM imis_runs WHERE retry_at <= ? ORDER BY retry_at LIMIT ?`, {
        arrays: true,
      }),
      claimRetry: db.prepare(`UPDATE imis_runs SET retry_at = NULL WHERE id = ? AND retry_at IS NOT NULL`),
      pruneDedup: db.prepare(`DELETE FROM imis_dedup WHERE created_at < ?`),
      getDelta: db.prepare(`SELECT row_key, hash FROM imis_delta WHERE scope = ?`, { arrays: true }),
      setDelta: db.prepare(
        `INSERT INTO imis_delta (scope, row_key, hash) VALUES (?, ?, ?)
         ON CONFLICT (scope, row_key) DO UPDATE SET hash = excluded.hash`,
      ),
      removeDelta: db.prepare(`DELETE FROM imis_delta WHERE scope = ? AND row_key = ?`),
      clearDelta: db.prepare(`DELETE FROM imis_delta WHERE scope = ?`),
    };
    this.pruneHere = runsPruner(db);
    const insertMany = db.transaction((items: Accepting[]) => {
      const now = Date.now();
      const leaseUntil = now + this.leaseMs;
      const { insertInput, markSeen, seenAnswer } = this.statements;
      for (const item of items) {
        const { input, seen } = item;
        if (
          seen &&
          markSeen.run(seen.scope, seen.id, seen.expiresAt.getTime(), seen.answer, now).changes === 0
        ) {
          item.found = {
            accepted: false,
            answer:
              (seenAnswer.get(seen.scope, seen.id) as { answer: string | null } | undefined)?.answer ??
              undefined,
          };
          continue;
        }
        insertInput.run(...inputRow(input, this.owner, leaseUntil));
      }
    });
    const finishMany = db.transaction((runs: RunWrite[]) => {
      const { upsertRun, insertValue, deleteInput } = this.statements;
      for (const { row, values } of runs) {
        // A run stored again (a re-settle) keeps only its new values: REPLACE deletes the old row,
        // and its values with it (the foreign key's ON DELETE CASCADE).
        upsertRun.run(...row);
        for (const [name, value] of values) insertValue.run(row[0], name, value);
        deleteInput.run(row[0]);
      }
    });
    this.accepts = new GroupCommit((items) => {
      insertMany(items);
      this.wrote(items.length);
    });
    this.finishes = new GroupCommit((items) => {
      finishMany(items);
      this.wrote(items.length);
    });
  }

  private wrote(rows: number): void {
    if (this.checkpoints !== 'waiting') return;
    this.rowsWritten += rows;
    if (this.rowsWritten >= CHECKPOINTER_AFTER_ROWS) this.startCheckpointer();
  }

  /** Moves the WAL checkpoints to a worker thread; SQLite keeps doing them itself if that fails. */
  private startCheckpointer(): void {
    const workerData: CheckpointerData = {
      file: this.file,
      driver: this.driver,
      synchronous: this.synchronous,
      busyTimeoutMs: this.busyTimeoutMs,
      intervalMs: 100,
      restartPages: 4 * AUTOCHECKPOINT_PAGES,
    };
    let worker: Worker;
    try {
      worker = new Worker(join(__dirname, 'checkpointer.js'), { workerData });
    } catch {
      this.checkpoints = 'off';
      return;
    }
    worker.unref();
    const fallBack = () => {
      if (this.checkpointer !== worker) return; // closed on purpose
      this.checkpointer = undefined;
      this.checkpoints = 'off';
      if (this.db.open) this.db.exec(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    };
    worker.on('error', fallBack);
    worker.on('exit', fallBack);
    this.checkpointer = worker;
    this.checkpoints = 'worker';
    this.db.exec('PRAGMA wal_autocheckpoint = 0');
  }

  private async stopCheckpointer(): Promise<void> {
    const worker = this.checkpointer;
    this.checkpointer = undefined;
    this.checkpoints = 'off';
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    const timer = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  accept(input: AcceptedInput): Promise<void> {
    return this.accepts.add({ input });
  }

  async acceptOnce(input: AcceptedInput, seen: SeenMark): Promise<AcceptOnce> {
    const item: Accepting = { input, seen };
    await this.accepts.add(item);
    return item.found ?? { accepted: true };
  }

  claimFire(nodeId: string, dueAt: number, input: AcceptedInput, missed?: boolean): Promise<boolean> {
    return this.fires.claimFire(nodeId, dueAt, input, missed);
  }

  lastFire(nodeId: string): Promise<number | undefined> {
    return this.fires.lastFire(nodeId);
  }

  fireSent(runId: string): Promise<void> {
    return this.fires.fireSent(runId);
  }

  async claimPending(source: string): Promise<AcceptedInput[]> {
    const now = Date.now();
    // Embedded: the first claim of a source after start-up takes every input earlier processes left.
    const takeAll = !this.claimedAtStart.has(source);
    this.claimedAtStart.add(source);
    const rows = this.statements.claim.all(
      this.owner,
      now + this.leaseMs,
      source,
      this.owner,
      now,
      takeAll ? 1 : 0,
    ) as InputRow[];
    return rows.map(inputFromRow).sort((a, b) => (a.acceptedAt < b.acceptedAt ? -1 : 1));
  }

  /** Extends this process's ownership of its pending inputs. */
  async heartbeat(): Promise<void> {
    this.statements.renew.run(Date.now() + this.leaseMs, this.owner);
  }

  finishRun(run: RunRecord): Promise<void> {
    let write: RunWrite;
    try {
      write = runWrite(run); // a copy, as the record stands now
    } catch (err) {
      return Promise.reject(err as Error); // e.g. a value JSON cannot hold: this run only
    }
    return this.finishes.add(write);
  }

  async importInputs(inputs: AcceptedInput[]): Promise<void> {
    this.db.transaction(() => {
      for (const input of inputs) this.statements.insertInput.run(...inputRow(input, '', 0));
    })();
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = this.statements.getRun.get(id) as { data: string } | undefined;
    return row ? runFromData(row.data) : undefined;
  }

  async listRuns(query: RunQuery): Promise<RunPage> {
    if (query.text) return this.searchRuns(query, query.text);
    const limit = pageLimit(query);
    const where = runsWhere(query, 'sqlite', () => '?');
    const sql = `SELECT data FROM imis_runs ${where.sql} ORDER BY started_at DESC, id DESC LIMIT ?`;
    const rows = this.prepared(sql).all(...where.params, limit + 1) as { data: string }[];
    const runs = rows.slice(0, limit).map((r) => runFromData(r.data));
    return rows.length > limit ? { runs, next: encodeCursor(runs[runs.length - 1]) } : { runs };
  }

  /**
   * A text search scans the newest TEXT_WINDOW runs the other filters select (SQLite's calls are
   * synchronous: a scan of a million runs would hold webhook acceptance for seconds); when the
   * page is not full by then, its cursor continues after the last run scanned.
   */
  private searchRuns(query: RunQuery, text: string): RunPage {
    const limit = pageLimit(query);
    const where = runsWhere({ ...query, text: undefined }, 'sqlite', () => '?');
    const window = `SELECT data, started_at, id FROM imis_runs ${where.sql} ORDER BY started_at DESC, id DESC LIMIT ${TEXT_WINDOW}`;
    const pattern = containsPattern(text);
    const rows = this.prepared(
      `SELECT data FROM (${window}) WHERE ${TEXT_MATCH.sqlite(() => '?')} ORDER BY started_at DESC, id DESC LIMIT ?`,
    ).all(...where.params, pattern, pattern, pattern, limit + 1) as { data: string }[];
    const runs = rows.slice(0, limit).map((r) => runFromData(r.data));
    if (rows.length > limit) return { runs, next: encodeCursor(runs[runs.length - 1]) };
    const last = this.prepared(
      `SELECT started_at, id FROM imis_runs ${where.sql} ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ${TEXT_WINDOW - 1}`,
    ).get(...where.params) as { started_at: number; id: string } | undefined;
    return last ? { runs, next: cursorAt(last.started_at, last.id) } : { runs };
  }

  async countRuns(query: RunQuery): Promise<RunCounts> {
    if (query.text) {
      // Counted in the window a search page scans (see searchRuns): "at least" when it is full.
      const where = runsWhere(countQuery({ ...query, text: undefined }), 'sqlite', () => '?');
      const pattern = containsPattern(query.text);
      const rows = this.prepared(
        `SELECT status, COUNT(*) AS n
         FROM (SELECT status, data FROM imis_runs ${where.sql} ORDER BY started_at DESC, id DESC LIMIT ${TEXT_WINDOW})
         WHERE ${TEXT_MATCH.sqlite(() => '?')} GROUP BY status`,
      ).all(...where.params, pattern, pattern, pattern) as { status: string; n: number }[];
      const scanned = this.prepared(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM imis_runs ${where.sql} LIMIT ${TEXT_WINDOW})`,
      ).get(...where.params) as { n: number };
      return countsOf(rows, scanned.n >= TEXT_WINDOW);
    }
    const count = countSql(query, 'sqlite', () => '?');
    return countsOf(this.prepared(count.sql).all(...count.params) as { status: string; n: number }[]);
  }

  /** The runs query `sql`, prepared once per combination of filters. */
  private prepared(sql: string): SqliteStatement {
    let statement = this.queries.get(sql);
    if (!statement) this.queries.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /**
   * Once the worker thread runs (see startCheckpointer), its connection deletes, so that a large
   * backlog does not hold Node-RED's event loop (this connection only waits in its busy handler
   * when it writes during one of the worker's batches); until then, and if the worker fails, this
   * connection does.
   */
  async pruneRuns(policy: RetentionPolicy, now = new Date(), batch = 1000): Promise<number> {
    const request: PruneRequest = {
      cutoffMs: now.getTime() - policy.maxAgeMs,
      maxCount: policy.maxCount,
      batch,
    };
    const worker = this.checkpointer;
    if (worker) {
      const removed = await this.askWorker(worker, request).catch(() => undefined);
      if (removed !== undefined) return removed;
    }
    const removed = this.pruneHere(request);
    // A prune writes as much WAL as the rows it deletes: it starts the worker too.
    this.wrote(removed);
    return removed;
  }

  /** One prune batch on the worker's connection; rejects if the worker fails or exits meanwhile. */
  private askWorker(worker: Worker, prune: PruneRequest): Promise<number> {
    return new Promise((resolve, reject) => {
      const id = ++this.workerRequests;
      const onMessage = (message: WorkerAnswer) => {
        if (message.id !== id) return;
        done();
        if (message.error !== undefined) reject(new Error(message.error));
        else resolve(message.removed ?? 0);
      };
      const onExit = () => {
        done();
        reject(new Error('the store worker stopped'));
      };
      const done = () => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.postMessage({ id, prune });
    });
  }

  async getNodeState<T>(nodeId: string, kind: string): Promise<T | undefined> {
    const row = this.statements.getState.get(nodeId, kind) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async setNodeState(nodeId: string, kind: string, value: unknown): Promise<void> {
    this.statements.setState.run(nodeId, kind, JSON.stringify(value ?? null), Date.now());
  }

  async markSeen(scope: string, id: string, expiresAt: Date, now = new Date()): Promise<boolean> {
    return this.statements.markSeen.run(scope, id, expiresAt.getTime(), null, now.getTime()).changes > 0;
  }

  async unmarkSeen(scope: string, id: string): Promise<void> {
    this.statements.unmarkSeen.run(scope, id);
  }

  async pruneSeen(now = new Date()): Promise<number> {
    return this.statements.pruneSeen.run(now.getTime()).changes;
  }

  async putExport(entry: StoredExport): Promise<void> {
    this.statements.putExport.run(
      entry.keyHash,
      entry.format,
      entry.body,
      entry.etag,
      entry.lastModified,
      entry.rows,
      entry.expiresAt ?? null,
    );
  }

  async getExport(keyHash: string, now = new Date()): Promise<StoredExport | undefined> {
    const row = this.statements.getExport.get(keyHash, now.getTime()) as ExportRow | undefined;
    return row ? exportFromRow(row) : undefined;
  }

  async deleteExport(keyHash: string): Promise<void> {
    this.statements.deleteExport.run(keyHash);
  }

  async pruneExports(now = new Date()): Promise<number> {
    return this.statements.pruneExports.run(now.getTime()).changes;
  }

  async getDedup(scope: string, key: string): Promise<DedupRecord | undefined> {
    const row = this.statements.getDedup.get(scope, key) as DedupRow | undefined;
    return row && dedupFromRow(row);
  }

  async openDedup(scope: string, key: string, now = new Date()): Promise<void> {
    this.statements.openDedup.run(scope, key, now.getTime());
  }

  async putDedup(scope: string, key: string, result: unknown, now = new Date()): Promise<void> {
    this.statements.putDedup.run(scope, key, JSON.stringify(result ?? null), now.getTime());
  }

  async dropDedup(scope: string, key: string): Promise<void> {
    this.statements.dropDedup.run(scope, key);
  }

  async dueRetries(now: Date, limit: number): Promise<string[]> {
    return (this.statements.dueRetries.all(now.getTime(), limit) as [string][]).map(([id]) => id);
  }

  async claimRetry(id: string): Promise<boolean> {
    await this.finishes.drain(); // a run finished just now may still wait in the group commit
    return this.statements.claimRetry.run(id).changes === 1;
  }

  async pruneDedup(before: Date): Promise<number> {
    return this.statements.pruneDedup.run(before.getTime()).changes;
  }

  async getDeltaHashes(scope: string): Promise<Map<string, string>> {
    return new Map(this.statements.getDelta.all(scope) as [string, string][]);
  }

  /**
   * One transaction per batch of DELTA_BATCH keys, yielding to the event loop between batches, so
   * that committing 100,000 keys never holds up accepting inputs for long.
   */
  async commitDelta(scope: string, change: DeltaChange): Promise<void> {
    const { setDelta, removeDelta, clearDelta } = this.statements;
    const write = this.db.transaction((clear: boolean, set: [string, string][], remove: string[]) => {
      if (clear) clearDelta.run(scope);
      for (const [key, hash] of set) setDelta.run(scope, key, hash);
      for (const key of remove) removeDelta.run(scope, key);
    });
    let clear = change.replace === true;
    for (let i = 0; i < change.set.length; i += DELTA_BATCH) {
      write(clear, change.set.slice(i, i + DELTA_BATCH), []);
      clear = false;
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (let i = 0; i < change.remove.length; i += DELTA_BATCH) {
      write(clear, [], change.remove.slice(i, i + DELTA_BATCH));
      clear = false;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (clear) write(true, [], []);
  }

  // One process uses the file: there is no other to send to or hear from.
  async publish(_channel: string, _message: string): Promise<void> {}
  async subscribe(_channel: string, _handler: (message: string) => void): Promise<() => void> {
    return () => undefined;
  }

  async flush(): Promise<void> {
    await Promise.all([this.accepts.drain(), this.finishes.drain(), this.workflows.drain()]);
  }

  flushSync(): void {
    if (!this.db.open) return;
    this.accepts.flushSync();
    this.finishes.flushSync();
    this.workflows.flushSync();
  }

  async close(): Promise<void> {
    await Promise.all([this.accepts.drain(), this.finishes.drain(), this.workflows.drain()]);
    // The worker's connection closes first, so that closing the last one checkpoints the WAL.
    await this.stopCheckpointer();
    if (!this.db.open) return;
    // A process that stops cleanly hands its unfinished inputs over at once.
    this.statements.renew.run(0, this.owner);
    this.db.close();
  }
}

/** Runs a text search scans per page at most (about 50 ms for 20,000 runs). */
export const TEXT_WINDOW = 20_000;

/** Delta Hash keys written per transaction. */
const DELTA_BATCH = 5000;

export interface ExportRow {
  key_hash: string;
  format: 'json' | 'csv';
  body: Buffer | Uint8Array;
  etag: string;
  last_modified: string;
  row_count: number;
  expires_at: number | string | null;
}

/** The columns of an ExportRow, for both engines' SELECTs. */
export const EXPORT_COLUMNS = 'key_hash, format, body, etag, last_modified, row_count, expires_at';

export function exportFromRow(row: ExportRow): StoredExport {
  const body = row.body;
  return {
    keyHash: row.key_hash,
    format: row.format,
    // node:sqlite returns a BLOB as a Uint8Array: the same bytes, as a Buffer.
    body: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    etag: row.etag,
    lastModified: row.last_modified,
    rows: Number(row.row_count),
    // PostgreSQL returns BIGINT as a string.
    ...(row.expires_at === null ? {} : { expiresAt: Number(row.expires_at) }),
  };
}

function migrate(db: SqliteDb): void {
  db.exec(
    `CREATE TABLE IF NOT EXISTS ${SCHEMA_TABLE} (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`,
  );
  const apply = db.transaction(() => {
    const row = db.prepare(`SELECT MAX(version) AS v FROM ${SCHEMA_TABLE}`).get() as { v: number | null };
    const current = row.v ?? 0;
    if (current > LATEST_VERSION) throw new SchemaTooNewError(current);
    for (const m of MIGRATIONS.filter((m) => m.version > current)) {
      db.exec(m.sqlite);
      db.prepare(`INSERT INTO ${SCHEMA_TABLE} (version, applied_at) VALUES (?, ?)`).run(
        m.version,
        Date.now(),
      );
    }
  }, true);
  apply();
}
