/**
 * The rules a workflow definition must keep (docs/nodes.md, node 9), checked in the editor's dialog
 * (this module is served to the browser as it is, with definition.ts: it imports nothing else) and
 * again when the workflow is deployed. Each problem names its culprit; unreachable states are
 * warnings, the rest errors. Texts are English here; the nodes show them from their catalog
 * (`imis-workflow.rules.<rule>`, same placeholders).
 */
import { TRIGGER_TYPES, timeoutMs } from './definition.js';
import type { WorkflowDefinition } from './definition.js';

export type IssueSeverity = 'error' | 'warning';

export interface Issue {
  severity: IssueSeverity;
  rule: Rule;
  /** The culprits: `workflow`, `state`, `transition`, `states`, `trigger`, `detail`. */
  params: Record<string, string>;
  /** English text, e.g. "Transition SUBMIT goes to unknown state SUBMITED". */
  message: string;
}

/** English texts of the rules; `{name}` is a culprit. */
export const RULE_TEXTS = {
  'code-empty': 'The workflow has no code',
  'code-duplicate': 'Another workflow has the code {workflow}',
  'key-empty':
    'Per Record instances need a key (a template such as {{ input.orderId }}, or a message property)',
  'state-code-empty': 'State {index} has no code',
  'state-duplicate': 'State code {state} is used more than once',
  'initial-none': 'No state is marked initial: mark exactly one',
  'initial-many': 'Several states are marked initial ({states}): mark exactly one',
  'timeout-invalid': 'State {state} has a timeout that is not a positive number of hours',
  'timeout-no-transition': 'State {state} has a timeout but no on-timeout transition',
  'timeout-unknown-transition': 'State {state} times out to transition {transition}, which does not exist',
  'timeout-wrong-state': 'State {state} times out to transition {transition}, which does not leave {state}',
  'on-timeout-without-timeout': 'State {state} names on-timeout transition {transition} but has no timeout',
  'timeout-transition-disabled': 'State {state} times out to transition {transition}, which is disabled',
  'transition-code-empty': 'Transition {index} has no code',
  'transition-duplicate': 'Transition code {transition} is used more than once',
  'transition-from-unknown': 'Transition {transition} starts from unknown state {state}',
  'transition-to-unknown': 'Transition {transition} goes to unknown state {state}',
  'transition-from-final':
    'Transition {transition} leaves final state {state}: no transition fires from a final state',
  'trigger-unknown': 'Transition {transition} has an unknown trigger type {trigger}',
  'condition-invalid': 'The condition of transition {transition} is not valid JSONata: {detail}',
  'state-unreachable': 'State {state} cannot be reached from the initial state',
} as const;

export type Rule = keyof typeof RULE_TEXTS;

const WARNINGS = new Set<Rule>([
  'state-unreachable',
  'on-timeout-without-timeout',
  'timeout-transition-disabled',
]);

export interface ValidateOptions {
  /** Codes of the other workflows (a code is unique). */
  otherCodes?: readonly string[];
  /** Checks a condition's syntax; answers the parser's message when it is not valid. */
  checkCondition?: (expression: string) => string | undefined;
}

export function issueText(rule: Rule, params: Record<string, string>): string {
  return RULE_TEXTS[rule].replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);
}

/** Every problem of `def`, errors first, in the order of the tables. */
export function validateDefinition(def: WorkflowDefinition, options: ValidateOptions = {}): Issue[] {
  const issues: Issue[] = [];
  const add = (rule: Rule, params: Record<string, string> = {}) =>
    issues.push({
      severity: WARNINGS.has(rule) ? 'warning' : 'error',
      rule,
      params,
      message: issueText(rule, params),
    });

  if (!def.code) add('code-empty');
  else if ((options.otherCodes ?? []).includes(def.code)) add('code-duplicate', { workflow: def.code });
  if (def.instanceMode !== 'run' && !def.key) add('key-empty');

  const states = new Map<string, (typeof def.states)[number]>();
  def.states.forEach((s, i) => {
    if (!s.code) return add('state-code-empty', { index: String(i + 1) });
    if (states.has(s.code)) add('state-duplicate', { state: s.code });
    else states.set(s.code, s);
  });
  const initial = def.states.filter((s) => s.initial && s.code);
  if (initial.length === 0) add('initial-none');
  if (initial.length > 1) add('initial-many', { states: initial.map((s) => s.code).join(', ') });

  const transitions = new Map<string, (typeof def.transitions)[number]>();
  def.transitions.forEach((t, i) => {
    if (!t.code) return add('transition-code-empty', { index: String(i + 1) });
    if (transitions.has(t.code)) add('transition-duplicate', { transition: t.code });
    else transitions.set(t.code, t);
    if (!states.has(t.from)) add('transition-from-unknown', { transition: t.code, state: t.from || '""' });
    else if (states.get(t.from)?.final) add('transition-from-final', { transition: t.code, state: t.from });
    if (!states.has(t.to)) add('transition-to-unknown', { transition: t.code, state: t.to || '""' });
    if (!(TRIGGER_TYPES as readonly string[]).includes(t.trigger))
      add('trigger-unknown', { transition: t.code, trigger: String(t.trigger ?? '') });
    if (t.condition && options.checkCondition) {
      const problem = options.checkCondition(t.condition);
      if (problem) add('condition-invalid', { transition: t.code, detail: problem });
    }
  });

  for (const s of states.values()) {
    const hours = s.timeoutHours;
    const hasTimeout = hours !== null && hours !== undefined;
    if (hasTimeout && timeoutMs(s) === undefined) add('timeout-invalid', { state: s.code });
    if (hasTimeout && !s.onTimeout) add('timeout-no-transition', { state: s.code });
    if (!s.onTimeout) continue;
    const t = transitions.get(s.onTimeout);
    if (!t) add('timeout-unknown-transition', { state: s.code, transition: s.onTimeout });
    else if (t.from !== s.code || t.to === s.code)
      add('timeout-wrong-state', { state: s.code, transition: s.onTimeout });
    else if (!hasTimeout) add('on-timeout-without-timeout', { state: s.code, transition: s.onTimeout });
    else if (t.enabled === false)
      add('timeout-transition-disabled', { state: s.code, transition: s.onTimeout });
  }

  // Reachability over every transition (enabled or not): a state no path leads to is a warning.
  if (initial.length === 1) {
    const reached = new Set([initial[0].code]);
    const queue = [initial[0].code];
    while (queue.length) {
      const from = queue.shift() as string;
      for (const t of def.transitions)
        if (t.from === from && states.has(t.to) && !reached.has(t.to)) {
          reached.add(t.to);
          queue.push(t.to);
        }
    }
    for (const code of states.keys()) if (!reached.has(code)) add('state-unreachable', { state: code });
  }
  return [...issues.filter((i) => i.severity === 'error'), ...issues.filter((i) => i.severity === 'warning')];
}

export function errorsOf(issues: readonly Issue[]): Issue[] {
  return issues.filter((i) => i.severity === 'error');
}
