import { failureMessage } from '../runs/failure.js';
import type { RunRecord } from '../runs/tracker.js';
import { packageRuntime } from './lib/package-runtime.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { Node, NodeDef, NodeModule } from './lib/red.js';

interface RunFailedConfig {
  name?: string;
  /** 'all' flows, this node's 'flow', or the 'flows' listed. */
  scope: string;
  flows: string[];
}

const config = new NodeConfig<RunFailedConfig>('imis-run-failed', [
  (c) => ({ scope: 'all', flows: [], ...c }),
]);

/**
 * Run failed (n8n's Error Trigger): emits once for each run of the chosen flows that ends failed,
 * so that a flow can send an alert. Runs that a Run failed node's own messages started are left
 * out: an alert flow that fails does not alert about itself, over and over.
 */
const register: NodeModule = (RED) => {
  function RunFailedNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const { scope, flows } = config.read(def);
    const watched = (flowId: string) =>
      scope === 'flow' ? flowId === node.z : scope === 'flows' ? flows.includes(flowId) : true;
    const ctx = packageRuntime(RED);
    let count = 0;
    const listener = (run: RunRecord) => {
      if (run.status !== 'failed' || run.trigger.type === 'imis-run-failed' || !watched(run.flowId)) return;
      count++;
      node.status({
        fill: 'red',
        shape: 'dot',
        text: RED._('imis-run-failed.status.failed', { count, time: new Date().toLocaleTimeString() }),
      });
      node.send(failureMessage(run));
    };
    ctx.runListeners.add(listener);
    node.on('close', () => {
      ctx.runListeners.delete(listener);
    });
  }
  registerType(RED, 'imis-run-failed', RunFailedNode, { settings: config.settings() });
};

export = register;
