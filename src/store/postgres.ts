import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { RunRecord } from '../runs/tracker.js';
import { GroupCommit } from './batch.js';
import {
  countSql,
  countsOf,
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
import { LATEST_VERSION, MIGRATIONS, SCHEMA_TABLE, SchemaTooNewError } from './schema.js';
import { EXPORT_COLUMNS, exportFromRow } from './sqlite.js';
import type { ExportRow } from './sqlite.js';
import { PostgresFires } from './fires.js';
import { PostgresMessages } from './postgres-messages.js';
import { PostgresWorkflowTables } from './postgres-workflow.js';
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

export interface PostgresOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long an accepted input stays owned by this process without a heartbeat (default 30 s). */
  leaseMs?: number;
}

/** Key of the advisory lock held while migrating, so that processes starting together migrate once. */
const MIGRATION_LOCK = 0x1315_2026;

/** An input being accepted; acceptOnce's `seen` is remembered first, and `found` says it was there. */
interface Accepting {
  input: AcceptedInput;
  seen?: SeenMark;
  found?: AcceptOnce;
}

/**
 * The shared store: PostgreSQL through a `pg` pool, same tables and contract as the SQLite one.
 * Accepted inputs and finished runs are written in groups (one multi-row statement per group);
 * pending inputs are owned by a process under a lease, so a live process's inputs are never taken
 * by another, and a dead one's are taken over once its lease has run out.
 */
export class PostgresStore extends StoreWithWorkflows implements Store {
  readonly engine = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly owner = randomUUID();
  private readonly leaseMs: number;
  /** Accepted inputs, with the delivery id to remember first (acceptOnce) and what that found. */
  private readonly accepts: GroupCommit<Accepting>;
  /** Finished runs (runWrite): serialised when finished, so later changes to the record do not leak in. */
  private readonly finishes: GroupCommit<RunWrite>;
  protected readonly workflows: PostgresWorkflowTables;
  private readonly messages: PostgresMessages;
  private readonly fires: PostgresFires;
  /** When a heartbeat last failed (the server unreachable): 0, never. */
  private heartbeatFailedAt = 0;

  private constructor(options: PostgresOptions) {
    super();
    this.pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    // An idle client's error (server restart) must not crash Node-RED; the next query reconnects.
    this.pool.on('error', () => undefined);
    // Nor may a client taken out of the pool for a transaction (its query fails, and is answered).
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    this.leaseMs = options.leaseMs ?? 30_000;
    this.accepts = new GroupCommit((inputs) => this.insertInputs(inputs));
    this.finishes = new GroupCommit((rows) => this.writeFinished(rows));
    this.workflows = new PostgresWorkflowTables(this.pool);
    this.messages = new PostgresMessages(this.pool, options.url, this.owner);
    this.fires = new PostgresFires(this.pool, this.owner, this.leaseMs);
  }

  static async open(options: PostgresOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.migrate();
    } catch (err) {
      await store.pool.end().catch(() => undefined);
      throw err;
    }
    return store;
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
    // After an outage of the server every lease may have run out, the live processes' too: their
    // inputs are left to them until they have had time to renew (a heartbeat every lease/3).
    if (now - this.heartbeatFailedAt < this.leaseMs * 1.5) return [];
    const { rows } = await this.pool.query<InputRow>(
      `UPDATE imis_inputs SET owner = $1, lease_until = $2
       WHERE id IN (SELECT id FROM imis_inputs WHERE source = $3 AND owner <> $1 AND lease_until < $4
                    FOR UPDATE SKIP LOCKED)
       RETURNING id, source, payload, extra, accepted_at`,
      [this.owner, now + this.leaseMs, source, now],
    );
    return rows.map(inputFromRow).sort((a, b) => (a.acceptedAt < b.acceptedAt ? -1 : 1));
  }

  async heartbeat(): Promise<void> {
    try {
      await this.pool.query(`UPDATE imis_inputs SET lease_until = $1 WHERE owner = $2`, [
        Date.now() + this.leaseMs,
        this.owner,
      ]);
    } catch (err) {
      this.heartbeatFailedAt = Date.now();
      throw err;
    }
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
    for (let i = 0; i < inputs.length; i += 1000) {
      const { sql, params } = multiRow(inputs.slice(i, i + 1000).map((input) => inputRow(input, '', 0)));
      await this.pool.query(
        `INSERT INTO imis_inputs (id, source, payload, extra, accepted_at, owner, lease_until) VALUES ${sql}
         ON CONFLICT (id) DO NOTHING`,
        params,
      );
    }
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const { rows } = await this.pool.query<{ data: string }>(`SELECT data FROM imis_runs WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? runFromData(rows[0].data) : undefined;
  }

  async listRuns(query: RunQuery): Promise<RunPage> {
    const limit = pageLimit(query);
    const where = runsWhere(query, 'postgres', (n) => `$${n}`);
    const { rows } = await this.pool.query<{ data: string }>(
      `SELECT data FROM imis_runs ${where.sql} ORDER BY started_at DESC, id DESC LIMIT $${where.params.length + 1}`,
      [...where.params, limit + 1],
    );
    const runs = rows.slice(0, limit).map((r) => runFromData(r.data));
    return rows.length > limit ? { runs, next: encodeCursor(runs[runs.length - 1]) } : { runs };
  }

  async countRuns(query: RunQuery): Promise<RunCounts> {
    const count = countSql(query, 'postgres', (n) => `$${n}`);
    const { rows } = await this.pool.query<{ status: string; n: string }>(count.sql, count.params);
    return countsOf(rows);
  }

  async pruneRuns(policy: RetentionPolicy, now = new Date(), batch = 1000): Promise<number> {
    const aged = await this.pool.query(
      `DELETE FROM imis_runs WHERE id IN (SELECT id FROM imis_runs WHERE started_at < $1 LIMIT $2)`,
      [now.getTime() - policy.maxAgeMs, batch],
    );
    let removed = aged.rowCount ?? 0;
    if (removed < batch) {
      const edge = await this.pool.query<{ started_at: string; id: string }>(
        `SELECT started_at, id FROM imis_runs ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET $1`,
        [Math.max(0, policy.maxCount - 1)],
      );
      if (edge.rows[0]) {
        const counted = await this.pool.query(
          `DELETE FROM imis_runs WHERE id IN
             (SELECT id FROM imis_runs WHERE (started_at, id) < ($1, $2) ORDER BY started_at, id LIMIT $3)`,
          [edge.rows[0].started_at, edge.rows[0].id, batch - removed],
        );
        removed += counted.rowCount ?? 0;
      }
    }
    return removed;
  }

  async getNodeState<T>(nodeId: string, kind: string): Promise<T | undefined> {
    const { rows } = await this.pool.query<{ value: string }>(
      `SELECT value FROM imis_node_state WHERE node_id = $1 AND kind = $2`,
      [nodeId, kind],
    );
    return rows[0] ? (JSON.parse(rows[0].value) as T) : undefined;
  }

  async setNodeState(nodeId: string, kind: string, value: unknown): Promise<void> {
    await this.pool.query(
      `INSERT INTO imis_node_state (node_id, kind, value, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (node_id, kind) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [nodeId, kind, JSON.stringify(value ?? null), Date.now()],
    );
  }

  async markSeen(scope: string, id: string, expiresAt: Date, now = new Date()): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO imis_seen (scope, id, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (scope, id) DO UPDATE SET expires_at = excluded.expires_at WHERE imis_seen.expires_at <= $4`,
      [scope, id, expiresAt.getTime(), now.getTime()],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async unmarkSeen(scope: string, id: string): Promise<void> {
    await this.pool.query(`DELETE FROM imis_seen WHERE scope = $1 AND id = $2`, [scope, id]);
  }

  async pruneSeen(now = new Date()): Promise<number> {
    const result = await this.pool.query(`DELETE FROM imis_seen WHERE expires_at <= $1`, [now.getTime()]);
    return result.rowCount ?? 0;
  }

  async putExport(entry: StoredExport): Promise<void> {
    await this.pool.query(
      `INSERT INTO imis_exports (key_hash, format, body, etag, last_modified, row_count, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (key_hash) DO UPDATE SET format = excluded.format, body = excluded.body,
         etag = excluded.etag, last_modified = excluded.last_modified, row_count = excluded.row_count,
         expires_at = excluded.expires_at`,
      [
        entry.keyHash,
        entry.format,
        entry.body,
        entry.etag,
        entry.lastModified,
        entry.rows,
        entry.expiresAt ?? null,
      ],
    );
  }

  async getExport(keyHash: string, now = new Date()): Promise<StoredExport | undefined> {
    const { rows } = await this.pool.query<ExportRow>(
      `SELECT ${EXPORT_COLUMNS} FROM imis_exports
       WHERE key_hash = $1 AND (expires_at IS NULL OR expires_at > $2)`,
      [keyHash, now.getTime()],
    );
    return rows[0] ? exportFromRow(rows[0]) : undefined;
  }

  async deleteExport(keyHash: string): Promise<void> {
    await this.pool.query(`DELETE FROM imis_exports WHERE key_hash = $1`, [keyHash]);
  }

  async pruneExports(now = new Date()): Promise<number> {
    const result = await this.pool.query(`DELETE FROM imis_exports WHERE expires_at <= $1`, [now.getTime()]);
    return result.rowCount ?? 0;
  }

  async getDedup(scope: string, key: string): Promise<DedupRecord | undefined> {
    const { rows } = await this.pool.query<DedupRow>(
      `SELECT result, settled, created_at FROM imis_dedup WHERE scope = $1 AND dedup_key = $2`,
      [scope, key],
    );
    return rows[0] && dedupFromRow(rows[0]);
  }

  async openDedup(scope: string, key: string, now = new Date()): Promise<void> {
    await this.pool.query(
      `INSERT INTO imis_dedup (scope, dedup_key, result, created_at, settled) VALUES ($1, $2, 'null', $3, 0)
       ON CONFLICT (scope, dedup_key) DO NOTHING`,
      [scope, key, now.getTime()],
    );
  }

  async putDedup(scope: string, key: string, result: unknown, now = new Date()): Promise<void> {
    await this.pool.query(
      `INSERT INTO imis_dedup (scope, dedup_key, result, created_at, settled) VALUES ($1, $2, $3, $4, 1)
       ON CONFLICT (scope, dedup_key) DO UPDATE SET result = excluded.result, created_at = excluded.created_at, settled = 1
       WHERE imis_dedup.settled = 0`,
      [scope, key, JSON.stringify(result ?? null), now.getTime()],
    );
  }

  async dropDedup(scope: string, key: string): Promise<void> {
    await this.pool.query(`DELETE FROM imis_dedup WHERE scope = $1 AND dedup_key = $2 AND settled = 0`, [
      scope,
      key,
    ]);
  }

  async dueRetries(now: Date, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM imis_runs WHERE retry_at <= $1 ORDER BY retry_at LIMIT $2`,
      [now.getTime(), limit],
    );
    return rows.map((r) => r.id);
  }

  async claimRetry(id: string): Promise<boolean> {
    await this.finishes.drain(); // a run finished just now may still wait in the group commit
    const result = await this.pool.query(
      `UPDATE imis_runs SET retry_at = NULL WHERE id = $1 AND retry_at IS NOT NULL`,
      [id],
    );
    return result.rowCount === 1;
  }

  async pruneDedup(before: Date): Promise<number> {
    const result = await this.pool.query(`DELETE FROM imis_dedup WHERE created_at < $1`, [before.getTime()]);
    return result.rowCount ?? 0;
  }

  async getDeltaHashes(scope: string): Promise<Map<string, string>> {
    const { rows } = await this.pool.query<[string, string]>({
      text: `SELECT row_key, hash FROM imis_delta WHERE scope = $1`,
      values: [scope],
      rowMode: 'array',
    });
    return new Map(rows);
  }

  /** One transaction; keys go DELTA_BATCH at a time, as two arrays per statement (unnest). */
  async commitDelta(scope: string, change: DeltaChange): Promise<void> {
    await this.transaction(async (client) => {
      if (change.replace) await client.query(`DELETE FROM imis_delta WHERE scope = $1`, [scope]);
      for (let i = 0; i < change.set.length; i += DELTA_BATCH) {
        const batch = change.set.slice(i, i + DELTA_BATCH);
        await client.query(
          `INSERT INTO imis_delta (scope, row_key, hash)
         SELECT $1, k, h FROM unnest($2::text[], $3::text[]) AS t(k, h)
         ON CONFLICT (scope, row_key) DO UPDATE SET hash = excluded.hash`,
          [scope, batch.map((e) => e[0]), batch.map((e) => e[1])],
        );
      }
      for (let i = 0; i < change.remove.length; i += DELTA_BATCH) {
        await client.query(`DELETE FROM imis_delta WHERE scope = $1 AND row_key = ANY($2::text[])`, [
          scope,
          change.remove.slice(i, i + DELTA_BATCH),
        ]);
      }
    });
  }

  publish(channel: string, message: string): Promise<void> {
    return this.messages.publish(channel, message);
  }
  subscribe(
    channel: string,
    handler: (message: string) => void,
    onError?: (err: Error) => void,
  ): Promise<() => void> {
    return this.messages.subscribe(channel, handler, onError);
  }

  async flush(): Promise<void> {
    await Promise.all([
      this.accepts.drain(),
      this.finishes.drain(),
      this.workflows.drain(),
      this.messages.drain(),
    ]);
  }

  flushSync(): void {
    // PostgreSQL cannot be written synchronously; see Store.flushSync.
  }

  async close(): Promise<void> {
    await Promise.all([
      this.accepts.drain(),
      this.finishes.drain(),
      this.workflows.drain(),
      this.messages.close(),
    ]);
    // A process that stops cleanly hands its unfinished inputs over at once.
    await this.pool
      .query(`UPDATE imis_inputs SET lease_until = 0 WHERE owner = $1`, [this.owner])
      .catch(() => undefined);
    await this.pool.end();
  }

  private async insertInputs(items: Accepting[]): Promise<void> {
    const now = Date.now();
    const leaseUntil = now + this.leaseMs;
    const insert = async (client: pg.Pool | pg.PoolClient, inputs: AcceptedInput[]) => {
      if (inputs.length === 0) return;
      const { sql, params } = multiRow(inputs.map((i) => inputRow(i, this.owner, leaseUntil)));
      await client.query(
        `INSERT INTO imis_inputs (id, source, payload, extra, accepted_at, owner, lease_until) VALUES ${sql}
         ON CONFLICT (id) DO NOTHING`,
        params,
      );
    };
    if (!items.some((item) => item.seen))
      return insert(
        this.pool,
        items.map((item) => item.input),
      );
    // Delivery ids first, in the inputs' transaction: a copy accepted meanwhile by another process
    // waits for its transaction, then is found.
    await this.transaction(async (client) => {
      const fresh: AcceptedInput[] = [];
      for (const item of items) {
        const { input, seen } = item;
        if (seen) {
          const marked = await client.query(
            `INSERT INTO imis_seen (scope, id, expires_at, answer) VALUES ($1, $2, $3, $4)
           ON CONFLICT (scope, id) DO UPDATE SET expires_at = excluded.expires_at, answer = excluded.answer
           WHERE imis_seen.expires_at <= $5`,
            [seen.scope, seen.id, seen.expiresAt.getTime(), seen.answer, now],
          );
          if ((marked.rowCount ?? 0) === 0) {
            const { rows } = await client.query<{ answer: string | null }>(
              `SELECT answer FROM imis_seen WHERE scope = $1 AND id = $2`,
              [seen.scope, seen.id],
            );
            item.found = { accepted: false, answer: rows[0]?.answer ?? undefined };
            continue;
          }
        }
        fresh.push(input);
      }
      await insert(client, fresh);
    });
  }

  /** The runs, their values and the settlement of their inputs, in one transaction. */
  private async writeFinished(runs: RunWrite[]): Promise<void> {
    // One row per id: a run finished twice in one group (a re-settle) keeps its last state.
    const byId = new Map(runs.map((run) => [run.row[0] as string, run]));
    const ids = [...byId.keys()];
    const { sql, params } = multiRow([...byId.values()].map((run) => run.row));
    // The values as three arrays (unnest): 25 values of 1,000 runs would pass PostgreSQL's limit
    // of 65,535 parameters as rows of parameters.
    const values: [string[], string[], string[]] = [[], [], []];
    for (const [id, run] of byId) {
      for (const [name, value] of run.values) {
        values[0].push(id);
        values[1].push(name);
        values[2].push(value);
      }
    }
    await this.transaction(async (client) => {
      await client.query(
        `INSERT INTO imis_runs (${RUN_COLUMNS})
       VALUES ${sql}
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
         business_key = excluded.business_key, data = excluded.data, retry_at = excluded.retry_at`,
        params,
      );
      // A run stored again (a re-settle) keeps only its new values.
      await client.query(`DELETE FROM imis_run_values WHERE run_id = ANY($1)`, [ids]);
      if (values[0].length > 0) {
        await client.query(
          `INSERT INTO imis_run_values (run_id, name, value)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
          values,
        );
      }
      await client.query(`DELETE FROM imis_inputs WHERE id = ANY($1)`, [ids]);
    });
  }

  /** `work` in one transaction on one pooled connection: committed, or rolled back if it throws. */
  private async transaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
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
}

/** Delta Hash keys per statement. */
const DELTA_BATCH = 10_000;

/** `($1, $2, ...), ($n+1, ...)` for rows of equal width, and their flattened parameters. */
function multiRow(rows: unknown[][]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const groups = rows.map((row) => {
    const start = params.length;
    params.push(...row);
    return `(${row.map((_, i) => `$${start + i + 1}`).join(', ')})`;
  });
  return { sql: groups.join(', '), params };
}
