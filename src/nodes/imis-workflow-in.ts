import type { WorkflowEvent } from '../workflow/index.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { Node, NodeDef, NodeModule } from './lib/red.js';
import { throttledStatus } from './lib/status.js';
import { triggerRuns } from './lib/trigger.js';
import { mountWorkflowApi } from './lib/workflow-api.js';
import { eventView, workflowHandle, workflowRuntime } from './lib/workflows.js';

interface WorkflowInConfig {
  name?: string;
  workflow: string;
  /** `transitions`: transitions only (timeouts and people's included); `all`: also creations, resets, deletions. */
  events: 'transitions' | 'all';
}

const config = new NodeConfig<WorkflowInConfig>('imis-workflow-in', [
  // v1: first version; config fields as they are.
  (c) => ({ workflow: '', events: 'all', ...c }),
]);

const register: NodeModule = (RED) => {
  function WorkflowInNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const { workflow, events } = config.read(def);
    const handle = workflowHandle(RED, workflow);
    const runtime = workflowRuntime(RED);
    // Each event starts a run whose input is committed first (replayed after a crash, re-runnable).
    const runs = triggerRuns(RED, node);
    let count = 0;
    const status = throttledStatus(() => {
      if (!handle)
        return node.status({
          fill: 'red',
          shape: 'ring',
          text: RED._('imis-workflow-in.status.no-workflow'),
        });
      node.status({
        fill: 'green',
        shape: 'dot',
        text: count
          ? RED._('imis-workflow-in.status.events', { count })
          : RED._('imis-workflow-in.status.listening'),
      });
    });
    status.now();

    const onChange = (event: WorkflowEvent) => {
      if (events === 'transitions' && event.kind !== 'transition') return;
      count++;
      status.soon();
      runs
        .accept({ payload: eventView(event), extra: { topic: event.kind } })
        .catch((err: Error) => node.error(RED._('imis-workflow-in.errors.accept', { message: err.message })));
    };
    // Every change, made here or (PostgreSQL store) by another process; the same node deployed there
    // too takes the changes made there.
    const stop = handle ? runtime.listen(handle.code, node.id, onChange) : undefined;
    node.on('close', () => {
      status.cancel();
      stop?.();
    });
  }

  registerType(RED, 'imis-workflow-in', WorkflowInNode, { settings: config.settings() });
  mountWorkflowApi(RED);
};

export = register;
