import { ExpectedError } from '../core/errors.js';
import { mountOnce } from './lib/http/routes.js';
import { packageRuntime } from './lib/package-runtime.js';
import type { DeployedManual } from './lib/package-runtime.js';
import { NodeConfig } from './lib/migrations.js';
import { findNode, isManualTrigger, registerType } from './lib/red.js';
import type { ManualTriggerNode, NodeDef, NodeModule } from './lib/red.js';
import { mountRunsApi } from './lib/runs-api.js';
import { retryPolicyOf, triggerRuns, withRetry } from './lib/trigger.js';
import { runLabelsMessage } from './lib/messages.js';
import { runLabelsOf, withRunLabels } from './lib/run-labels.js';
import type { RunLabelSettings } from './lib/run-labels.js';

interface ManualConfig extends RunLabelSettings {
  name?: string;
  /** The run's input (msg.payload), as JSON text. */
  input: string;
  /** Automatic re-runs of transient failures (src/runs/retry.ts): how many, and the first wait. */
  retries: number;
  retryDelaySec: number;
}

const config = new NodeConfig<ManualConfig>('imis-manual', [
  (c) => ({ input: '{}', ...c }),
  withRetry,
  // v3: the run's business key and values templates, none.
  withRunLabels,
]);

/**
 * iWorkflow's Manual trigger: a run started by a person, from the button on the node in the editor
 * or from the runs dashboard (with input edited there). The input is committed to the store before
 * the run starts, as a webhook's is, so a run started by hand is never lost.
 */
const register: NodeModule = (RED) => {
  function ManualNode(this: ManualTriggerNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const { input, ...settings } = config.read(def);
    const entry: DeployedManual = { id: node.id, flowId: node.z ?? '', name: node.name || undefined, input };
    const deployed = packageRuntime(RED).manualTriggers;
    deployed.set(node.id, entry);
    node.on('close', () => {
      if (deployed.get(node.id) === entry) deployed.delete(node.id);
    });
    const labels = runLabelsOf(RED, node, settings);
    if (labels === false) {
      // A template that cannot work (reported): the button and the dashboard's Run say so.
      node.trigger = () => Promise.reject(new Error(runLabelsMessage(RED, 'errors.not-started')));
      return;
    }
    const runs = triggerRuns(RED, node, undefined, { retry: retryPolicyOf(settings), labels });
    let configured: { ok: true; value: unknown } | { ok: false; message: string };
    try {
      configured = { ok: true, value: JSON.parse(input) as unknown };
      node.status({});
    } catch (err) {
      configured = { ok: false, message: (err as Error).message };
      node.status({ fill: 'red', shape: 'ring', text: RED._('imis-manual.status.invalid') });
    }

    node.trigger = async (given?: unknown) => {
      if (given === undefined && !configured.ok)
        throw new ExpectedError(RED._('imis-manual.errors.invalid', { message: configured.message }));
      const payload = given === undefined && configured.ok ? configured.value : given;
      const { runId } = await runs.accept({ payload, extra: { topic: node.name || 'manual' } });
      node.status({
        fill: 'green',
        shape: 'dot',
        text: RED._('imis-manual.status.started', { time: new Date().toLocaleTimeString() }),
      });
      return runId;
    };
  }
  registerType(RED, 'imis-manual', ManualNode, { settings: config.settings() });
  mountRunsApi(RED);

  // The dashboard's Run: the deployed Manual triggers (of flow `flow`, if given), each with its
  // configured input to edit before a run.
  mountOnce(RED.httpAdmin, 'get', '/imis/manual', RED.auth.needsPermission('imis-runs.read'), (req, res) => {
    const flow = typeof req.query.flow === 'string' && req.query.flow !== '' ? req.query.flow : undefined;
    res.json(
      [...packageRuntime(RED).manualTriggers.values()].filter((m) => flow === undefined || m.flowId === flow),
    );
  });

  // The node's button and the dashboard's Run: POST, with `{ "input": … }` to replace the
  // configured input for this run. Behind the runs' write permission.
  mountOnce(
    RED.httpAdmin,
    'post',
    '/imis/manual/:id',
    RED.auth.needsPermission('imis-runs.write'),
    (req, res) => {
      const node = findNode(RED, String(req.params.id));
      if (!isManualTrigger(node))
        return void res.status(404).json({ error: RED._('imis-manual.errors.not-deployed') });
      const body: unknown = req.body;
      const given =
        typeof body === 'object' && body !== null && 'input' in body
          ? (body as { input: unknown }).input
          : undefined;
      node.trigger(given).then(
        (id) => res.json({ id }),
        (err: Error) => res.status(400).json({ error: err.message }),
      );
    },
  );
};

export = register;
