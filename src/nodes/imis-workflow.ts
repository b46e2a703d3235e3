import { conditionProblem, keyResolver, normalizeDefinition, validateDefinition } from '../workflow/index.js';
import type { WorkflowDefinition } from '../workflow/index.js';
import { migrate } from './lib/migrations.js';
import { mountWorkflowApi } from './lib/workflow-api.js';
import { deployedWorkflows, issueMessage, workflowRuntime } from './lib/workflows.js';
import type { WorkflowHandle } from './lib/workflows.js';

/** v1 (first version): the fields as they are; a new workflow starts with one initial state. */
const migrations = [
  (c: Record<string, unknown>) => ({
    code: '',
    description: '',
    enabled: true,
    instanceMode: 'record',
    keyType: 'template',
    key: '{{ input.id }}',
    states: [],
    transitions: [],
    ...c,
  }),
];

export = function register(RED: any): void {
  function WorkflowNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<Partial<WorkflowDefinition> & Record<string, unknown>>(raw, migrations);
    const definition = normalizeDefinition(config);
    const runtime = workflowRuntime(RED);
    const otherCodes = [...deployedWorkflows.values()].filter((d) => d.nodeId !== node.id).map((d) => d.code);
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
    deployedWorkflows.set(node.id, { nodeId: node.id, code: definition.code, definition, errors, warnings });
    if (errors.length)
      node.error(
        RED._('imis-workflow.errors.invalid', { workflow: definition.code, problems: errors.join('; ') }),
      );
    for (const warning of warnings) node.warn(warning);

    node.on('close', (_removed: boolean, done: () => void) => {
      if (deployedWorkflows.get(node.id)?.definition === definition) deployedWorkflows.delete(node.id);
      if (handle.compiled) runtime.unregister(handle.compiled);
      done();
    });
  }

  RED.nodes.registerType('imis-workflow', WorkflowNode);
  mountWorkflowApi(RED);
};
