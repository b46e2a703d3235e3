import type { Engine } from '../engine/types.js';
import type { DedupRecord } from '../types.js';

/** A row of `imis_dedup`, as either engine returns it. */
interface DedupRow {
  result: string;
  settled: number | string;
  created_at: number | string;
}

/**
 * De-duplicated inserts (`imis_dedup`, src/core/dedup.ts) of `scope` (a node), by key: settled with
 * the record the insert made, or open (an insert was sent and its outcome is not known here). Each
 * write is committed at once, not batched: a crash must not forget it.
 */
export class DedupRepository {
  constructor(private readonly engine: Engine) {}

  async get(scope: string, key: string): Promise<DedupRecord | undefined> {
    const row = await this.engine.get<DedupRow>(
      `SELECT result, settled, created_at FROM imis_dedup WHERE scope = ? AND dedup_key = ?`,
      [scope, key],
    );
    if (!row) return undefined;
    return Number(row.settled) === 1
      ? { settled: true, result: JSON.parse(row.result) as unknown }
      : { settled: false, openedAt: new Date(Number(row.created_at)) };
  }

  /** Opens the key before its insert is sent; keeps what is there already. */
  async open(scope: string, key: string, now = new Date()): Promise<void> {
    await this.engine.run(
      `INSERT INTO imis_dedup (scope, dedup_key, result, created_at, settled) VALUES (?, ?, 'null', ?, 0)
       ON CONFLICT (scope, dedup_key) DO NOTHING`,
      [scope, key, now.getTime()],
    );
  }

  /** Settles the key with the record iMIS made (an earlier settled record stays). */
  async put(scope: string, key: string, result: unknown, now = new Date()): Promise<void> {
    await this.engine.run(
      `INSERT INTO imis_dedup (scope, dedup_key, result, created_at, settled) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (scope, dedup_key) DO UPDATE SET result = excluded.result, created_at = excluded.created_at, settled = 1
       WHERE imis_dedup.settled = 0`,
      [scope, key, JSON.stringify(result ?? null), now.getTime()],
    );
  }

  /** Removes an open key whose insert certainly did not happen (iMIS refused it). */
  async drop(scope: string, key: string): Promise<void> {
    await this.engine.run(`DELETE FROM imis_dedup WHERE scope = ? AND dedup_key = ? AND settled = 0`, [
      scope,
      key,
    ]);
  }

  /** Forgets de-duplication records made before `before`; returns how many went. */
  prune(before: Date): Promise<number> {
    return this.engine.run(`DELETE FROM imis_dedup WHERE created_at < ?`, [before.getTime()]);
  }
}
