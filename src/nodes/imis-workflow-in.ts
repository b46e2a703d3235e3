import type { WorkflowEvent } from '../workflow/index.js';
import { migrate } from './lib/migrations.js';
import { throttledStatus } from './lib/status.js';
import { triggerRuns } from './lib/trigger.js';
import { mountWorkflowApi } from './lib/workflow-api.js';
import { eventView, workflowRuntime } from './lib/workflows.js';
import type { WorkflowHandle } from './lib/workflows.js';

interface WorkflowInConfig {
  name?: string;
  workflow: string;
  /** `transitions`: transitions only (timeouts and people's included); `all`: also creations, resets, deletions. */
  events: 'transitions' | 'all';
}

const migrations = [(c: Record<string, unknown>) => ({ workflow: '', events: 'all', ...c })];

export = function register(RED: any): void {
  function WorkflowInNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<WorkflowInConfig>(raw, migrations);
    const handle: WorkflowHandle | undefined = RED.nodes.getNode(config.workflow)?.workflow;
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
      if (!handle || event.workflow !== handle.code) return;
      if (config.events === 'transitions' && event.kind !== 'transition') return;
      count++;
      status.soon();
      runs
        .accept({ payload: eventView(event), extra: { topic: event.kind } })
        .catch((err: Error) => node.error(RED._('imis-workflow-in.errors.accept', { message: err.message })));
    };
    runtime.on('change', onChange);
    node.on('close', () => {
      status.cancel();
      runtime.off('change', onChange);
    });
  }

  RED.nodes.registerType('imis-workflow-in', WorkflowInNode);
  mountWorkflowApi(RED);
};
