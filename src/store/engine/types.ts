/**
 * The store's engines: what a repository (src/store/repositories/) runs its SQL through. An engine
 * only gives connections, transactions and the dialect; every statement is written once, in the
 * repository, with `?` placeholders, for both engines.
 *
 * How a repository uses it:
 * - One statement: `await engine.all<Row>(sql, params)`, `.get`, `.run` (answers rows changed),
 *   `.values` (rows as arrays of the columns' values, for the hot reads).
 * - Several in one transaction: a generator that runs each statement with `yield*`:
 *
 *       engine.transaction(function* (tx) {
 *         const row = yield* tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM imis_seen WHERE scope = ?', [scope]);
 *         yield* tx.run('DELETE FROM imis_seen WHERE scope = ?', [scope]);
 *         return row?.n ?? 0;
 *       });
 *
 *   SQLite runs it synchronously, on its one connection, before `transaction` returns (so nothing
 *   else interleaves, and a process exit can still commit: flushSync); PostgreSQL awaits each
 *   statement on one pooled connection. The body must not await anything else.
 * - Many rows of one INSERT: `tx.runMany(sql, rows)` (`VALUES (?, ...)` once in the SQL): SQLite
 *   runs the prepared statement per row, PostgreSQL sends multi-row statements.
 * - What differs between the engines' SQL is asked of `engine.dialect` (a list bound to one `?`,
 *   `FOR UPDATE SKIP LOCKED`, index hints, the byte-order collation), never tested by name.
 */

export type EngineName = 'sqlite' | 'postgres';

/**
 * The rows of a `runMany`: an array of rows, or RowsOf (each row made when it is run, then dropped).
 * Arrays have `at` too.
 */
export interface Rows {
  readonly length: number;
  at(index: number): readonly unknown[] | undefined;
}

/**
 * The rows of `items`, each made by `toRow` only when the engine runs it. SQLite runs one row at a
 * time: made all at once, a group's rows (up to 1,000, each holding its serialised payload) would
 * all be alive together, each scavenge of V8's young generation during the group would copy them,
 * and V8 may then make such rows in the old generation (allocation-site pretenuring), where each
 * keeps its strings alive until the next full GC. PostgreSQL makes them all for its multi-row
 * INSERT. (The accept path's cost per input is measured by `npm run bench`, store section.)
 */
export class RowsOf<T> implements Rows {
  constructor(
    private readonly items: readonly T[],
    private readonly toRow: (item: T) => readonly unknown[],
  ) {}

  get length(): number {
    return this.items.length;
  }

  at(index: number): readonly unknown[] | undefined {
    return index >= 0 && index < this.items.length ? this.toRow(this.items[index]) : undefined;
  }
}

/** One statement for the engine to run; a transaction's body yields these (see Sql). */
export type Op =
  | { kind: 'all' | 'get' | 'values' | 'run'; sql: string; params: readonly unknown[] }
  | { kind: 'runMany'; sql: string; rows: Rows };

/** A statement inside a transaction: `yield*` it for its result. */
export type Step<T> = Generator<Op, T, unknown>;

/** Runs statements inside a transaction (see the note at the top). */
export interface Tx {
  all<R>(sql: string, params?: readonly unknown[]): Step<R[]>;
  get<R>(sql: string, params?: readonly unknown[]): Step<R | undefined>;
  values<R extends unknown[]>(sql: string, params?: readonly unknown[]): Step<R[]>;
  /** Answers how many rows changed. */
  run(sql: string, params?: readonly unknown[]): Step<number>;
  /** The INSERT `sql` (one `VALUES (?, ...)`) for each of `rows`; answers how many rows changed. */
  runMany(sql: string, rows: Rows): Step<number>;
}

/** What differs between the engines' SQL, in one place per engine. */
export interface Dialect {
  readonly name: EngineName;
  /** ` FOR UPDATE SKIP LOCKED` (PostgreSQL), or nothing: SQLite has one writer at a time. */
  readonly skipLocked: string;
  /** ` FOR UPDATE` (PostgreSQL), or nothing. */
  readonly forUpdate: string;
  /** `column` is one of a list of texts bound to one `?` (bind `list(values)`). */
  inList(column: string): string;
  list(values: readonly string[]): unknown;
  /** SQLite's `INDEXED BY` hint (its planner's choice is poor there); nothing on PostgreSQL. */
  indexedBy(index: string): string;
  /** A text column compared in byte (code point) order: the order of a prefix's range. */
  byteOrder(column: string): string;
  /** Whether `text` (a LIKE pattern, `\` escapes) is found in a run's input or error (rows.ts). */
  textMatch(param: () => string): string;
}

export interface TransactionOptions {
  /** Takes the write lock at once (SQLite's BEGIN IMMEDIATE); PostgreSQL locks rows as it goes. */
  write?: boolean;
}

export interface Engine {
  readonly dialect: Dialect;
  /** Several processes may share the store (PostgreSQL); SQLite's file has one. */
  readonly shared: boolean;
  /** How the log names it: `sqlite (better-sqlite3)`, `postgres`. */
  readonly description: string;
  /** Why the preferred SQLite engine could not load (for the log); undefined otherwise. */
  readonly fellBack?: string;
  all<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  get<R>(sql: string, params?: readonly unknown[]): Promise<R | undefined>;
  values<R extends unknown[]>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** The INSERT `sql` for each of `rows`, in one transaction (see Tx.runMany). */
  runMany(sql: string, rows: Rows): Promise<number>;
  /**
   * One row (as an array of its columns' values) of the same query per parameter list: SQLite reads
   * them in one read transaction, PostgreSQL on the pool's connections at once.
   */
  getMany<R extends unknown[]>(
    sql: string,
    paramLists: readonly (readonly unknown[])[],
  ): Promise<(R | undefined)[]>;
  /** `body` in one transaction: committed when it returns, rolled back when it throws. */
  transaction<T>(body: (tx: Tx) => Step<T>, options?: TransactionOptions): Promise<T>;
  /**
   * A runs prune batch on a connection of its own (SQLite's worker thread, so that a large backlog
   * does not hold the event loop); undefined when there is none: the caller runs it here.
   */
  pruneElsewhere?(request: PruneRequest): Promise<number | undefined>;
  /** Messages between the processes sharing the store (repositories/messages.ts). */
  readonly messages: Messages;
  /** Its queries hold the event loop (SQLite): long scans are cut into windows. */
  readonly synchronous: boolean;
  /** Closes the connections (the repositories have written what they batched). */
  close(): Promise<void>;
  /** Not closed yet. */
  readonly open: boolean;
}

/** What one runs prune batch is told: runs started before `cutoffMs` go, and all but the newest `maxCount`. */
export interface PruneRequest {
  cutoffMs: number;
  maxCount: number;
  /** At most this many rows go. */
  batch: number;
}

/**
 * Messages to the other processes sharing the store: see repositories/messages.ts for the
 * contract. PostgreSQL: NOTIFY/LISTEN; SQLite: one process, nothing to send.
 */
export interface Messages {
  publish(channel: string, message: string): Promise<void>;
  subscribe(
    channel: string,
    handler: (message: string) => void,
    onError?: (err: Error) => void,
  ): Promise<() => void>;
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** The statements of a transaction body, as `Tx` hands them to the engine. */
export const tx: Tx = {
  *all<R>(sql: string, params: readonly unknown[] = []): Step<R[]> {
    return (yield { kind: 'all', sql, params }) as R[];
  },
  *get<R>(sql: string, params: readonly unknown[] = []): Step<R | undefined> {
    return (yield { kind: 'get', sql, params }) as R | undefined;
  },
  *values<R extends unknown[]>(sql: string, params: readonly unknown[] = []): Step<R[]> {
    return (yield { kind: 'values', sql, params }) as R[];
  },
  *run(sql: string, params: readonly unknown[] = []): Step<number> {
    return (yield { kind: 'run', sql, params }) as number;
  },
  *runMany(sql: string, rows: Rows): Step<number> {
    return (yield { kind: 'runMany', sql, rows }) as number;
  },
};
