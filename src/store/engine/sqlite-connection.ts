import { LATEST_VERSION, MIGRATIONS, SCHEMA_TABLE, SchemaTooNewError } from '../schema.js';
import type { SqliteDb, SqliteStatement } from './sqlite-driver.js';
import type { Dialect, Op, Step, Tx } from './types.js';
import { tx } from './types.js';

/** SQLite's SQL where it differs from PostgreSQL's (see Dialect). */
export const SQLITE_DIALECT: Dialect = {
  name: 'sqlite',
  skipLocked: '',
  forUpdate: '',
  inList: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  list: (values) => JSON.stringify(values),
  indexedBy: (index) => ` INDEXED BY ${index}`,
  // BINARY, SQLite's default collation, is byte order.
  byteOrder: (column) => column,
  // Each `?` is bound once: the pattern is bound three times.
  textMatch: (p) =>
    `(data LIKE ${p()} ESCAPE '\\' AND (json_extract(data, '$.input') LIKE ${p()} ESCAPE '\\'` +
    ` OR json_extract(data, '$.error') LIKE ${p()} ESCAPE '\\'))`,
};

/**
 * One SQLite connection as the repositories' statements see it: each statement prepared once (by
 * its text) and run synchronously, transactions' bodies driven to their end before returning. Used
 * by the store's connection (SqliteEngine) and by its worker thread's.
 */
export class SqliteConnection {
  private readonly statements = new Map<string, SqliteStatement>();
  private readonly arrays = new Map<string, SqliteStatement>();
  /** Rows changed so far (the checkpoints move to a worker thread once the store is busy). */
  changes = 0;

  constructor(readonly db: SqliteDb) {}

  statement(sql: string): SqliteStatement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  /** The statement returning rows as arrays of the columns' values. */
  arrayStatement(sql: string): SqliteStatement {
    let s = this.arrays.get(sql);
    if (!s) this.arrays.set(sql, (s = this.db.prepare(sql, { arrays: true })));
    return s;
  }

  exec(op: Op): unknown {
    switch (op.kind) {
      case 'all':
        return this.statement(op.sql).all(...op.params);
      case 'get':
        return this.statement(op.sql).get(...op.params);
      case 'values':
        return this.arrayStatement(op.sql).all(...op.params);
      case 'run': {
        const n = this.statement(op.sql).run(...op.params).changes;
        this.changes += n;
        return n;
      }
      case 'runMany': {
        const s = this.statement(op.sql);
        let n = 0;
        const rows = op.rows;
        for (let i = 0; i < rows.length; i++) n += s.run(...(rows.at(i) as readonly unknown[])).changes;
        this.changes += n;
        return n;
      }
    }
  }

  /** `body` to its end, its statements run at once (in the caller's transaction, if any). */
  drive<T>(body: (t: Tx) => Step<T>): T {
    const steps = body(tx);
    for (let step = steps.next(); ; step = steps.next(this.exec(step.value))) {
      if (step.done) return step.value;
    }
  }

  /** `body` in one transaction (BEGIN IMMEDIATE when `write`). */
  transaction<T>(body: (t: Tx) => Step<T>, write = false): T {
    return this.db.transaction(() => this.drive(body), write)();
  }

  /** Brings the schema to LATEST_VERSION, in one transaction. */
  migrate(): void {
    const db = this.db;
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
}
