import type pg from 'pg';
import { LATEST_VERSION, MIGRATIONS, SCHEMA_TABLE, SchemaTooNewError } from '../schema.js';
import { PostgresMessages } from './postgres-messages.js';
import { tx } from './types.js';
import type { Dialect, Engine, Messages, Op, Rows, Step, Tx } from './types.js';

export interface PostgresOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Tells this process's messages from the others' (repositories/messages.ts). */
  sender: string;
}

/** Key of the advisory lock held while migrating, so that processes starting together migrate once. */
const MIGRATION_LOCK = 0x1315_2026;

/** PostgreSQL takes at most 65,535 parameters per statement. */
const MAX_PARAMS = 65_535;

/** PostgreSQL's SQL where it differs from SQLite's (see Dialect). */
export const POSTGRES_DIALECT: Dialect = {
  name: 'postgres',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  forUpdate: ' FOR UPDATE',
  inList: (column) => `${column} = ANY(?)`,
  list: (values) => [...values],
  indexedBy: () => '',
  // The database's collation may not be byte order (en_US, ICU); "C" is.
  byteOrder: (column) => `${column} COLLATE "C"`,
  textMatch: (p) =>
    `(data ILIKE ${p()} AND (((data::json)->'input')::text ILIKE ${p()} OR ((data::json)->>'error') ILIKE ${p()}))`,
};

/** `sql` with its `?` placeholders numbered (`$1`, `$2`, ...) from `first`; `?` inside quotes stays. */
export function numbered(sql: string, first = 1): string {
  let n = first;
  let quoted = false;
  let out = '';
  for (const c of sql) {
    if (c === "'") quoted = !quoted;
    out += c === '?' && !quoted ? `$${n++}` : c;
  }
  return out;
}

type Client = Pick<pg.PoolClient, 'query'>;

// A repository uses an engine only through `Engine` (types.ts, the note at its top).

/**
 * The shared engine: PostgreSQL through a `pg` pool (loaded only when this engine is opened, so the
 * embedded store never loads it). Statements are written with `?` and numbered here, once per text.
 */
export class PostgresEngine implements Engine {
  readonly dialect = POSTGRES_DIALECT;
  readonly shared = true;
  readonly synchronous = false;
  readonly description = 'postgres';
  readonly messages: Messages;
  private readonly texts = new Map<string, string>();
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    options: PostgresOptions,
    driver: typeof pg,
  ) {
    this.messages = new PostgresMessages(driver, pool, options.url, options.sender);
  }

  static async open(options: PostgresOptions): Promise<PostgresEngine> {
    const driver = (await import('pg')).default;
    const pool = new driver.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    // An idle client's error (server restart) must not crash Node-RED; the next query reconnects.
    pool.on('error', () => undefined);
    // Nor may a client taken out of the pool for a transaction (its query fails, and is answered).
    pool.on('connect', (client) => client.on('error', () => undefined));
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return new PostgresEngine(pool, options, driver);
  }

  get open(): boolean {
    return !this.closed;
  }

  /** `sql` with numbered placeholders, converted once per text. */
  private text(sql: string): string {
    let text = this.texts.get(sql);
    if (text === undefined) this.texts.set(sql, (text = numbered(sql)));
    return text;
  }

  async all<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.exec(this.pool, { kind: 'all', sql, params })) as R[];
  }

  async get<R>(sql: string, params: readonly unknown[] = []): Promise<R | undefined> {
    return (await this.exec(this.pool, { kind: 'get', sql, params })) as R | undefined;
  }

  async values<R extends unknown[]>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.exec(this.pool, { kind: 'values', sql, params })) as R[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.exec(this.pool, { kind: 'run', sql, params })) as number;
  }

  /** One statement when the rows fit in one (no transaction to open), else a transaction. */
  async runMany(sql: string, rows: Rows): Promise<number> {
    const width = rows.at(0)?.length ?? 1;
    if (rows.length * width <= MAX_PARAMS) return this.runManyOn(this.pool, sql, rows);
    return this.transaction((t) => t.runMany(sql, rows));
  }

  /** The reads go on the pool's connections at once. */
  getMany<R extends unknown[]>(
    sql: string,
    paramLists: readonly (readonly unknown[])[],
  ): Promise<(R | undefined)[]> {
    return Promise.all(paramLists.map(async (params) => ((await this.values<R>(sql, params)) as R[])[0]));
  }

  /** `body` on one pooled connection between BEGIN and COMMIT (ROLLBACK if it throws). */
  async transaction<T>(body: (t: Tx) => Step<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const steps = body(tx);
      let step = steps.next();
      while (!step.done) step = steps.next(await this.exec(client, step.value));
      await client.query('COMMIT');
      return step.value;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.messages.close();
    this.closed = true;
    await this.pool.end();
  }

  private async exec(client: Client, op: Op): Promise<unknown> {
    if (op.kind === 'runMany') return this.runManyOn(client, op.sql, op.rows);
    const text = this.text(op.sql);
    const values = op.params as unknown[];
    if (op.kind === 'values') return (await client.query({ text, values, rowMode: 'array' })).rows;
    const result = await client.query(text, values);
    if (op.kind === 'all') return result.rows;
    if (op.kind === 'get') return result.rows[0];
    return result.rowCount ?? 0;
  }

  /**
   * The INSERT `sql` for every row, as multi-row statements: its `VALUES (?, ...)` repeated for
   * as many rows as MAX_PARAMS parameters allow per statement.
   */
  private async runManyOn(client: Client, sql: string, rows: Rows): Promise<number> {
    const tuple = /\bVALUES\s*\(([^()]*)\)/i.exec(sql);
    if (!tuple) throw new Error(`runMany needs an INSERT ... VALUES (?, ...): ${sql}`);
    const before = sql.slice(0, tuple.index);
    const after = sql.slice(tuple.index + tuple[0].length);
    const width = tuple[1].split('?').length - 1;
    const per = Math.max(1, Math.floor(MAX_PARAMS / Math.max(1, width)));
    let changed = 0;
    for (let i = 0; i < rows.length; i += per) {
      const params: unknown[] = [];
      const groups: string[] = [];
      for (let r = i; r < Math.min(rows.length, i + per); r++) {
        const row = rows.at(r) as readonly unknown[];
        params.push(...row);
        groups.push(`(${numbered(tuple[1], params.length - row.length + 1)})`);
      }
      const result = await client.query(`${before}VALUES ${groups.join(', ')}${after}`, params);
      changed += result.rowCount ?? 0;
    }
    return changed;
  }
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${SCHEMA_TABLE} (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`,
      );
      const { rows } = await client.query<{ v: number | null }>(
        `SELECT MAX(version) AS v FROM ${SCHEMA_TABLE}`,
      );
      const current = Number(rows[0]?.v ?? 0);
      if (current > LATEST_VERSION) throw new SchemaTooNewError(current);
      for (const m of MIGRATIONS.filter((m) => m.version > current)) {
        await client.query('BEGIN');
        try {
          await client.query(m.postgres);
          await client.query(`INSERT INTO ${SCHEMA_TABLE} (version, applied_at) VALUES ($1, $2)`, [
            m.version,
            Date.now(),
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
