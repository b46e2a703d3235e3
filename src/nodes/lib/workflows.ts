import { WorkflowRuntime } from '../../workflow/index.js';
import type {
  CompiledWorkflow,
  Issue,
  KeyOf,
  WorkflowDefinition,
  WorkflowEvent,
} from '../../workflow/index.js';
import { keepFinalMsOf } from '../../store/index.js';
import type { WorkflowInstance } from '../../store/index.js';
import { packageRuntime } from './package-runtime.js';
import { catalogNamespace } from './messages.js';
import { findNode } from './red.js';
import type { Node, Red, Substitutions } from './red.js';

/** How often instance counts are taken again when several processes share a PostgreSQL store. */
const RECOUNT_MS = 30_000;

/**
 * The workflow runtime of the package runtime (one per Node-RED runtime and store): definitions
 * deployed by imis-workflow config nodes, instances in the store, one timeout scheduler. Made on
 * first use, started once the store is open; stopped with the package runtime.
 */
export function workflowRuntime(RED: Red): WorkflowRuntime {
  const ctx = packageRuntime(RED);
  if (ctx.workflows) return ctx.workflows;
  const settings = RED.settings.imis ?? {};
  const shared = ctx.store.engine === 'postgres';
  const runtime = new WorkflowRuntime(ctx.store, {
    shared,
    recountMs: shared ? RECOUNT_MS : 0,
    keepFinalMs: keepFinalMsOf(settings.workflows, settings.runs),
  });
  runtime.setMaxListeners(0);
  const started = runtime;
  runtime.on('failure', (err: Error) =>
    RED.log.warn(workflowMessage(RED, 'errors.runtime', { message: err.message })),
  );
  runtime.on('flagged', (code: string, counts: Record<string, number>) =>
    RED.log.warn(
      workflowMessage(RED, 'errors.flagged', {
        workflow: code,
        states: Object.entries(counts)
          .map(([state, n]) => `${state} (${n})`)
          .join(', '),
      }),
    ),
  );
  ctx.store.ready.then(
    () => {
      if (ctx.workflows === started) void started.start();
    },
    () => undefined,
  );
  ctx.workflows = runtime;
  return runtime;
}

/** A message of the imis-workflow catalog, from any module. */
export function workflowMessage(RED: Red, key: string, substitutions?: Substitutions): string {
  return RED._(`${catalogNamespace('imis-workflow')}:imis-workflow.${key}`, substitutions);
}

/** A problem of a definition in the catalog's words (same culprits as the engine's English). */
export function issueMessage(RED: Red, issue: Issue): string {
  return workflowMessage(RED, `rules.${issue.rule}`, issue.params);
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** An instance as messages and the editor show it: ISO times. */
export function instanceView(instance: WorkflowInstance, now = Date.now()) {
  return {
    workflow: instance.workflow,
    key: instance.key,
    state: instance.state,
    since: iso(instance.since),
    timeInStateMs: Math.max(0, now - instance.since),
    createdAt: iso(instance.createdAt),
    lastTrigger: instance.lastTrigger,
    lastTransition: instance.lastTransition,
    dueAt: iso(instance.dueAt),
    flags: instance.flags ?? [],
  };
}

/** An event as messages show it (msg.workflow of the state machine node, msg.payload of workflow events). */
export function eventView(event: WorkflowEvent) {
  return {
    workflow: event.workflow,
    key: event.key,
    event: event.kind,
    from: event.from,
    to: event.to,
    transition: event.transition,
    trigger: event.trigger,
    time: new Date(event.at).toISOString(),
    final: event.final,
    ...(event.dueAt !== undefined ? { dueAt: new Date(event.dueAt).toISOString() } : {}),
    ...(event.actor ? { actor: event.actor } : {}),
    ...(event.runId ? { runId: event.runId } : {}),
    instance: instanceView(event.instance, event.at),
  };
}

/** A deployed imis-workflow config node: its definition, and what is wrong with it, if anything. */
export interface DeployedWorkflow {
  nodeId: string;
  code: string;
  definition: WorkflowDefinition;
  /** Errors (refused) and warnings, in the catalog's words. */
  errors: string[];
  warnings: string[];
}

/** Deployed workflow config nodes by node id (the admin API lists them). */
export function deployedWorkflows(RED: Red): Map<string, DeployedWorkflow> {
  return packageRuntime(RED).deployedWorkflows;
}

/** What the flow nodes that use a workflow read from its config node. */
export interface WorkflowHandle {
  code: string;
  definition: WorkflowDefinition;
  /** Absent when the definition was refused (see errors). */
  compiled?: CompiledWorkflow;
  keyOf?: KeyOf;
  errors: string[];
}

/** The `imis-workflow` configuration node: what the flow nodes that use it read. */
export interface WorkflowConfigNode extends Node {
  workflow: WorkflowHandle;
}

/** The imis-workflow config node `id`'s handle, or undefined when none of that type is deployed under it. */
export function workflowHandle(RED: Red, id: string | undefined): WorkflowHandle | undefined {
  const node = findNode(RED, id);
  return node && node.type === 'imis-workflow' && 'workflow' in node
    ? (node as WorkflowConfigNode).workflow
    : undefined;
}
