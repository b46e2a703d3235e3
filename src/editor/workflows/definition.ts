// A workflow's definition as an imis-workflow config node in the editor holds it.
import type { WorkflowDefinition } from '../../workflow/definition.js';

/** The definition of imis-workflow config node `n` (enabled unless turned off; no states or transitions: none). */
export function definitionOf(n: Partial<WorkflowDefinition>): Partial<WorkflowDefinition> {
  return {
    code: n.code,
    description: n.description,
    enabled: n.enabled !== false,
    instanceMode: n.instanceMode,
    keyType: n.keyType,
    key: n.key,
    states: n.states || [],
    transitions: n.transitions || [],
  };
}
