import type { SqliteDb } from './sqlite-driver.js';

/** What one prune batch is told: runs started before `cutoffMs` go, and all but the newest `maxCount`. */
export interface PruneRequest {
  cutoffMs: number;
  maxCount: number;
  /** At most this many rows go. */
  batch: number;
}

/**
 * The runs' prune on a connection, one batch per call (answers how many rows went): by age first,
 * then by count. Used by the store's own connection and by its worker thread's, both with
 * `foreign_keys` on: a run's values go with it (ON DELETE CASCADE).
 */
export function runsPruner(db: SqliteDb): (request: PruneRequest) => number {
  const byAge = db.prepare(
    `DELETE FROM imis_runs WHERE id IN (SELECT id FROM imis_runs WHERE started_at < ? LIMIT ?)`,
  );
  const nthNewest = db.prepare(
    `SELECT started_at, id FROM imis_runs ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?`,
  );
  const byCount = db.prepare(
    `DELETE FROM imis_runs WHERE id IN
       (SELECT id FROM imis_runs WHERE (started_at, id) < (?, ?) ORDER BY started_at, id LIMIT ?)`,
  );
  return ({ cutoffMs, maxCount, batch }) => {
    let removed = byAge.run(cutoffMs, batch).changes;
    if (removed < batch) {
      const edge = nthNewest.get(Math.max(0, maxCount - 1)) as { started_at: number; id: string } | undefined;
      if (edge) removed += byCount.run(edge.started_at, edge.id, batch - removed).changes;
    }
    return removed;
  };
}
