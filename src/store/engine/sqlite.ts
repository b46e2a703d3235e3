import { closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { makePrivateDir, openPrivate } from '../private-files.js';
import { SQLITE_DIALECT, SqliteConnection } from './sqlite-connection.js';
import { openSqlite } from './sqlite-driver.js';
import type { SqliteDriverName } from './sqlite-driver.js';
import type { CheckpointerData, WorkerAnswer } from './sqlite-worker.js';
import type { Engine, Messages, PruneRequest, Rows, Step, TransactionOptions, Tx } from './types.js';

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

/** One process uses the file: there is no other to send to or hear from. */
const NO_MESSAGES: Messages = {
  publish: async () => undefined,
  subscribe: async () => () => undefined,
  drain: async () => undefined,
  close: async () => undefined,
};

// A repository uses an engine only through `Engine` (types.ts, the note at its top).

/**
 * The embedded engine: one SQLite file in WAL mode through node:sqlite or better-sqlite3
 * (sqlite-driver.ts). Both are synchronous: each statement, and each transaction's body, is done
 * before the call returns (a settled promise), so nothing interleaves on the one connection. Once
 * the store is busy, WAL checkpoints and the runs' prune move to a worker thread (sqlite-worker.ts).
 */
export class SqliteEngine implements Engine {
  readonly dialect = SQLITE_DIALECT;
  readonly shared = false;
  readonly synchronous = true;
  readonly messages = NO_MESSAGES;
  readonly description: string;
  readonly fellBack: string | undefined;
  /** The SQLite engine in use. */
  readonly driver: SqliteDriverName;
  readonly connection: SqliteConnection;
  /** 'waiting': not started yet (until CHECKPOINTER_AFTER_ROWS); 'off': SQLite checkpoints itself. */
  private checkpoints: 'waiting' | 'worker' | 'off';
  private checkpointer: Worker | undefined;
  private workerRequests = 0;
  private readonly file: string;
  private readonly durability: 'NORMAL' | 'FULL';
  private readonly busyTimeoutMs: number;

  constructor(options: SqliteOptions) {
    // The file holds member data: readable by the owner only (SQLite gives its -wal and -shm files
    // the database file's permissions).
    if (options.file !== ':memory:') {
      makePrivateDir(dirname(options.file));
      closeSync(openPrivate(options.file, 'a'));
    }
    this.file = options.file;
    this.durability = options.synchronous === 'FULL' ? 'FULL' : 'NORMAL';
    this.busyTimeoutMs = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000));
    this.checkpoints =
      options.file !== ':memory:' && options.backgroundCheckpoints !== false ? 'waiting' : 'off';
    const db = openSqlite(options.file, { driver: options.driver });
    this.driver = db.driver;
    this.fellBack = db.fellBack;
    this.description = `sqlite (${db.driver})`;
    this.connection = new SqliteConnection(db);
    try {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${this.durability}`);
      db.exec(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
      db.exec('PRAGMA foreign_keys = ON');
      this.connection.migrate();
    } catch (err) {
      db.close();
      throw err;
    }
  }

  get open(): boolean {
    return this.connection.db.open;
  }

  async all<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return this.connection.statement(sql).all(...params) as R[];
  }

  async get<R>(sql: string, params: readonly unknown[] = []): Promise<R | undefined> {
    return this.connection.statement(sql).get(...params) as R | undefined;
  }

  async values<R extends unknown[]>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return this.connection.arrayStatement(sql).all(...params) as R[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    const n = this.connection.exec({ kind: 'run', sql, params }) as number;
    this.wrote();
    return n;
  }

  async runMany(sql: string, rows: Rows): Promise<number> {
    return this.transaction((t) => t.runMany(sql, rows));
  }

  /** The reads share one read transaction: one WAL read lock instead of one per read. */
  async getMany<R extends unknown[]>(
    sql: string,
    paramLists: readonly (readonly unknown[])[],
  ): Promise<(R | undefined)[]> {
    if (!this.open) return paramLists.map(() => undefined);
    const s = this.connection.arrayStatement(sql);
    return this.connection.db.transaction(() => paramLists.map((p) => s.get(...p) as R | undefined))();
  }

  async transaction<T>(body: (tx: Tx) => Step<T>, options: TransactionOptions = {}): Promise<T> {
    const result = this.connection.transaction(body, options.write === true);
    this.wrote();
    return result;
  }

  /**
   * Once the worker thread runs (see startCheckpointer), its connection prunes, so that a large
   * backlog does not hold Node-RED's event loop (this connection only waits in its busy handler
   * when it writes during one of the worker's batches); until then, and if the worker fails, the
   * caller prunes on this connection.
   */
  async pruneElsewhere(request: PruneRequest): Promise<number | undefined> {
    const worker = this.checkpointer;
    return worker ? this.askWorker(worker, request).catch(() => undefined) : undefined;
  }

  async close(): Promise<void> {
    // The worker's connection closes first, so that closing the last one checkpoints the WAL.
    await this.stopCheckpointer();
    if (this.open) this.connection.db.close();
  }

  /** Starts the checkpointer once CHECKPOINTER_AFTER_ROWS rows have been written. */
  private wrote(): void {
    if (this.checkpoints === 'waiting' && this.connection.changes >= CHECKPOINTER_AFTER_ROWS)
      this.startCheckpointer();
  }

  /** Moves the WAL checkpoints to a worker thread; SQLite keeps doing them itself if that fails. */
  private startCheckpointer(): void {
    const workerData: CheckpointerData = {
      file: this.file,
      driver: this.driver,
      synchronous: this.durability,
      busyTimeoutMs: this.busyTimeoutMs,
      intervalMs: 100,
      restartPages: 4 * AUTOCHECKPOINT_PAGES,
    };
    let worker: Worker;
    try {
      worker = new Worker(join(__dirname, 'sqlite-worker.js'), { workerData });
    } catch {
      this.checkpoints = 'off';
      return;
    }
    worker.unref();
    const fallBack = () => {
      if (this.checkpointer !== worker) return; // closed on purpose
      this.checkpointer = undefined;
      this.checkpoints = 'off';
      if (this.open) this.connection.db.exec(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    };
    worker.on('error', fallBack);
    worker.on('exit', fallBack);
    this.checkpointer = worker;
    this.checkpoints = 'worker';
    this.connection.db.exec('PRAGMA wal_autocheckpoint = 0');
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
}
