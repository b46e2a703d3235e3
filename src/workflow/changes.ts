import type { WorkflowHistoryEntry, WorkflowInstance } from '../store/index.js';

/** What changes in an instance (changedInstance). */
export interface InstanceChange {
  /** The state it is in now. */
  state: string;
  /** Epoch ms of the change. */
  at: number;
  /** What caused it (a trigger type, 'reset', 'timeout', ...). */
  trigger: string;
  /** The transition fired, if any. */
  transition: string | undefined;
  /** When the new state's timeout is due, if it has one. */
  dueAt: number | undefined;
  /** The instance's version after the change. */
  version: number;
}

// Objects of the hot path are written out in full (no spreads): V8 builds them much faster so, and
// every record has the same shape (absent values are present as undefined).

/** `instance` after `change` (its flags cleared). */
export function changedInstance(instance: WorkflowInstance, change: InstanceChange): WorkflowInstance {
  return {
    workflow: instance.workflow,
    key: instance.key,
    state: change.state,
    since: change.at,
    createdAt: instance.createdAt,
    lastTrigger: change.trigger,
    lastTransition: change.transition,
    dueAt: change.dueAt,
    flags: undefined,
    version: change.version,
  };
}

/** A line of an instance's history, with every field present (undefined where it has none). */
export function historyEntry(line: {
  workflow: string;
  key: string;
  at: number;
  kind: WorkflowHistoryEntry['kind'];
  from: string | undefined;
  to: string;
  transition: string | undefined;
  trigger: string;
  actor: string | undefined;
  runId: string | undefined;
}): WorkflowHistoryEntry {
  return {
    workflow: line.workflow,
    key: line.key,
    at: line.at,
    kind: line.kind,
    from: line.from,
    to: line.to,
    transition: line.transition,
    trigger: line.trigger,
    actor: line.actor,
    runId: line.runId,
  };
}

/** A change of state of an instance (moveInstance). */
export interface Move {
  kind: 'transition' | 'reset';
  /** The state it moves to. */
  to: string;
  /** Epoch ms of the change. */
  at: number;
  /** What caused it (a trigger type, 'reset', 'timeout'). */
  trigger: string;
  /** The transition fired, if any. */
  transition: string | undefined;
  /** When the new state's timeout is due, if it has one. */
  dueAt: number | undefined;
  actor: string | undefined;
  runId: string | undefined;
}

/**
 * `instance` moved from its state to `move.to`: the instance after the change (its next version)
 * and the change's history line.
 */
export function moveInstance(
  instance: WorkflowInstance,
  move: Move,
): { next: WorkflowInstance; line: WorkflowHistoryEntry } {
  const { to, at, trigger, transition } = move;
  return {
    next: changedInstance(instance, {
      state: to,
      at,
      trigger,
      transition,
      dueAt: move.dueAt,
      version: instance.version + 1,
    }),
    line: historyEntry({
      workflow: instance.workflow,
      key: instance.key,
      at,
      kind: move.kind,
      from: instance.state,
      to,
      transition,
      trigger,
      actor: move.actor,
      runId: move.runId,
    }),
  };
}
