import { GroupCommit } from '../batch.js';
import type { Engine, Step, Tx } from '../engine/types.js';
import type {
  DueDecision,
  WorkflowChange,
  WorkflowHistoryEntry,
  WorkflowInstance,
  WorkflowInstancePage,
  WorkflowInstanceQuery,
} from '../types.js';
import { WorkflowConflict } from '../types.js';
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
} from '../workflow-rows.js';
import type { HistoryRow, InstanceRow } from '../workflow-rows.js';

const GET = `SELECT ${INSTANCE_COLUMNS} FROM imis_wf_instances WHERE workflow = ? AND key = ?`;
const INSERT = `INSERT INTO imis_wf_instances (${INSTANCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (workflow, key) DO NOTHING`;
const UPDATE = `UPDATE imis_wf_instances SET state = ?, since = ?, last_trigger = ?, last_transition = ?,
    due_at = ?, flags = ?, version = ?
  WHERE workflow = ? AND key = ? AND version = ?`;
const HISTORY = `INSERT INTO imis_wf_history (${HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** A change waiting for its group's transaction; `conflict`: refused, the instance changed meanwhile. */
interface PendingChange {
  change: WorkflowChange;
  conflict: boolean;
}

interface Read {
  params: [string, string];
  resolve: (instance: WorkflowInstance | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Writes changes, each checked against the version it was read at (0: the instance must not exist
 * yet), then the history lines of those written, together; answers which were written.
 */
function* apply(tx: Tx, changes: WorkflowChange[]): Step<boolean[]> {
  const written: boolean[] = [];
  for (const change of changes) written.push(yield* applyOne(tx, change));
  const history = changes.filter((_, n) => written[n]).flatMap((c) => c.history);
  if (history.length > 0) yield* tx.runMany(HISTORY, history.map(historyRow));
  return written;
}

/** One instance's change, without its history; false (nothing written) when the version differs. */
function* applyOne(tx: Tx, change: WorkflowChange): Step<boolean> {
  const i = change.instance;
  const row = instanceRow(i);
  const written =
    change.expectedVersion === 0
      ? yield* tx.run(INSERT, row)
      : yield* tx.run(UPDATE, [
          i.state,
          i.since,
          ...row.slice(5, 9),
          i.version,
          i.workflow,
          i.key,
          change.expectedVersion,
        ]);
  return written > 0;
}

/**
 * The integration workflow instances (`imis_wf_instances`) and their history (`imis_wf_history`),
 * docs/workflows.md. Changes are grouped per turn of the event loop into one transaction, each
 * checked against the version it was read at (WorkflowConflict).
 */
export class WorkflowsRepository {
  private readonly writes: GroupCommit<PendingChange>;
  /** Reads asked for in one turn of the event loop, done together (engine.getMany). */
  private reads: Read[] = [];

  constructor(private readonly engine: Engine) {
    this.writes = new GroupCommit((items) =>
      engine.transaction(function* (tx) {
        const written = yield* apply(
          tx,
          items.map((item) => item.change),
        );
        items.forEach((item, n) => (item.conflict = !written[n]));
      }),
    );
  }

  /** One instance. The reads of a turn of the event loop go together: the hot read of every transition. */
  getInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined> {
    return new Promise((resolve, reject) => {
      if (this.reads.push({ params: [workflow, key], resolve, reject }) === 1)
        setImmediate(() => void this.flushReads());
    });
  }

  private async flushReads(): Promise<void> {
    const reads = this.reads;
    this.reads = [];
    let rows: (unknown[] | undefined)[];
    try {
      rows = await this.engine.getMany(
        GET,
        reads.map((r) => r.params),
      );
    } catch (err) {
      for (const r of reads) r.reject(err);
      return;
    }
    reads.forEach((r, i) => {
      const row = rows[i];
      r.resolve(row ? instanceFromArray(row) : undefined);
    });
  }

  /**
   * Writes a change (grouped with others into one transaction); rejects with WorkflowConflict when
   * the instance is not at `expectedVersion` any more (nothing of the change is written).
   */
  async writeInstance(change: WorkflowChange): Promise<void> {
    const item: PendingChange = { change, conflict: false };
    await this.writes.add(item);
    if (item.conflict) throw new WorkflowConflict(change.instance.workflow, change.instance.key);
  }

  /** Deletes an instance and its history; answers what was deleted. */
  async deleteInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined> {
    await this.writes.drain();
    const { dialect } = this.engine;
    return this.engine.transaction(
      function* (tx) {
        const row = yield* tx.get<InstanceRow>(`${GET}${dialect.forUpdate}`, [workflow, key]);
        if (!row) return undefined;
        yield* tx.run(`DELETE FROM imis_wf_instances WHERE workflow = ? AND key = ?`, [workflow, key]);
        yield* tx.run(`DELETE FROM imis_wf_history WHERE workflow = ? AND key = ?`, [workflow, key]);
        return instanceFromRow(row);
      },
      { write: true },
    );
  }

  /** What the Instances view shows: one workflow, filters narrow; longest in state first. */
  async listInstances(query: WorkflowInstanceQuery): Promise<WorkflowInstancePage> {
    const limit = instancePageLimit(query);
    const where = instancesWhere(query, () => '?');
    const rows = await this.engine.all<InstanceRow>(
      `SELECT ${INSTANCE_COLUMNS} FROM imis_wf_instances ${where.sql} ORDER BY since, key LIMIT ?`,
      [...where.params, limit + 1],
    );
    return instancePage(rows, limit);
  }

  /** Instances per state of one workflow. */
  async countInstances(workflow: string): Promise<Record<string, number>> {
    const rows = await this.engine.all<{ state: string; n: number | string }>(
      `SELECT state, COUNT(*) AS n FROM imis_wf_instances WHERE workflow = ? GROUP BY state`,
      [workflow],
    );
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** An instance's history, oldest first (at most `limit`, the newest). */
  async instanceHistory(workflow: string, key: string, limit = 1000): Promise<WorkflowHistoryEntry[]> {
    const rows = await this.engine.all<HistoryRow>(
      `SELECT ${HISTORY_COLUMNS} FROM imis_wf_history WHERE workflow = ? AND key = ? ORDER BY id DESC LIMIT ?`,
      [workflow, key, limit],
    );
    return rows.reverse().map(historyFromRow);
  }

  /**
   * Takes up to `limit` instances of `workflows` whose timeout is due at `now`, oldest due first,
   * and writes what `decide` says for each, in one transaction; with PostgreSQL the rows are locked
   * (SKIP LOCKED), so two processes never handle the same instance. Answers the changes written.
   * Changes still queued are not waited for (under load the queue is never empty): one that
   * expects a version a timeout changes here is refused when written, and made again from a new read.
   */
  async takeDueTimeouts(
    workflows: readonly string[],
    now: number,
    limit: number,
    decide: (instance: WorkflowInstance) => DueDecision,
  ): Promise<WorkflowChange[]> {
    if (workflows.length === 0) return [];
    const { dialect } = this.engine;
    return this.engine.transaction(
      function* (tx) {
        // SQLite by the due-time index, by name: given the workflow list, it would rather walk
        // every instance of the workflow by primary key (a million rows) than the few due ones.
        const rows = yield* tx.all<InstanceRow>(
          `SELECT ${INSTANCE_COLUMNS} FROM imis_wf_instances${dialect.indexedBy('imis_wf_instances_due')}
           WHERE due_at IS NOT NULL AND due_at <= ? AND ${dialect.inList('workflow')}
           ORDER BY due_at LIMIT ?${dialect.skipLocked}`,
          [now, dialect.list(workflows), limit],
        );
        const changes: WorkflowChange[] = [];
        for (const row of rows) {
          const instance = instanceFromRow(row);
          const decision = decide(instance);
          if ('clear' in decision) {
            yield* tx.run(
              `UPDATE imis_wf_instances SET due_at = NULL WHERE workflow = ? AND key = ? AND version = ?`,
              [instance.workflow, instance.key, instance.version],
            );
          } else changes.push(decision.change);
        }
        const written = yield* apply(tx, changes);
        return changes.filter((_, n) => written[n]);
      },
      { write: true },
    );
  }

  /**
   * Deletes, with their history, up to `limit` instances of `workflow` that are in one of `states`
   * (its final states) and entered it before `before` (epoch ms), in one short transaction; answers
   * how many. With PostgreSQL, rows another process holds are skipped.
   */
  async pruneInstances(
    workflow: string,
    states: readonly string[],
    before: number,
    limit: number,
  ): Promise<number> {
    if (states.length === 0) return 0;
    const { dialect } = this.engine;
    return this.engine.transaction(
      function* (tx) {
        // By the (workflow, state, since) index.
        const keys = (yield* tx.values<[string]>(
          `SELECT key FROM imis_wf_instances WHERE workflow = ? AND ${dialect.inList('state')} AND since < ?
           LIMIT ?${dialect.skipLocked}`,
          [workflow, dialect.list(states), before, limit],
        )).map(([key]) => key);
        if (keys.length === 0) return 0;
        const list = dialect.list(keys);
        yield* tx.run(`DELETE FROM imis_wf_instances WHERE workflow = ? AND ${dialect.inList('key')}`, [
          workflow,
          list,
        ]);
        yield* tx.run(`DELETE FROM imis_wf_history WHERE workflow = ? AND ${dialect.inList('key')}`, [
          workflow,
          list,
        ]);
        return keys.length;
      },
      { write: true },
    );
  }

  /** The earliest due time among instances of `workflows`. */
  async nextDueAt(workflows: readonly string[]): Promise<number | undefined> {
    if (workflows.length === 0) return undefined;
    const { dialect } = this.engine;
    const row = await this.engine.get<{ due_at: number | string }>(
      `SELECT due_at FROM imis_wf_instances${dialect.indexedBy('imis_wf_instances_due')}
       WHERE due_at IS NOT NULL AND ${dialect.inList('workflow')} ORDER BY due_at LIMIT 1`,
      [dialect.list(workflows)],
    );
    return row ? Number(row.due_at) : undefined;
  }

  /**
   * After a definition changed: flags the instances of `workflow` whose state is not in `states`
   * (clears the flag of the others), and sets the due time of every instance in each state of
   * `timeouts` (state → timeout ms, or null for none) from the time it entered that state.
   * Answers the flagged instances per missing state.
   */
  async syncWorkflow(
    workflow: string,
    states: readonly string[],
    timeouts: Record<string, number | null>,
  ): Promise<Record<string, number>> {
    await this.writes.drain();
    const { dialect } = this.engine;
    const known = dialect.list(states);
    return this.engine.transaction(
      function* (tx) {
        yield* tx.run(
          `UPDATE imis_wf_instances SET flags = NULL
           WHERE workflow = ? AND flags IS NOT NULL AND ${dialect.inList('state')}`,
          [workflow, known],
        );
        yield* tx.run(
          `UPDATE imis_wf_instances SET flags = 'state-missing'
           WHERE workflow = ? AND flags IS NULL AND NOT (${dialect.inList('state')})`,
          [workflow, known],
        );
        for (const [state, ms] of Object.entries(timeouts)) {
          yield* tx.run(
            `UPDATE imis_wf_instances
             SET due_at = CASE WHEN CAST(? AS BIGINT) IS NULL THEN NULL ELSE since + CAST(? AS BIGINT) END
             WHERE workflow = ? AND state = ? AND flags IS NULL`,
            [ms, ms, workflow, state],
          );
        }
        const rows = yield* tx.all<{ state: string; n: number | string }>(
          `SELECT state, COUNT(*) AS n FROM imis_wf_instances WHERE workflow = ? AND flags IS NOT NULL GROUP BY state`,
          [workflow],
        );
        return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
      },
      { write: true },
    );
  }

  drain(): Promise<void> {
    return this.writes.drain();
  }

  flushSync(): void {
    this.writes.flushSync();
  }
}
