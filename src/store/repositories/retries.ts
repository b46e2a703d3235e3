import type { Engine } from '../engine/types.js';
import type { RunsRepository } from './runs.js';

/** Automatic retries planned in the runs' `retry_at` (a failed run's record carries it when it is stored). */
export class RetriesRepository {
  constructor(
    private readonly engine: Engine,
    private readonly runs: RunsRepository,
  ) {}

  /** The ids of the retries due by `now`, soonest first, at most `limit`. */
  async due(now: Date, limit: number): Promise<string[]> {
    const rows = await this.engine.values<[string]>(
      `SELECT id FROM imis_runs WHERE retry_at <= ? ORDER BY retry_at LIMIT ?`,
      [now.getTime(), limit],
    );
    return rows.map(([id]) => id);
  }

  /** Takes the planned retry of run `id` off the list; false if another process took it first. */
  async claim(id: string): Promise<boolean> {
    await this.runs.drain(); // a run finished just now may still wait in the group commit
    return (
      (await this.engine.run(`UPDATE imis_runs SET retry_at = NULL WHERE id = ? AND retry_at IS NOT NULL`, [
        id,
      ])) === 1
    );
  }
}
