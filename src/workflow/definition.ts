/**
 * An integration workflow (docs/nodes.md §9; docs/idms.md §Integration workflows): a state machine
 * whose instances (one per record or per run) move between states when transitions fire. This
 * module holds the definition model only; validation is in validate.ts, selection in machine.ts and
 * the durable runtime in runtime.ts. No Node-RED dependency.
 */

/**
 * The events that make a transition be evaluated. The vendor's names are Manual, On Import, On
 * Export, On Webhook, On Scheduled Poll and On BC Event (ours: On Event).
 */
export const TRIGGER_TYPES = ['manual', 'import', 'export', 'webhook', 'poll', 'event'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/** What made an instance change: a trigger type, its state's timeout, or a person resetting it. */
export type ChangeCause = TriggerType | 'timeout' | 'reset';

export type InstanceMode = 'record' | 'run';
/** Per Record: the key is a Liquid template (`{{ input.orderId }}`) or a message property path. */
export type KeyType = 'template' | 'msg';

export interface StateDefinition {
  code: string;
  description?: string;
  initial?: boolean;
  final?: boolean;
  /** Hours in this state before the on-timeout transition fires (fractions allowed); none: no timeout. */
  timeoutHours?: number | null;
  /** Code of the transition fired when the timeout runs out. */
  onTimeout?: string;
}

export interface TransitionDefinition {
  code: string;
  description?: string;
  from: string;
  to: string;
  trigger: TriggerType;
  enabled?: boolean;
  /** A JSONata expression over the message; the transition fires only when it is truthy. */
  condition?: string;
}

export interface WorkflowDefinition {
  code: string;
  description?: string;
  /** Off: no new instances, no transitions (timeouts wait until it is on again). */
  enabled?: boolean;
  instanceMode: InstanceMode;
  keyType?: KeyType;
  /** Per Record: the template or the message property that gives the key. */
  key?: string;
  states: StateDefinition[];
  transitions: TransitionDefinition[];
}

const HOUR_MS = 60 * 60 * 1000;

/** A state's timeout in milliseconds, or undefined when it has none. */
export function timeoutMs(state: StateDefinition | undefined): number | undefined {
  const hours = state?.timeoutHours;
  if (hours === null || hours === undefined) return undefined;
  const n = Number(hours);
  return Number.isFinite(n) && n > 0 ? Math.round(n * HOUR_MS) : undefined;
}

const TRIGGER_ALIASES: Record<string, TriggerType> = {
  manual: 'manual',
  import: 'import',
  export: 'export',
  webhook: 'webhook',
  poll: 'poll',
  scheduledpoll: 'poll',
  schedule: 'poll',
  scheduled: 'poll',
  event: 'event',
  bcevent: 'event',
};

/**
 * A trigger type from what people write: `webhook`, `On Webhook`, `ON_SCHEDULED_POLL`, `On BC Event`
 * (the vendor's name). undefined when it names none.
 */
export function parseTrigger(value: unknown): TriggerType | undefined {
  if (typeof value !== 'string') return undefined;
  const bare = value.toLowerCase().replace(/[\s_-]+/g, '');
  return TRIGGER_ALIASES[bare] ?? TRIGGER_ALIASES[bare.replace(/^on/, '')];
}

/** A definition with defaults filled and values of the wrong type dropped (as a config node may hold). */
export function normalizeDefinition(
  raw: Partial<WorkflowDefinition> & Record<string, unknown>,
): WorkflowDefinition {
  const text = (v: unknown) =>
    typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v);
  const states = Array.isArray(raw.states) ? raw.states : [];
  const transitions = Array.isArray(raw.transitions) ? raw.transitions : [];
  return {
    code: text(raw.code),
    description: text(raw.description),
    enabled: raw.enabled !== false,
    instanceMode: raw.instanceMode === 'run' ? 'run' : 'record',
    keyType: raw.keyType === 'msg' ? 'msg' : 'template',
    key: text(raw.key),
    states: states.map((s: Partial<StateDefinition>) => {
      const hours = s?.timeoutHours;
      return {
        code: text(s?.code),
        description: text(s?.description),
        initial: s?.initial === true,
        final: s?.final === true,
        timeoutHours:
          hours === null || hours === undefined || (hours as unknown) === '' ? null : Number(hours),
        onTimeout: text(s?.onTimeout),
      };
    }),
    transitions: transitions.map((t: Partial<TransitionDefinition>) => ({
      code: text(t?.code),
      description: text(t?.description),
      from: text(t?.from),
      to: text(t?.to),
      trigger: (parseTrigger(t?.trigger) ?? text(t?.trigger)) as TriggerType,
      enabled: t?.enabled !== false,
      condition: text(t?.condition),
    })),
  };
}
