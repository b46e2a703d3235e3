/**
 * A validated workflow definition, ready to choose transitions: states and transitions by code,
 * transitions grouped by the state they leave (in the order of the table), conditions parsed.
 */
import { ExpectedError } from '../core/errors.js';
import { compileCondition, conditionProblem } from './conditions.js';
import type { Condition } from './conditions.js';
import { timeoutMs } from './definition.js';
import type { StateDefinition, TransitionDefinition, TriggerType, WorkflowDefinition } from './definition.js';
import { errorsOf, validateDefinition } from './validate.js';
import type { Issue } from './validate.js';

/** A definition that breaks the rules; `issues` names every problem (errors and warnings). */
export class WorkflowDefinitionError extends ExpectedError {
  constructor(
    readonly workflow: string,
    readonly issues: Issue[],
  ) {
    super(
      `Workflow ${workflow || '(no code)'} is not valid: ${errorsOf(issues)
        .map((i) => i.message)
        .join('; ')}`,
    );
    this.name = 'WorkflowDefinitionError';
  }
}

/** Why no transition fired. */
export type NoMatchReason =
  /** The workflow is disabled. */
  | 'disabled'
  /** The instance is in a final state. */
  | 'final'
  /** The instance's state is no longer in the definition. */
  | 'state-missing'
  /** msg.transition names no transition. */
  | 'unknown-transition'
  /** The named transition is disabled. */
  | 'transition-disabled'
  /** The named transition does not leave the instance's state. */
  | 'wrong-state'
  /** The named transition's condition does not hold. */
  | 'condition-false'
  /** No enabled transition leaves the state with this trigger type, or none whose condition holds. */
  | 'no-transition'
  /** Neither a trigger type nor a transition was given. */
  | 'no-trigger';

export interface SelectRequest {
  trigger?: TriggerType;
  /** A transition code: fires that one (when enabled, leaving the state and its condition holding). */
  transition?: string;
  /** Conditions are skipped (a person advancing an instance in the editor decides). */
  ignoreConditions?: boolean;
}

export type Selection = { transition: TransitionDefinition } | { reason: NoMatchReason };

export class CompiledWorkflow {
  readonly code: string;
  readonly enabled: boolean;
  readonly initial: StateDefinition;
  /** Warnings of the definition (errors prevent compiling). */
  readonly warnings: Issue[];
  private readonly states = new Map<string, StateDefinition>();
  private readonly transitions = new Map<string, TransitionDefinition>();
  private readonly leaving = new Map<string, TransitionDefinition[]>();
  private readonly conditions = new Map<string, Condition>();

  /** Throws WorkflowDefinitionError when `def` breaks a rule. */
  constructor(
    readonly definition: WorkflowDefinition,
    otherCodes: readonly string[] = [],
  ) {
    const issues = validateDefinition(definition, { otherCodes, checkCondition: conditionProblem });
    if (errorsOf(issues).length) throw new WorkflowDefinitionError(definition.code, issues);
    this.warnings = issues;
    this.code = definition.code;
    this.enabled = definition.enabled !== false;
    for (const s of definition.states) this.states.set(s.code, s);
    this.initial = definition.states.find((s) => s.initial) as StateDefinition;
    for (const t of definition.transitions) {
      this.transitions.set(t.code, t);
      const list = this.leaving.get(t.from) ?? [];
      list.push(t);
      this.leaving.set(t.from, list);
      if (t.condition) this.conditions.set(t.code, compileCondition(t.code, t.condition));
    }
  }

  state(code: string): StateDefinition | undefined {
    return this.states.get(code);
  }

  transition(code: string): TransitionDefinition | undefined {
    return this.transitions.get(code);
  }

  stateCodes(): string[] {
    return [...this.states.keys()];
  }

  isFinal(state: string): boolean {
    return this.states.get(state)?.final === true;
  }

  /** When an instance entering `state` at `at` times out; undefined when the state has no timeout. */
  dueAt(state: string, at: number): number | undefined {
    const ms = timeoutMs(this.states.get(state));
    return ms === undefined ? undefined : at + ms;
  }

  /** The transition a timeout in `state` fires, when it has one and it is enabled. */
  timeoutTransition(state: string): TransitionDefinition | undefined {
    const s = this.states.get(state);
    if (!s || timeoutMs(s) === undefined || !s.onTimeout) return undefined;
    const t = this.transitions.get(s.onTimeout);
    return t && t.enabled !== false && t.from === state ? t : undefined;
  }

  /**
   * What fires for an instance in `state`: the named transition, or the first enabled transition
   * leaving `state` with the trigger type whose condition holds for `msg`. Answers at once when no
   * condition has to be evaluated (the common case), else a promise; a condition that cannot be
   * evaluated rejects with ConditionError.
   */
  select(state: string, request: SelectRequest, msg: unknown): Selection | Promise<Selection> {
    if (!this.enabled) return { reason: 'disabled' };
    if (!this.states.has(state)) return { reason: 'state-missing' };
    if (this.isFinal(state)) return { reason: 'final' };
    const conditionOf = (t: TransitionDefinition) =>
      request.ignoreConditions ? undefined : this.conditions.get(t.code);
    if (request.transition !== undefined && request.transition !== '') {
      const t = this.transitions.get(request.transition);
      if (!t) return { reason: 'unknown-transition' };
      if (t.enabled === false) return { reason: 'transition-disabled' };
      if (t.from !== state) return { reason: 'wrong-state' };
      const condition = conditionOf(t);
      if (!condition) return { transition: t };
      return condition(msg).then((holds) => (holds ? { transition: t } : { reason: 'condition-false' }));
    }
    if (!request.trigger) return { reason: 'no-trigger' };
    const candidates = (this.leaving.get(state) ?? []).filter(
      (t) => t.enabled !== false && t.trigger === request.trigger,
    );
    const first = candidates.findIndex((t) => conditionOf(t));
    if (first !== 0 && candidates.length > 0) return { transition: candidates[0] };
    if (candidates.length === 0) return { reason: 'no-transition' };
    return (async (): Promise<Selection> => {
      for (const t of candidates) {
        const condition = conditionOf(t);
        if (!condition || (await condition(msg))) return { transition: t };
      }
      return { reason: 'no-transition' };
    })();
  }

  /** Transitions leaving `state` that a person may fire from the editor (trigger type Manual, enabled). */
  manualTransitions(state: string): TransitionDefinition[] {
    if (this.isFinal(state)) return [];
    return (this.leaving.get(state) ?? []).filter((t) => t.enabled !== false && t.trigger === 'manual');
  }
}
