/**
 * Schedule fires claimed once across the processes sharing a store (issue 20). Every process runs
 * the same Cron nodes, so each arms the same due instants; a fire is one row per node and due
 * instant (`imis_fires`, primary key), and only the process whose INSERT makes the row fires it.
 * The fire's input is accepted with the claim, in the same statement or transaction, owned by the
 * claiming process under its lease, and settled (`fireSent`) just before its message is sent: if
 * the process dies between the claim and the send, another takes the input over once the lease has
 * run out (Store.claimPending), as for a webhook's input. A fire once sent is not sent again, even
 * if its process dies before its run finishes: a schedule fires at most once per due time, and a
 * fire is lost only if its process dies between settling it and sending it (no wait between).
 *
 * Rows are kept a day (FIRE_ROWS_KEPT_MS): long enough that no process's timer is that late.
 */
import type { Pool } from 'pg';
import { inputRow } from './rows.js';
import type { SqliteDb } from './sqlite-driver.js';
import type { AcceptedInput } from './types.js';

/** How long a claimed fire's row is kept. */
export const FIRE_ROWS_KEPT_MS = 24 * 60 * 60 * 1000;
/** Claims between two prunes of a node's old rows. */
const PRUNE_EVERY = 100;

/** The claims of one store (its engine's SQL behind one interface). */
export interface FireClaims {
  /**
   * Claims the fire of `nodeId` due at `dueAt` (epoch ms) for this process and accepts `input` (its
   * run) with it, owned by this process; false when a fire of that node and instant was claimed
   * already (by any process): then nothing is written.
   */
  claimFire(nodeId: string, dueAt: number, input: AcceptedInput, missed?: boolean): Promise<boolean>;
  /**
   * The latest due time of `nodeId` fired on schedule by any process (`missed` fires, made at
   * start-up for a time all processes missed, do not count: every process starting after a
   * shutdown of all must find the same time missed, whoever fired it first).
   */
  lastFire(nodeId: string): Promise<number | undefined>;
  /** The claimed fire whose run is `runId` is being sent: its input is no longer taken over. */
  fireSent(runId: string): Promise<void>;
}

/** The table of version 7 (src/store/schema.ts), the same for both engines. */
export const FIRES_TABLE = `
      CREATE TABLE imis_fires (
        node_id TEXT NOT NULL,
        due_at %TIME% NOT NULL,
        run_id TEXT NOT NULL,
        claimed_at %TIME% NOT NULL,
        missed INTEGER NOT NULL,
        PRIMARY KEY (node_id, due_at)
      );`;

/** Counts claims per node, saying when its old rows should go. */
class PruneTurns {
  private readonly claims = new Map<string, number>();
  due(nodeId: string): boolean {
    const n = (this.claims.get(nodeId) ?? 0) + 1;
    this.claims.set(nodeId, n % PRUNE_EVERY);
    return n === 1;
  }
}

export class PostgresFires implements FireClaims {
  private readonly turns = new PruneTurns();

  constructor(
    private readonly pool: Pool,
    private readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  async claimFire(nodeId: string, dueAt: number, input: AcceptedInput, missed = false): Promise<boolean> {
    const now = Date.now();
    // One statement, so one transaction: the input is written only if the fire's row was.
    const { rowCount } = await this.pool.query(
      `WITH fire AS (
         INSERT INTO imis_fires (node_id, due_at, run_id, claimed_at, missed) VALUES ($1, $2, $3, $4, $11)
         ON CONFLICT DO NOTHING RETURNING run_id)
       INSERT INTO imis_inputs (id, source, payload, extra, accepted_at, owner, lease_until)
       SELECT $3, $5, $6, $7, $8, $9, $10 FROM fire`,
      [
        nodeId,
        dueAt,
        input.id,
        now,
        ...inputRow(input, this.owner, now + this.leaseMs).slice(1),
        missed ? 1 : 0,
      ],
    );
    if (this.turns.due(nodeId)) {
      await this.pool
        .query(`DELETE FROM imis_fires WHERE node_id = $1 AND due_at < $2`, [nodeId, now - FIRE_ROWS_KEPT_MS])
        .catch(() => undefined);
    }
    return rowCount === 1;
  }

  async fireSent(runId: string): Promise<void> {
    await this.pool.query(`DELETE FROM imis_inputs WHERE id = $1`, [runId]);
  }

  async lastFire(nodeId: string): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ at: string | null }>(
      `SELECT MAX(due_at) AS at FROM imis_fires WHERE node_id = $1 AND missed = 0`,
      [nodeId],
    );
    return rows[0]?.at == null ? undefined : Number(rows[0].at);
  }
}

export class SqliteFires implements FireClaims {
  private readonly turns = new PruneTurns();
  private readonly claim: (nodeId: string, dueAt: number, input: AcceptedInput, missed: number) => boolean;
  private readonly prune;
  private readonly last;
  private readonly sent;

  constructor(db: SqliteDb, owner: string, leaseMs: number) {
    const insertFire = db.prepare(
      `INSERT INTO imis_fires (node_id, due_at, run_id, claimed_at, missed) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    const insertInput = db.prepare(
      `INSERT INTO imis_inputs (id, source, payload, extra, accepted_at, owner, lease_until)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    );
    this.prune = db.prepare(`DELETE FROM imis_fires WHERE node_id = ? AND due_at < ?`);
    this.sent = db.prepare(`DELETE FROM imis_inputs WHERE id = ?`);
    this.last = db.prepare(`SELECT MAX(due_at) AS at FROM imis_fires WHERE node_id = ? AND missed = 0`);
    this.claim = db.transaction((nodeId: string, dueAt: number, input: AcceptedInput, missed: number) => {
      const now = Date.now();
      if (insertFire.run(nodeId, dueAt, input.id, now, missed).changes === 0) return false;
      insertInput.run(...inputRow(input, owner, now + leaseMs));
      return true;
    }, true);
  }

  async claimFire(nodeId: string, dueAt: number, input: AcceptedInput, missed = false): Promise<boolean> {
    const claimed = this.claim(nodeId, dueAt, input, missed ? 1 : 0);
    if (this.turns.due(nodeId)) this.prune.run(nodeId, Date.now() - FIRE_ROWS_KEPT_MS);
    return claimed;
  }

  async fireSent(runId: string): Promise<void> {
    this.sent.run(runId);
  }

  async lastFire(nodeId: string): Promise<number | undefined> {
    const row = this.last.get(nodeId) as { at: number | bigint | null } | undefined;
    return row?.at == null ? undefined : Number(row.at);
  }
}
