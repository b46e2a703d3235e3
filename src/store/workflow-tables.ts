import type { GroupCommit } from './batch.js';
import type {
  DueDecision,
  WorkflowChange,
  WorkflowHistoryEntry,
  WorkflowInstance,
  WorkflowInstancePage,
  WorkflowInstanceQuery,
  WorkflowTables,
} from './types.js';
import { WorkflowConflict } from './types.js';

/** A change waiting for its group's transaction; `conflict`: refused, the instance changed meanwhile. */
export interface PendingChange {
  change: WorkflowChange;
  conflict: boolean;
}

/** Writes `change` with its group (`writes`); rejects with WorkflowConflict when it was refused. */
export async function writeChecked(
  writes: GroupCommit<PendingChange>,
  change: WorkflowChange,
): Promise<void> {
  const item: PendingChange = { change, conflict: false };
  await writes.add(item);
  if (item.conflict) throw new WorkflowConflict(change.instance.workflow, change.instance.key);
}

/**
 * What the SQLite and PostgreSQL stores share of the workflow part of the Store interface: each
 * hands it to its engine's workflow tables (sqlite-workflow.ts, postgres-workflow.ts).
 */
export abstract class StoreWithWorkflows implements WorkflowTables {
  protected abstract readonly workflows: WorkflowTables;

  getInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined> {
    return this.workflows.getInstance(workflow, key);
  }
  writeInstance(change: WorkflowChange): Promise<void> {
    return this.workflows.writeInstance(change);
  }
  deleteInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined> {
    return this.workflows.deleteInstance(workflow, key);
  }
  listInstances(query: WorkflowInstanceQuery): Promise<WorkflowInstancePage> {
    return this.workflows.listInstances(query);
  }
  countInstances(workflow: string): Promise<Record<string, number>> {
    return this.workflows.countInstances(workflow);
  }
  instanceHistory(workflow: string, key: string, limit?: number): Promise<WorkflowHistoryEntry[]> {
    return this.workflows.instanceHistory(workflow, key, limit);
  }
  takeDueTimeouts(
    workflows: readonly string[],
    now: number,
    limit: number,
    decide: (instance: WorkflowInstance) => DueDecision,
  ): Promise<WorkflowChange[]> {
    return this.workflows.takeDueTimeouts(workflows, now, limit, decide);
  }
  pruneInstances(
    workflow: string,
    states: readonly string[],
    before: number,
    limit: number,
  ): Promise<number> {
    return this.workflows.pruneInstances(workflow, states, before, limit);
  }
  nextDueAt(workflows: readonly string[]): Promise<number | undefined> {
    return this.workflows.nextDueAt(workflows);
  }
  syncWorkflow(
    workflow: string,
    states: readonly string[],
    timeouts: Record<string, number | null>,
  ): Promise<Record<string, number>> {
    return this.workflows.syncWorkflow(workflow, states, timeouts);
  }
}
