import type { SqliteDb, SqliteStatement } from './sqlite-driver.js';
import { GroupCommit } from './batch.js';
import type {
  DueDecision,
  WorkflowChange,
  WorkflowHistoryEntry,
  WorkflowInstance,
  WorkflowInstancePage,
  WorkflowInstanceQuery,
  WorkflowTables,
} from './types.js';
import {
  HISTORY_COLUMNS,
  INSTANCE_COLUMNS,
  historyFromRow,
  historyRow,
  instanceFromArray,
  instanceFromRow,
  instancePage,
  instancePageLimit,
  instanceRow,
  instancesWhere,
} from './workflow-rows.js';
import type { HistoryRow, InstanceRow } from './workflow-rows.js';
import { writeChecked } from './workflow-tables.js';
import type { PendingChange } from './workflow-tables.js';

interface Read {
  workflow: string;
  key: string;
  resolve: (instance: WorkflowInstance | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * The workflow tables of the SQLite store (see SqliteStore). Changes are grouped per turn of the
 * event loop into one transaction, each checked against the version it was read at.
 */
export class SqliteWorkflowTables implements WorkflowTables {
  private readonly writes: GroupCommit<PendingChange>;
  private readonly s;
  private readonly queries = new Map<string, SqliteStatement>();
  private readonly applyOne: (change: WorkflowChange) => boolean;
  /** Reads asked for in one turn of the event loop, done together in one read transaction. */
  private reads: Read[] = [];
  private readonly readMany: (reads: Read[]) => (unknown[] | undefined)[];

  constructor(private readonly db: SqliteDb) {
    this.s = {
      // Rows as arrays: the hot read of every transition skips building a keyed row object.
      get: db.prepare(`SELECT ${INSTANCE_COLUMNS} FROM imis_wf_instances WHERE workflow = ? AND key = ?`, {
        arrays: true,
      }),
      getRow: db.prepare(`SELECT ${INSTANCE_COLUMNS} FROM imis_wf_instances WHERE workflow = ? AND key = ?`),
      insert: db.prepare(
        `INSERT INTO imis_wf_instances (${INSTANCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (workflow, key) DO NOTHING`,
      ),
      update: db.prepare(
        `UPDATE imis_wf_instances SET state = ?, since = ?, last_trigger = ?, last_transition = ?, due_at = ?,
           flags = ?, version = ?
         WHERE workflow = ? AND key = ? AND version = ?`,
      ),
      history: db.prepare(
        `INSERT INTO imis_wf_history (${HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      delete: db.prepare(`DELETE FROM imis_wf_instances WHERE workflow = ? AND key = ?`),
      deleteHistory: db.prepare(`DELETE FROM imis_wf_history WHERE workflow = ? AND key = ?`),
      count: db.prepare(
        `SELECT state, COUNT(*) AS n FROM imis_wf_instances WHERE workflow = ? GROUP BY state`,
      ),
      historyOf: db.prepare(
        `SELECT ${HISTORY_COLUMNS} FROM imis_wf_history WHERE workflow = ? AND key = ? ORDER BY id DESC LIMIT ?`,
      ),
      // The due-time index, by name: given `workflow IN (...)`, SQLite would rather walk every
      // instance of the workflow by primary key (a million rows) than the few due ones.
      due: db.prepare(
        `SELECT ${INSTANCE_COLUMNS} FROM imis_wf_instances INDEXED BY imis_wf_instances_due
         WHERE due_at IS NOT NULL AND due_at <= ? AND workflow IN (SELECT value FROM json_each(?))
         ORDER BY due_at LIMIT ?`,
      ),
      clearDue: db.prepare(
        `UPDATE imis_wf_instances SET due_at = NULL WHERE workflow = ? AND key = ? AND version = ?`,
      ),
      nextDue: db.prepare(
        `SELECT due_at FROM imis_wf_instances INDEXED BY imis_wf_instances_due
         WHERE due_at IS NOT NULL AND workflow IN (SELECT value FROM json_each(?)) ORDER BY due_at LIMIT 1`,
      ),
      // Final instances past their retention, by the (workflow, state, since) index.
      prunable: db.prepare(
        `SELECT key FROM imis_wf_instances
         WHERE workflow = ? AND state IN (SELECT value FROM json_each(?)) AND since < ? LIMIT ?`,
        { arrays: true },
      ),
      flag: db.prepare(
        `UPDATE imis_wf_instances SET flags = 'state-missing'
         WHERE workflow = ? AND flags IS NULL AND state NOT IN (SELECT value FROM json_each(?))`,
      ),
      unflag: db.prepare(
        `UPDATE imis_wf_instances SET flags = NULL
         WHERE workflow = ? AND flags IS NOT NULL AND state IN (SELECT value FROM json_each(?))`,
      ),
      flagged: db.prepare(
        `SELECT state, COUNT(*) AS n FROM imis_wf_instances WHERE workflow = ? AND flags IS NOT NULL GROUP BY state`,
      ),
      retime: db.prepare(
        `UPDATE imis_wf_instances SET due_at = CASE WHEN ? IS NULL THEN NULL ELSE since + ? END
         WHERE workflow = ? AND state = ? AND flags IS NULL`,
      ),
    };
    const s = this.s;
    this.applyOne = (change) => {
      const i = change.instance;
      const written =
        change.expectedVersion === 0
          ? s.insert.run(...instanceRow(i)).changes
          : s.update.run(
              i.state,
              i.since,
              i.lastTrigger ?? null,
              i.lastTransition ?? null,
              i.dueAt ?? null,
              i.flags?.length ? i.flags.join(',') : null,
              i.version,
              i.workflow,
              i.key,
              change.expectedVersion,
            ).changes;
      if (written === 0) return false;
      for (const h of change.history) s.history.run(...historyRow(h));
      return true;
    };
    const writeMany = db.transaction((items: PendingChange[]) => {
      for (const item of items) item.conflict = !this.applyOne(item.change);
    });
    this.writes = new GroupCommit((items) => writeMany(items));
    this.readMany = db.transaction((reads: Read[]) =>
      reads.map((r) => s.get.get(r.workflow, r.key) as unknown[] | undefined),
    );
  }

  /**
   * One instance. The reads of a turn of the event loop share one read transaction (one WAL read
   * lock instead of one per read): the hot read of every transition costs less so.
   */
  getInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined> {
    return new Promise((resolve, reject) => {
      if (this.reads.push({ workflow, key, resolve, reject }) === 1) setImmediate(() => this.flushReads());
    });
  }

  private flushReads(): void {
    const reads = this.reads;
    this.reads = [];
    let rows: (unknown[] | undefined)[];
    try {
      rows = this.db.open ? this.readMany(reads) : reads.map(() => undefined);
    } catch (err) {
      for (const r of reads) r.reject(err);
      return;
    }
    reads.forEach((r, i) => {
      const row = rows[i];
      r.resolve(row ? instanceFromArray(row) : undefined);
    });
  }

  async writeInstance(change: WorkflowChange): Promise<void> {
    return writeChecked(this.writes, change);
  }

  async deleteInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined> {
    await this.writes.drain();
    return this.db.transaction(() => {
      const row = this.s.getRow.get(workflow, key) as InstanceRow | undefined;
      if (!row) return undefined;
      this.s.delete.run(workflow, key);
      this.s.deleteHistory.run(workflow, key);
      return instanceFromRow(row);
    })();
  }

  async listInstances(query: WorkflowInstanceQuery): Promise<WorkflowInstancePage> {
    const limit = instancePageLimit(query);
    const where = instancesWhere(query, () => '?');
    const sql = `SELECT ${INSTANCE_COLUMNS} FROM imis_wf_instances ${where.sql} ORDER BY since, key LIMIT ?`;
    let statement = this.queries.get(sql);
    if (!statement) this.queries.set(sql, (statement = this.db.prepare(sql)));
    const rows = statement.all(...where.params, limit + 1) as InstanceRow[];
    return instancePage(rows, limit);
  }

  async countInstances(workflow: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const row of this.s.count.all(workflow) as { state: string; n: number }[]) counts[row.state] = row.n;
    return counts;
  }

  async instanceHistory(workflow: string, key: string, limit = 1000): Promise<WorkflowHistoryEntry[]> {
    const rows = this.s.historyOf.all(workflow, key, limit) as HistoryRow[];
    return rows.reverse().map(historyFromRow);
  }

  async takeDueTimeouts(
    workflows: readonly string[],
    now: number,
    limit: number,
    decide: (instance: WorkflowInstance) => DueDecision,
  ): Promise<WorkflowChange[]> {
    if (workflows.length === 0) return [];
    // Changes still queued are not waited for (under load the queue is never empty): one that
    // expects a version a timeout changes here is refused when written, and made again from a new read.
    return this.db.transaction(() => {
      const rows = this.s.due.all(now, this.codes(workflows), limit) as InstanceRow[];
      const written: WorkflowChange[] = [];
      for (const row of rows) {
        const instance = instanceFromRow(row);
        const decision = decide(instance);
        if ('clear' in decision) this.s.clearDue.run(instance.workflow, instance.key, instance.version);
        else if (this.applyOne(decision.change)) written.push(decision.change);
      }
      return written;
    }, true)();
  }

  async pruneInstances(
    workflow: string,
    states: readonly string[],
    before: number,
    limit: number,
  ): Promise<number> {
    if (states.length === 0) return 0;
    return this.db.transaction(() => {
      const keys = (this.s.prunable.all(workflow, JSON.stringify(states), before, limit) as [string][]).map(
        ([key]) => key,
      );
      for (const key of keys) {
        this.s.delete.run(workflow, key);
        this.s.deleteHistory.run(workflow, key);
      }
      return keys.length;
    }, true)();
  }

  async nextDueAt(workflows: readonly string[]): Promise<number | undefined> {
    if (workflows.length === 0) return undefined;
    const row = this.s.nextDue.get(this.codes(workflows)) as { due_at: number } | undefined;
    return row ? Number(row.due_at) : undefined;
  }

  async syncWorkflow(
    workflow: string,
    states: readonly string[],
    timeouts: Record<string, number | null>,
  ): Promise<Record<string, number>> {
    await this.writes.drain();
    return this.db.transaction(() => {
      const known = JSON.stringify(states);
      this.s.unflag.run(workflow, known);
      this.s.flag.run(workflow, known);
      for (const [state, ms] of Object.entries(timeouts)) this.s.retime.run(ms, ms, workflow, state);
      const flagged: Record<string, number> = {};
      for (const row of this.s.flagged.all(workflow) as { state: string; n: number }[])
        flagged[row.state] = row.n;
      return flagged;
    }, true)();
  }

  /** The workflow codes as the JSON array json_each reads (the scheduler asks with the same list again and again). */
  private codesCache: { list: readonly string[]; json: string } | undefined;
  private codes(workflows: readonly string[]): string {
    const cached = this.codesCache;
    if (cached && cached.list.length === workflows.length && cached.list.every((c, i) => c === workflows[i]))
      return cached.json;
    this.codesCache = { list: [...workflows], json: JSON.stringify(workflows) };
    return this.codesCache.json;
  }

  drain(): Promise<void> {
    return this.writes.drain();
  }

  flushSync(): void {
    this.writes.flushSync();
  }
}
