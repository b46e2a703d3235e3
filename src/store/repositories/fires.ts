/**
 * Schedule fires claimed once across the processes sharing a store (docs/store.md §imis_fires).
 * Every process runs the same Cron nodes, so each arms the same due instants; a fire is one row per
 * node and due instant (`imis_fires`, primary key), and only the process whose INSERT makes the
 * row fires it. The fire's input is accepted with the claim, in the same transaction, owned by the
 * claiming process under its lease, and settled (`sent`) just before its message is sent: if the
 * process dies between the claim and the send, another takes the input over once the lease has run
 * out (InputsRepository.claimPending), as for a webhook's input. A fire once sent is not sent
 * again, even if its process dies before its run finishes: a schedule fires at most once per due
 * time, and a fire is lost only if its process dies between settling it and sending it.
 *
 * Rows are kept a day (FIRE_ROWS_KEPT_MS): long enough that no process's timer is that late.
 */
import type { Engine } from '../engine/types.js';
import { inputRow } from '../rows.js';
import type { AcceptedInput } from '../types.js';
import { INSERT_INPUT } from './inputs.js';

/** How long a claimed fire's row is kept. */
export const FIRE_ROWS_KEPT_MS = 24 * 60 * 60 * 1000;
/** Claims between two prunes of a node's old rows. */
const PRUNE_EVERY = 100;

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

const INSERT_FIRE = `INSERT INTO imis_fires (node_id, due_at, run_id, claimed_at, missed) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT DO NOTHING`;

export class FiresRepository {
  /** Claims per node since its old rows last went. */
  private readonly claims = new Map<string, number>();

  constructor(
    private readonly engine: Engine,
    /** This process, as the owner of the inputs it accepts. */
    private readonly owner: string,
    private readonly leaseMs = 30_000,
  ) {}

  /**
   * Claims the fire of `nodeId` due at `dueAt` (epoch ms) for this process and accepts `input` (its
   * run) with it, owned by this process; false when a fire of that node and instant was claimed
   * already (by any process): then nothing is written. `missed`: a fire made at start-up for a time
   * every process missed (see `last`).
   */
  async claim(nodeId: string, dueAt: number, input: AcceptedInput, missed = false): Promise<boolean> {
    const now = Date.now();
    const row = inputRow(input, this.owner, now + this.leaseMs);
    const claimed = await this.engine.transaction(
      function* (tx) {
        if ((yield* tx.run(INSERT_FIRE, [nodeId, dueAt, input.id, now, missed ? 1 : 0])) === 0) return false;
        yield* tx.run(INSERT_INPUT, row);
        return true;
      },
      { write: true },
    );
    const n = (this.claims.get(nodeId) ?? 0) + 1;
    this.claims.set(nodeId, n % PRUNE_EVERY);
    if (n === 1) {
      await this.engine
        .run(`DELETE FROM imis_fires WHERE node_id = ? AND due_at < ?`, [nodeId, now - FIRE_ROWS_KEPT_MS])
        .catch(() => undefined);
    }
    return claimed;
  }

  /**
   * The latest due time of `nodeId` fired on schedule by any process (`missed` fires, made at
   * start-up for a time all processes missed, do not count: every process starting after a
   * shutdown of all must find the same time missed, whoever fired it first).
   */
  async last(nodeId: string): Promise<number | undefined> {
    const row = await this.engine.get<{ at: number | string | bigint | null }>(
      `SELECT MAX(due_at) AS at FROM imis_fires WHERE node_id = ? AND missed = 0`,
      [nodeId],
    );
    return row?.at == null ? undefined : Number(row.at);
  }

  /** The claimed fire whose run is `runId` is being sent: its input is no longer taken over. */
  async sent(runId: string): Promise<void> {
    await this.engine.run(`DELETE FROM imis_inputs WHERE id = ?`, [runId]);
  }
}
