import type { RunRecord } from '../../runs/tracker.js';
import { GroupCommit } from '../batch.js';
import type { Engine, PruneRequest, Step, Tx } from '../engine/types.js';
import {
  RUN_COLUMNS,
  containsPattern,
  countQuery,
  countSql,
  countsOf,
  cursorAt,
  encodeCursor,
  pageLimit,
  runFromData,
  runWrite,
  runsWhere,
} from '../rows.js';
import type { RunWrite } from '../rows.js';
import type { RetentionPolicy, RunCounts, RunPage, RunQuery } from '../types.js';

/** Runs a text search scans per page at most on SQLite (about 50 ms for 20,000 runs). */
export const TEXT_WINDOW = 20_000;

const UPSERT = `INSERT INTO imis_runs (${RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
    business_key = excluded.business_key, data = excluded.data, retry_at = excluded.retry_at`;
const INSERT_VALUE = `INSERT INTO imis_run_values (run_id, name, value) VALUES (?, ?, ?)`;
const NEWEST_FIRST = 'ORDER BY started_at DESC, id DESC';

/**
 * One runs prune batch (answers how many rows went): by age first, then all but the newest
 * `maxCount`. A run's values go with it (the foreign key's ON DELETE CASCADE). Run by the store's
 * connection, or by SQLite's worker thread (engine/sqlite-worker.ts).
 */
export function pruneRuns({ cutoffMs, maxCount, batch }: PruneRequest): (tx: Tx) => Step<number> {
  return function* (tx) {
    let removed = yield* tx.run(
      `DELETE FROM imis_runs WHERE id IN (SELECT id FROM imis_runs WHERE started_at < ? LIMIT ?)`,
      [cutoffMs, batch],
    );
    if (removed < batch) {
      const edge = yield* tx.get<{ started_at: number | string; id: string }>(
        `SELECT started_at, id FROM imis_runs ${NEWEST_FIRST} LIMIT 1 OFFSET ?`,
        [Math.max(0, maxCount - 1)],
      );
      if (edge) {
        removed += yield* tx.run(
          `DELETE FROM imis_runs WHERE id IN
             (SELECT id FROM imis_runs WHERE (started_at, id) < (?, ?) ORDER BY started_at, id LIMIT ?)`,
          [edge.started_at, edge.id, batch - removed],
        );
      }
    }
    return removed;
  };
}

/**
 * Finished runs (`imis_runs`, their named values in `imis_run_values`): written in groups, each
 * with the settlement of its accepted input in the same transaction; read back by id and by page
 * for the dashboard, counted, and pruned to the retention policy.
 */
export class RunsRepository {
  /** Finished runs (runWrite): serialised when finished, so later changes to the record do not leak in. */
  private readonly finishes: GroupCommit<RunWrite>;

  constructor(private readonly engine: Engine) {
    this.finishes = new GroupCommit((runs) => this.write(runs));
  }

  /** Records a finished run and settles its accepted input, if any, in one transaction (batched). */
  finish(run: RunRecord): Promise<void> {
    let write: RunWrite;
    try {
      write = runWrite(run); // a copy, as the record stands now
    } catch (err) {
      return Promise.reject(err as Error); // e.g. a value JSON cannot hold: this run only
    }
    return this.finishes.add(write);
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const row = await this.engine.get<{ data: string }>(`SELECT data FROM imis_runs WHERE id = ?`, [id]);
    return row ? runFromData(row.data) : undefined;
  }

  /** A page of runs, newest first; see RunQuery. */
  async list(query: RunQuery): Promise<RunPage> {
    if (query.text && this.engine.synchronous) return this.search(query, query.text);
    const limit = pageLimit(query);
    const where = runsWhere(query, this.engine.dialect);
    const rows = await this.engine.all<{ data: string }>(
      `SELECT data FROM imis_runs ${where.sql} ${NEWEST_FIRST} LIMIT ?`,
      [...where.params, limit + 1],
    );
    const runs = rows.slice(0, limit).map((r) => runFromData(r.data));
    return rows.length > limit ? { runs, next: encodeCursor(runs[runs.length - 1]) } : { runs };
  }

  /**
   * A text search on an engine whose queries hold the event loop (SQLite) scans the newest
   * TEXT_WINDOW runs the other filters select (a scan of a million runs would hold webhook
   * acceptance for seconds); when the page is not full by then, its cursor continues after the
   * last run scanned.
   */
  private async search(query: RunQuery, text: string): Promise<RunPage> {
    const limit = pageLimit(query);
    const { dialect } = this.engine;
    const where = runsWhere({ ...query, text: undefined }, dialect);
    const window = `SELECT data, started_at, id FROM imis_runs ${where.sql} ${NEWEST_FIRST} LIMIT ${TEXT_WINDOW}`;
    const pattern = containsPattern(text);
    const patterns: string[] = [];
    const match = dialect.textMatch(() => (patterns.push(pattern), '?'));
    const rows = await this.engine.all<{ data: string }>(
      `SELECT data FROM (${window}) AS w WHERE ${match} ${NEWEST_FIRST} LIMIT ?`,
      [...where.params, ...patterns, limit + 1],
    );
    const runs = rows.slice(0, limit).map((r) => runFromData(r.data));
    if (rows.length > limit) return { runs, next: encodeCursor(runs[runs.length - 1]) };
    const last = await this.engine.get<{ started_at: number; id: string }>(
      `SELECT started_at, id FROM imis_runs ${where.sql} ${NEWEST_FIRST} LIMIT 1 OFFSET ${TEXT_WINDOW - 1}`,
      where.params,
    );
    return last ? { runs, next: cursorAt(Number(last.started_at), last.id) } : { runs };
  }

  /** Runs per status for the dashboard's filter (its `status`, cursor and limit are ignored). */
  async count(query: RunQuery): Promise<RunCounts> {
    const { dialect } = this.engine;
    if (query.text && this.engine.synchronous) {
      // Counted in the window a search page scans (see search): "at least" when it is full.
      const where = runsWhere(countQuery({ ...query, text: undefined }), dialect);
      const pattern = containsPattern(query.text);
      const patterns: string[] = [];
      const match = dialect.textMatch(() => (patterns.push(pattern), '?'));
      const rows = await this.engine.all<{ status: string; n: number }>(
        `SELECT status, COUNT(*) AS n
         FROM (SELECT status, data FROM imis_runs ${where.sql} ${NEWEST_FIRST} LIMIT ${TEXT_WINDOW}) AS w
         WHERE ${match} GROUP BY status`,
        [...where.params, ...patterns],
      );
      const scanned = await this.engine.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM imis_runs ${where.sql} LIMIT ${TEXT_WINDOW}) AS w`,
        where.params,
      );
      return countsOf(rows, Number(scanned?.n ?? 0) >= TEXT_WINDOW);
    }
    const count = countSql(query, dialect);
    return countsOf(await this.engine.all<{ status: string; n: number | string }>(count.sql, count.params));
  }

  /** Deletes runs beyond the policy, at most `batch` per call; returns how many went. */
  async prune(policy: RetentionPolicy, now = new Date(), batch = 1000): Promise<number> {
    const request: PruneRequest = {
      cutoffMs: now.getTime() - policy.maxAgeMs,
      maxCount: policy.maxCount,
      batch,
    };
    const elsewhere = await this.engine.pruneElsewhere?.(request);
    return elsewhere ?? this.engine.transaction(pruneRuns(request), { write: true });
  }

  /** Resolves once every finished run so far is committed. */
  drain(): Promise<void> {
    return this.finishes.drain();
  }

  flushSync(): void {
    this.finishes.flushSync();
  }

  /** The runs, their values and the settlement of their inputs, in one transaction. */
  private write(runs: RunWrite[]): Promise<void> {
    const { dialect } = this.engine;
    // One row per id: a run finished twice in one group (a re-settle) keeps its last state.
    const byId = new Map(runs.map((run) => [run.row[0] as string, run]));
    const ids = dialect.list([...byId.keys()]);
    const values: [string, string, string][] = [];
    for (const [id, run] of byId) for (const [name, value] of run.values) values.push([id, name, value]);
    return this.engine.transaction(function* (tx) {
      yield* tx.runMany(
        UPSERT,
        [...byId.values()].map((run) => run.row),
      );
      // A run stored again (a re-settle) keeps only its new values.
      yield* tx.run(`DELETE FROM imis_run_values WHERE ${dialect.inList('run_id')}`, [ids]);
      if (values.length > 0) yield* tx.runMany(INSERT_VALUE, values);
      yield* tx.run(`DELETE FROM imis_inputs WHERE ${dialect.inList('id')}`, [ids]);
    });
  }
}
