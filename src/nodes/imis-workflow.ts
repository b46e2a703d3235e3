import { conditionProblem, keyResolver, normalizeDefinition, validateDefinition } from '../workflow/index.js';
import type { WorkflowDefinition } from '../workflow/index.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { NodeDef, NodeModule } from './lib/red.js';
import { mountWorkflowApi } from './lib/workflow-api.js';
import { deployedWorkflows, issueMessage, workflowRuntime } from './lib/workflows.js';
import type { WorkflowConfigNode, WorkflowHandle } from './lib/workflows.js';

type WorkflowConfig = Omit<WorkflowDefinition, 'description' | 'enabled' | 'keyType' | 'key'> & {
  description: string;
  enabled: boolean;
  keyType: 'template' | 'msg';
  key: string;
};

const config = new NodeConfig<WorkflowConfig>('imis-workflow', [
  // v1 (first version): the fields as they are; a new workflow starts with one initial state.
  (c) => ({
    code: '',
    description: '',
    enabled: true,
    instanceMode: 'record',
    keyType: 'template',
    key: '{{ input.id }}',
    states: [
      { code: 'NEW', description: '', initial: true, final: false, timeoutHours: null, onTimeout: '' },
    ],
    transitions: [],
    ...c,
  }),
]);

const register: NodeModule = (RED) => {
  function WorkflowNode(this: WorkflowConfigNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const definition = normalizeDefinition(config.read(def));
    const runtime = workflowRuntime(RED);
    const deployed = deployedWorkflows(RED);
    const otherCodes = [...deployed.values()].filter((d) => d.nodeId !== node.id).map((d) => d.code);
    const issues = validateDefinition(definition, { otherCodes, checkCondition: conditionProblem });
    const errors = issues.filter((i) => i.severity === 'error').map((i) => issueMessage(RED, i));
    const warnings = issues.filter((i) => i.severity === 'warning').map((i) => issueMessage(RED, i));
    const handle: WorkflowHandle = { code: definition.code, definition, errors };
    if (errors.length === 0) {
      try {
        handle.keyOf = keyResolver(
          definition,
          (msg, path) => RED.util.getMessageProperty(msg, path),
          (msg) => (msg.imis as { runId?: string } | undefined)?.runId ?? (msg._msgid as string | undefined),
        );
        handle.compiled = runtime.register(definition);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    node.workflow = handle;
    deployed.set(node.id, { nodeId: node.id, code: definition.code, definition, errors, warnings });
    if (errors.length)
      node.error(
        RED._('imis-workflow.errors.invalid', { workflow: definition.code, problems: errors.join('; ') }),
      );
    for (const warning of warnings) node.warn(warning);

    node.on('close', (_removed: boolean, done: () => void) => {
      if (deployed.get(node.id)?.definition === definition) deployed.delete(node.id);
      if (handle.compiled) runtime.unregister(handle.compiled);
      done();
    });
  }

  registerType(RED, 'imis-workflow', WorkflowNode, { settings: config.settings() });
  mountWorkflowApi(RED);
};

export = register;
