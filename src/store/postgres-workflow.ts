import type pg from 'pg';
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
  instanceFromRow,
  instancePage,
  instancePageLimit,
  instanceRow,
  instancesWhere,
} from './workflow-rows.js';
import type { HistoryRow, InstanceRow } from './workflow-rows.js';
import { writeChecked } from './workflow-tables.js';
import type { PendingChange } from './workflow-tables.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

/** PostgreSQL types of the imis_wf_instances columns (for VALUES lists, which carry no types). */
const INSTANCE_TYPES = [
  'text',
  'text',
  'text',
  'bigint',
  'bigint',
  'text',
  'text',
  'bigint',
  'text',
  'integer',
];

/** `($1::t1, $2::t2, ...), (...)` for rows of equal width, and their flattened parameters. */
function valuesList(rows: unknown[][], types?: string[]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const groups = rows.map((row) => {
    const start = params.length;
    params.push(...row);
    return `(${row.map((_, i) => `$${start + i + 1}${types ? `::${types[i]}` : ''}`).join(', ')})`;
  });
  return { sql: groups.join(', '), params };
}

/**
 * Writes changes in one transaction, three statements whatever their number: new instances
 * (INSERT ... ON CONFLICT DO NOTHING), changed ones (UPDATE ... FROM VALUES, each checked against
 * the version it was read at) and the history lines of those written. Marks the conflicts.
 */
async function applyChanges(client: Queryable, items: PendingChange[]): Promise<void> {
  const keyOf = (c: WorkflowChange) => `${c.instance.workflow}\u0000${c.instance.key}`;
  if (new Set(items.map((i) => keyOf(i.change))).size < items.length) {
    // The same instance twice in one group: one at a time, in order.
    for (const item of items) await applyChanges(client, [item]);
    return;
  }
  const written = new Set<string>();
  const inserts = items.filter((i) => i.change.expectedVersion === 0);
  const updates = items.filter((i) => i.change.expectedVersion !== 0);
  if (inserts.length) {
    const { sql, params } = valuesList(inserts.map((i) => instanceRow(i.change.instance)));
    const { rows } = await client.query<{ workflow: string; key: string }>(
      `INSERT INTO imis_wf_instances (${INSTANCE_COLUMNS}) VALUES ${sql}
       ON CONFLICT (workflow, key) DO NOTHING RETURNING workflow, key`,
      params,
    );
    for (const r of rows) written.add(`${r.workflow}\u0000${r.key}`);
  }
  if (updates.length) {
    const { sql, params } = valuesList(
      updates.map((i) => [...instanceRow(i.change.instance), i.change.expectedVersion]),
      [...INSTANCE_TYPES, 'integer'],
    );
    const { rows } = await client.query<{ workflow: string; key: string }>(
      `UPDATE imis_wf_instances AS t SET state = v.state, since = v.since, last_trigger = v.last_trigger,
         last_transition = v.last_transition, due_at = v.due_at, flags = v.flags, version = v.version
       FROM (VALUES ${sql}) AS v (${INSTANCE_COLUMNS}, expected)
       WHERE t.workflow = v.workflow AND t.key = v.key AND t.version = v.expected
       RETURNING t.workflow, t.key`,
      params,
    );
    for (const r of rows) written.add(`${r.workflow}\u0000${r.key}`);
  }
  const history: WorkflowHistoryEntry[] = [];
  for (const item of items) {
    item.conflict = !written.has(keyOf(item.change));
    if (!item.conflict) history.push(...item.change.history);
  }
  if (history.length) {
    const { sql, params } = valuesList(history.map(historyRow));
    await client.query(`INSERT INTO imis_wf_history (${HISTORY_COLUMNS}) VALUES ${sql}`, params);
  }
}

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The workflow tables of the PostgreSQL store (see PostgresStore). */
export class PostgresWorkflowTables implements WorkflowTables {
  private readonly writes: GroupCommit<PendingChange>;

  constructor(private readonly pool: pg.Pool) {
    // At most 1,000 changes per group: 11 parameters each stays far below PostgreSQL's 65,535.
    this.writes = new GroupCommit((items) => inTransaction(pool, (client) => applyChanges(client, items)));
  }

  async getInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined> {
    const { rows } = await this.pool.query<InstanceRow>(
      `SELECT ${INSTANCE_COLUMNS} FROM imis_wf_instances WHERE workflow = $1 AND key = $2`,
      [workflow, key],
    );
    return rows[0] ? instanceFromRow(rows[0]) : undefined;
  }

  async writeInstance(change: WorkflowChange): Promise<void> {
    return writeChecked(this.writes, change);
  }

  async deleteInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined> {
    await this.writes.drain();
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<InstanceRow>(
        `DELETE FROM imis_wf_instances WHERE workflow = $1 AND key = $2 RETURNING ${INSTANCE_COLUMNS}`,
        [workflow, key],
      );
      if (!rows[0]) return undefined;
      await client.query(`DELETE FROM imis_wf_history WHERE workflow = $1 AND key = $2`, [workflow, key]);
      return instanceFromRow(rows[0]);
    });
  }

  async listInstances(query: WorkflowInstanceQuery): Promise<WorkflowInstancePage> {
    const limit = instancePageLimit(query);
    const where = instancesWhere(query, (n) => `$${n}`);
    const { rows } = await this.pool.query<InstanceRow>(
      `SELECT ${INSTANCE_COLUMNS} FROM imis_wf_instances ${where.sql} ORDER BY since, key
       LIMIT $${where.params.length + 1}`,
      [...where.params, limit + 1],
    );
    return instancePage(rows, limit);
  }

  async countInstances(workflow: string): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ state: string; n: string }>(
      `SELECT state, COUNT(*) AS n FROM imis_wf_instances WHERE workflow = $1 GROUP BY state`,
      [workflow],
    );
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  async instanceHistory(workflow: string, key: string, limit = 1000): Promise<WorkflowHistoryEntry[]> {
    const { rows } = await this.pool.query<HistoryRow>(
      `SELECT ${HISTORY_COLUMNS} FROM imis_wf_history WHERE workflow = $1 AND key = $2 ORDER BY id DESC LIMIT $3`,
      [workflow, key, limit],
    );
    return rows.reverse().map(historyFromRow);
  }

  async takeDueTimeouts(
    workflows: readonly string[],
    now: number,
    limit: number,
    decide: (instance: WorkflowInstance) => DueDecision,
  ): Promise<WorkflowChange[]> {
    if (workflows.length === 0) return [];
    // Queued changes are not waited for: one that a timeout overtakes is refused (version) and made again.
    return inTransaction(this.pool, async (client) => {
      // Locked until the commit; rows another process holds are skipped, not waited for.
      const { rows } = await client.query<InstanceRow>(
        `SELECT ${INSTANCE_COLUMNS} FROM imis_wf_instances
         WHERE due_at IS NOT NULL AND due_at <= $1 AND workflow = ANY($2)
         ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [now, [...workflows], limit],
      );
      const changes: PendingChange[] = [];
      const cleared: WorkflowInstance[] = [];
      for (const row of rows) {
        const instance = instanceFromRow(row);
        const decision = decide(instance);
        if ('clear' in decision) cleared.push(instance);
        else changes.push({ change: decision.change, conflict: false });
      }
      if (cleared.length) {
        await client.query(
          `UPDATE imis_wf_instances SET due_at = NULL
           WHERE (workflow, key) IN (SELECT * FROM UNNEST($1::text[], $2::text[]))`,
          [cleared.map((i) => i.workflow), cleared.map((i) => i.key)],
        );
      }
      if (changes.length) await applyChanges(client, changes);
      return changes.filter((c) => !c.conflict).map((c) => c.change);
    });
  }

  async pruneInstances(
    workflow: string,
    states: readonly string[],
    before: number,
    limit: number,
  ): Promise<number> {
    if (states.length === 0) return 0;
    // One statement, so one transaction: the instances (rows another process holds are skipped),
    // then the history of those deleted.
    const { rows } = await this.pool.query<{ n: string }>(
      `WITH gone AS (
         DELETE FROM imis_wf_instances WHERE (workflow, key) IN (
           SELECT workflow, key FROM imis_wf_instances
           WHERE workflow = $1 AND state = ANY($2) AND since < $3 LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING key),
       history AS (
         DELETE FROM imis_wf_history AS h USING gone WHERE h.workflow = $1 AND h.key = gone.key)
       SELECT COUNT(*) AS n FROM gone`,
      [workflow, [...states], before, limit],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async nextDueAt(workflows: readonly string[]): Promise<number | undefined> {
    if (workflows.length === 0) return undefined;
    const { rows } = await this.pool.query<{ due_at: string }>(
      `SELECT due_at FROM imis_wf_instances WHERE due_at IS NOT NULL AND workflow = ANY($1)
       ORDER BY due_at LIMIT 1`,
      [[...workflows]],
    );
    return rows[0] ? Number(rows[0].due_at) : undefined;
  }

  async syncWorkflow(
    workflow: string,
    states: readonly string[],
    timeouts: Record<string, number | null>,
  ): Promise<Record<string, number>> {
    await this.writes.drain();
    return inTransaction(this.pool, async (client) => {
      const known = [...states];
      await client.query(
        `UPDATE imis_wf_instances SET flags = NULL
         WHERE workflow = $1 AND flags IS NOT NULL AND state = ANY($2)`,
        [workflow, known],
      );
      await client.query(
        `UPDATE imis_wf_instances SET flags = 'state-missing'
         WHERE workflow = $1 AND flags IS NULL AND NOT (state = ANY($2))`,
        [workflow, known],
      );
      for (const [state, ms] of Object.entries(timeouts)) {
        await client.query(
          `UPDATE imis_wf_instances SET due_at = CASE WHEN $1::bigint IS NULL THEN NULL ELSE since + $1::bigint END
           WHERE workflow = $2 AND state = $3 AND flags IS NULL`,
          [ms, workflow, state],
        );
      }
      const { rows } = await client.query<{ state: string; n: string }>(
        `SELECT state, COUNT(*) AS n FROM imis_wf_instances WHERE workflow = $1 AND flags IS NOT NULL GROUP BY state`,
        [workflow],
      );
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    });
  }

  drain(): Promise<void> {
    return this.writes.drain();
  }
}
