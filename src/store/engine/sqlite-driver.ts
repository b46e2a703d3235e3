/**
 * The one place that knows the two SQLite engines the embedded store runs on: `node:sqlite`, built
 * into Node 22.13 and later (no compiler, no native module to rebuild when Node is upgraded), and
 * better-sqlite3, an optional native module (the only choice on Node 20). Both open the same file
 * format: an imis.db written by one opens with the other. The store, its worker thread and its
 * prune see only `SqliteDb` below; every difference between the engines is handled here.
 */
import { accessSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';

export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3';

/**
 * What can be bound to a `?`: a string, number, bigint, null or bytes (both engines refuse
 * booleans and undefined, at run time).
 */
type SqlValue = unknown;

export interface SqliteStatement {
  run(...params: SqlValue[]): { changes: number };
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
}

export interface SqliteDb {
  readonly driver: SqliteDriverName;
  readonly open: boolean;
  /** `arrays`: rows come as arrays of the columns' values (the hot reads skip building objects). */
  prepare(sql: string, options?: { arrays?: boolean }): SqliteStatement;
  exec(sql: string): void;
  /**
   * `fn` in one transaction (a SAVEPOINT when already in one): committed when it returns, rolled
   * back when it throws. `immediate` takes the write lock at once (BEGIN IMMEDIATE).
   */
  transaction<A extends unknown[], R>(fn: (...args: A) => R, immediate?: boolean): (...args: A) => R;
  close(): void;
}

export interface OpenOptions {
  /** Default: auto (see `driverOrder`). */
  driver?: SqliteDriverName;
  /** Fails instead of creating the file (the worker thread opens the store's file). */
  fileMustExist?: boolean;
}

/** The store cannot use SQLite at all: the message says why and what to do. */
export class SqliteUnavailableError extends Error {
  override readonly name = 'SqliteUnavailableError';
  constructor(
    message: string,
    /** A few words for a node's status. */
    readonly short: string,
  ) {
    super(message);
  }
}

/**
 * The order the engines are tried in when none is named: better-sqlite3 first, as it is faster on
 * the store's write path (docs/store.md §SQLite engines: the measurement that decided it), then
 * node:sqlite, built into Node 22.13+, when better-sqlite3 cannot load (never built: installed
 * without a compiler or with --ignore-scripts; built for another Node). The environment variable
 * IMIS_SQLITE_DRIVER names one (benchmarks, tests).
 */
export function driverOrder(
  named: SqliteDriverName | undefined,
  env: NodeJS.ProcessEnv = process.env,
): SqliteDriverName[] {
  const wanted = named ?? driverName(env.IMIS_SQLITE_DRIVER);
  return wanted ? [wanted] : ['better-sqlite3', 'node:sqlite'];
}

/** The driver a setting names, or undefined for auto (anything else). */
export function driverName(value: unknown): SqliteDriverName | undefined {
  return value === 'node:sqlite' || value === 'better-sqlite3' ? value : undefined;
}

/**
 * Opens `file` with the first engine of `driverOrder` that loads; `fellBack` says why an earlier
 * one could not (for the log). Throws SqliteUnavailableError, with each engine's reason and the
 * fix, when none can.
 */
export function openSqlite(file: string, options: OpenOptions = {}): SqliteDb & { fellBack?: string } {
  const reasons: string[] = [];
  for (const driver of driverOrder(options.driver)) {
    const load = driver === 'node:sqlite' ? loadNodeSqlite() : loadBetterSqlite3();
    if (typeof load === 'string') {
      reasons.push(load);
      continue;
    }
    try {
      const db = load(file, options.fileMustExist === true);
      return reasons.length ? Object.assign(db, { fellBack: reasons.join(' ') }) : db;
    } catch (err) {
      const reason = nativeModuleProblem(err);
      if (!reason) throw err; // the file's own problem (permissions, a full disk): no other engine helps
      reasons.push(reason);
    }
  }
  const short = reasons.some((r) => r.includes('npm rebuild')) ? 'SQLite module needs rebuild' : 'no SQLite';
  throw new SqliteUnavailableError(reasons.join(' '), short);
}

type Opener = (file: string, mustExist: boolean) => SqliteDb;

// ----- shared -----------------------------------------------------------------------------------

type Control = 'begin' | 'beginImmediate' | 'commit' | 'rollback' | 'save' | 'release' | 'undo';
const CONTROL: Record<Control, string> = {
  begin: 'BEGIN',
  beginImmediate: 'BEGIN IMMEDIATE',
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  save: 'SAVEPOINT imis_nested',
  release: 'RELEASE imis_nested',
  undo: 'ROLLBACK TO imis_nested',
};

/**
 * Transactions as better-sqlite3's `db.transaction` makes them, for both engines: BEGIN, or a
 * SAVEPOINT when nested; COMMIT when `fn` returns, ROLLBACK when it throws.
 */
abstract class Transactions {
  private depth = 0;
  private control: Partial<Record<Control, SqliteStatement>> = {};

  abstract prepare(sql: string): SqliteStatement;

  private run(what: Control): void {
    (this.control[what] ??= this.prepare(CONTROL[what])).run();
  }

  transaction<A extends unknown[], R>(fn: (...args: A) => R, immediate = false): (...args: A) => R {
    return (...args: A): R => {
      const nested = this.depth > 0;
      this.run(nested ? 'save' : immediate ? 'beginImmediate' : 'begin');
      this.depth++;
      let result: R;
      try {
        result = fn(...args);
      } catch (err) {
        this.depth--;
        this.undo(nested);
        throw err;
      }
      this.depth--;
      try {
        this.run(nested ? 'release' : 'commit');
      } catch (err) {
        this.undo(nested);
        throw err;
      }
      return result;
    };
  }

  private undo(nested: boolean): void {
    try {
      if (nested) {
        this.run('undo');
        this.run('release');
      } else this.run('rollback');
    } catch {
      // SQLite rolled back already (e.g. a full disk): the first error is the one that tells.
    }
  }
}

// ----- node:sqlite ------------------------------------------------------------------------------

/** The part of node:sqlite used here (@types/node of Node 20 has none). */
interface NodeStatementSync {
  run(...params: SqlValue[]): { changes: number | bigint };
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
  setReturnArrays?(enabled: boolean): void;
}
interface NodeDatabaseSync {
  readonly isOpen?: boolean;
  readonly isTransaction?: boolean;
  prepare(sql: string): NodeStatementSync;
  exec(sql: string): void;
  close(): void;
}
interface NodeSqliteModule {
  DatabaseSync: new (file: string, options?: { open?: boolean }) => NodeDatabaseSync;
}

let nodeSqlite: NodeSqliteModule | string | undefined;

function loadNodeSqlite(): Opener | string {
  nodeSqlite ??= requireNodeSqlite();
  const module = nodeSqlite;
  if (typeof module === 'string') return module;
  return (file, mustExist) => {
    if (mustExist && file !== ':memory:') accessSync(file); // as better-sqlite3's fileMustExist
    return new NodeSqliteDb(new module.DatabaseSync(file));
  };
}

function requireNodeSqlite(): NodeSqliteModule | string {
  // node:sqlite warns once per process that it is experimental (it is stable in use since Node
  // 22.13 and its API here is the small subset above): that line alone is kept out of the log.
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    (emitWarning as (w: string | Error, ...r: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    const module = process.getBuiltinModule('node:sqlite') as NodeSqliteModule | undefined;
    return module?.DatabaseSync
      ? module
      : `Node ${process.versions.node} has no built-in SQLite (node:sqlite needs Node 22.13 or later).`;
  } catch (err) {
    return `node:sqlite could not load: ${(err as Error).message}.`;
  } finally {
    process.emitWarning = emitWarning;
  }
}

class NodeSqliteDb extends Transactions implements SqliteDb {
  readonly driver = 'node:sqlite' as const;
  private closed = false;

  constructor(private readonly db: NodeDatabaseSync) {
    super();
  }

  get open(): boolean {
    return this.db.isOpen ?? !this.closed;
  }

  prepare(sql: string, options?: { arrays?: boolean }): SqliteStatement {
    const statement = this.db.prepare(sql);
    if (!options?.arrays) return new NodeStatement(statement, false);
    if (statement.setReturnArrays) {
      statement.setReturnArrays(true);
      return new NodeStatement(statement, false);
    }
    return new NodeStatement(statement, true); // before Node 22.16: the row's values, in column order
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  close(): void {
    this.closed = true;
    this.db.close();
  }
}

class NodeStatement implements SqliteStatement {
  constructor(
    private readonly s: NodeStatementSync,
    private readonly toArrays: boolean,
  ) {}

  run(...params: SqlValue[]): { changes: number } {
    return { changes: Number(this.s.run(...params).changes) };
  }

  get(...params: SqlValue[]): unknown {
    const row = this.s.get(...params);
    return this.toArrays && row ? Object.values(row) : row;
  }

  all(...params: SqlValue[]): unknown[] {
    const rows = this.s.all(...params);
    return this.toArrays ? rows.map((row) => Object.values(row as object)) : rows;
  }
}

// ----- better-sqlite3 ---------------------------------------------------------------------------

type BetterModule = typeof BetterSqlite3;
let betterSqlite3: BetterModule | string | undefined;

function loadBetterSqlite3(): Opener | string {
  betterSqlite3 ??= requireBetterSqlite3();
  const Database = betterSqlite3;
  if (typeof Database === 'string') return Database;
  return (file, mustExist) => new BetterDb(new Database(file, { fileMustExist: mustExist }));
}

function requireBetterSqlite3(): BetterModule | string {
  try {
    // Optional (package.json optionalDependencies): loaded only when used.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('better-sqlite3') as BetterModule;
  } catch (err) {
    const reason = nativeModuleProblem(err);
    return reason ?? `better-sqlite3 could not load: ${(err as Error).message}.`;
  }
}

class BetterDb extends Transactions implements SqliteDb {
  readonly driver = 'better-sqlite3' as const;

  constructor(private readonly db: BetterSqlite3.Database) {
    super();
  }

  get open(): boolean {
    return this.db.open;
  }

  prepare(sql: string, options?: { arrays?: boolean }): SqliteStatement {
    const statement = this.db.prepare(sql);
    if (options?.arrays) statement.raw(true);
    return statement as unknown as SqliteStatement;
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  close(): void {
    this.db.close();
  }
}

/**
 * The reason and the fix when `err` says a native module cannot load in this Node (built for
 * another Node version, or never built); undefined for any other error.
 */
export function nativeModuleProblem(err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : String(err);
  if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(message)) {
    const built = /NODE_MODULE_VERSION (\d+)/.exec(message)?.[1];
    return (
      `better-sqlite3 was built for another Node version${built ? ` (NODE_MODULE_VERSION ${built})` : ''} ` +
      `than this one (Node ${process.versions.node}, NODE_MODULE_VERSION ${process.versions.modules}): ` +
      `run \`npm rebuild better-sqlite3\` in the Node-RED user directory and restart Node-RED.`
    );
  }
  if (
    /Could not locate the bindings file|Cannot find module 'better-sqlite3'|better_sqlite3\.node/.test(
      message,
    )
  ) {
    return (
      `better-sqlite3 is not installed or was never built (${firstLine(message)}): ` +
      `run \`npm install better-sqlite3\` (it needs a C++ compiler where no prebuilt binary exists) ` +
      `in the Node-RED user directory, or use Node 22.13 or later.`
    );
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}
