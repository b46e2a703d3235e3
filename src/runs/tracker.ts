import { randomUUID } from 'node:crypto';

/** 'unfinished': a message still in flight with no progress for `unfinishedAfterMs` (held, never completed). */
export type RunStatus = 'running' | 'ok' | 'failed' | 'unfinished';

export interface NodeRef {
  id: string;
  type: string;
  name?: string;
}

/**
 * 'continued': the node failed and, as its failure policy says, sent the message on with
 * `msg.error`; 'ended': it failed and ended the run quietly as succeeded.
 */
export type StepOutcome = 'ok' | 'failed' | 'continued' | 'ended';

export interface RunStep extends NodeRef {
  startedAt: string;
  finishedAt?: string;
  outcome?: StepOutcome;
  error?: string;
  /** A short preview of the payload the step received, and of the first it sent (redact.ts). */
  received?: string;
  sent?: string;
  /**
   * How many messages of the run this step handled (absent: one). Deliveries to a node whose step
   * still has messages in flight, or whose step is the run's latest, join that step: a split of
   * 1,000 rows through a change node is one step of 1,000, not 1,000 steps.
   */
  count?: number;
}

export interface RunRecord {
  id: string;
  flowId: string;
  trigger: NodeRef;
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  /** First error of the run, as a user reads it. */
  error?: string;
  /** Whether that first error may pass on a later try (network, timeout, 429, 5xx). */
  transientError?: boolean;
  /** For an automatic re-run: which one (1 = the first), counted along its rerunOf chain. */
  retry?: number;
  /** When this failed run is re-run automatically (ISO time), if its trigger's retry policy said so. */
  retryAt?: string;
  /** First error a node handled by its failure policy (the run went on, or ended as succeeded). */
  handledError?: string;
  steps: RunStep[];
  /** The trigger's payload, kept for Re-run. */
  input: unknown;
  /** The trigger's other message properties (topic, metadata), kept for Re-run. */
  inputExtra?: Record<string, unknown>;
  rerunOf?: string;
  /**
   * For a run started by another node's message (inject, http in, a function): the node of this
   * package the message first reached. A re-run sends the input there.
   */
  entry?: NodeRef;
  /** The input was too large to keep (its size in bytes of JSON): the run cannot be re-run. */
  inputTruncated?: { bytes: number };
  /** No payload was kept with this finished run (setting imis.runs.storePayloads false). */
  inputNotStored?: boolean;
  /**
   * The run's business key (e.g. a member id, an order number), searchable exactly and by prefix:
   * from the trigger's Business key template, `msg.imis.businessKey` set by any node (the latest
   * wins), or the state machine's instance key when the run has none. At most MAX_KEY_CHARS.
   */
  businessKey?: string;
  /**
   * Named values of the run (`msg.imis.values`, set like the key; each name's latest value wins):
   * at most MAX_VALUES names of MAX_VALUE_NAME_CHARS, values of MAX_VALUE_CHARS, as text.
   */
  values?: Record<string, string>;
  /** Deliveries not kept as steps once the run had `maxSteps` steps (they still count for its end). */
  stepsOmitted?: number;
  /** For a run still in flight: the nodes holding its messages now (not stored). */
  holding?: NodeRef[];
}

/** Limits of a run's business key and values (n8n's: 10 values of 255 characters). */
export const MAX_KEY_CHARS = 500;
export const MAX_VALUES = 25;
export const MAX_VALUE_NAME_CHARS = 64;
export const MAX_VALUE_CHARS = 1000;

/** Run ids double as the trigger's message ids: random UUIDs (from a buffered CSPRNG: cheap per call). */
export function newRunId(): string {
  return randomUUID();
}

export interface RunTrackerOptions {
  /** Called once when a run has no message left in flight (e.g. to store it). */
  onSettled?: (run: RunRecord) => void;
  /**
   * A run with messages in flight but no delivery or completion for this long is settled as
   * 'unfinished' by `sweep` (default 10 min): some node holds its message and may never let go.
   */
  unfinishedAfterMs?: number;
  /** Steps kept per run (default 1,000); further deliveries are counted in `stepsOmitted`. */
  maxSteps?: number;
  now?: () => Date;
}

/** A step with messages still in flight. */
interface OpenStep {
  step: RunStep;
  /** Its messages delivered and not completed yet. */
  open: number;
}

interface Live {
  run: RunRecord;
  /** Messages delivered and not completed yet, over all nodes. */
  inFlight: number;
  /** Per node id, its step with messages in flight (a node has one at a time). */
  open: Map<string, OpenStep>;
  /** Per node id, its latest step (kept or not): where previews and errors go. */
  latest: Map<string, RunStep>;
  /** The trigger holds the run open until its own send() has returned. */
  held: boolean;
  /** Time (ms) of the run's last delivery or completion. */
  activeAt: number;
  /**
   * A node reported an error for one of its messages: the run ends 'failed'. Until it ends its
   * status stays 'running' (messages of it are still in flight, e.g. a Catch node's branch).
   */
  failed: boolean;
}

/**
 * Follows each run from its trigger through every node a message of the run reaches, and knows
 * when the run is over: nothing of it is left in flight. It knows nothing of Node-RED; the node
 * side feeds it deliveries and completions (from the runtime's message hooks, docs/runs.md).
 */
export class RunTracker {
  private readonly live = new Map<string, Live>();
  private readonly now: () => Date;
  /** Milliseconds now, without a Date when no clock is given (it runs per delivery). */
  private readonly nowMs: () => number;
  private readonly maxSteps: number;

  constructor(private readonly options: RunTrackerOptions = {}) {
    const { now } = options;
    this.now = now ?? (() => new Date());
    this.nowMs = now ? () => now().getTime() : Date.now;
    this.maxSteps = options.maxSteps ?? 1000;
  }

  start(init: {
    id: string;
    flowId: string;
    trigger: NodeRef;
    input: unknown;
    inputExtra?: Record<string, unknown>;
    rerunOf?: string;
    entry?: NodeRef;
    inputTruncated?: { bytes: number };
    retry?: number;
    businessKey?: string;
    values?: Record<string, unknown>;
  }): RunRecord {
    const { businessKey, values, ...rest } = init;
    const now = this.now();
    const run: RunRecord = { ...rest, status: 'running', startedAt: now.toISOString(), steps: [] };
    this.live.set(run.id, {
      run,
      inFlight: 0,
      open: new Map(),
      latest: new Map(),
      held: true,
      activeAt: now.getTime(),
      failed: false,
    });
    this.label(run.id, { businessKey, values });
    return run;
  }

  /** The trigger's send() has returned: from now on the run ends when nothing is in flight. */
  release(id: string): void {
    const live = this.live.get(id);
    if (!live) return;
    live.held = false;
    this.settleIfIdle(live);
  }

  isLive(id: string): boolean {
    return this.live.has(id);
  }

  /** A message of the run was routed to (or received by) `node`; its NodeRef is copied only for a new step. */
  delivered(id: string, node: NodeRef): void {
    const live = this.live.get(id);
    if (!live) return;
    live.inFlight++;
    live.activeAt = this.nowMs();
    const current = live.open.get(node.id);
    if (current) {
      current.open++;
      current.step.count = (current.step.count ?? 1) + 1;
      return;
    }
    const steps = live.run.steps;
    const last = steps[steps.length - 1];
    let step: RunStep;
    if (last?.id === node.id) {
      // The node's step is the run's latest: another message for it joins that step.
      step = last;
      step.count = (step.count ?? 1) + 1;
      delete step.finishedAt;
    } else {
      step = { ...nodeRef(node), startedAt: this.now().toISOString() };
      if (steps.length < this.maxSteps) steps.push(step);
      else live.run.stepsOmitted = (live.run.stepsOmitted ?? 0) + 1;
    }
    live.latest.set(node.id, step);
    live.open.set(node.id, { step, open: 1 });
  }

  /**
   * The payload preview of the step of `nodeId` just delivered to; `preview` is called only when
   * the step has none yet (a step of 1,000 messages keeps the first one).
   */
  preview(id: string, nodeId: string, preview: () => string): void {
    const step = this.live.get(id)?.latest.get(nodeId);
    if (step && step.received === undefined) step.received = preview();
  }

  /** `nodeId` sent a message of the run; its latest step keeps the preview of the first one. */
  sent(id: string, nodeId: string, preview: () => string): void {
    const step = this.live.get(id)?.latest.get(nodeId);
    if (step && step.sent === undefined) step.sent = preview();
  }

  completed(id: string, nodeId: string, error?: string, transient?: boolean): void {
    const live = this.live.get(id);
    if (!live) return;
    if (error !== undefined) this.fail(live, nodeId, error, transient);
    const current = live.open.get(nodeId);
    if (!current) return; // e.g. a node that was never delivered to
    live.activeAt = this.nowMs();
    live.inFlight--;
    if (--current.open === 0) {
      live.open.delete(nodeId);
      current.step.finishedAt = this.now().toISOString();
      current.step.outcome = current.step.outcome ?? 'ok';
    }
    this.settleIfIdle(live);
  }

  /** Marks the run failed (e.g. a node reported an error for the run's message). */
  failed(id: string, nodeId: string, error: string, transient?: boolean): void {
    const live = this.live.get(id);
    if (live) this.fail(live, nodeId, error, transient);
  }

  /**
   * Records that `nodeId` failed for the run's message and handled it by its failure policy:
   * the run's status is left as it is.
   */
  handled(id: string, nodeId: string, error: string, outcome: 'continued' | 'ended'): void {
    const live = this.live.get(id);
    if (!live) return;
    live.run.handledError = live.run.handledError ?? error;
    const step = this.stepOf(live, nodeId);
    if (step) {
      step.outcome = outcome;
      step.error = step.error ?? error;
    }
  }

  /**
   * Sets the run's business key and values from what a message carries (`msg.imis`): a key
   * replaces the run's, values are merged by name. Over-long texts are cut, values past
   * MAX_VALUES names ignored; a value that is not text, a number or a boolean is ignored.
   */
  label(id: string, labels: { businessKey?: unknown; values?: unknown }): void {
    const run = this.live.get(id)?.run;
    if (!run) return;
    const key = labelText(labels.businessKey, MAX_KEY_CHARS);
    if (key !== undefined) run.businessKey = key;
    const values = labels.values;
    if (typeof values !== 'object' || values === null || Array.isArray(values)) return;
    for (const [name, value] of Object.entries(values)) {
      const text = labelText(value, MAX_VALUE_CHARS);
      const cut = name.slice(0, MAX_VALUE_NAME_CHARS);
      if (text === undefined || cut === '') continue;
      const kept = run.values ?? {};
      if (!(cut in kept) && Object.keys(kept).length >= MAX_VALUES) continue;
      run.values = { ...kept, [cut]: text };
    }
  }

  /** Gives the run a business key if it has none yet (e.g. the state machine's instance key). */
  keyIfNone(id: string, key: string): void {
    const run = this.live.get(id)?.run;
    if (run && run.businessKey === undefined) this.label(id, { businessKey: key });
  }

  /** A run still in flight. */
  get(id: string): RunRecord | undefined {
    const live = this.live.get(id);
    return live && this.withHolders(live);
  }

  /** Runs still in flight, newest first, each with the nodes holding its messages now. */
  list(flowId?: string): RunRecord[] {
    return [...this.live.values()]
      .filter((l) => flowId === undefined || l.run.flowId === flowId)
      .map((l) => this.withHolders(l))
      .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  }

  private withHolders(live: Live): RunRecord {
    const holding: NodeRef[] = [];
    for (const { step } of live.open.values()) {
      const { id, type, name } = step;
      holding.push(name === undefined ? { id, type } : { id, type, name });
    }
    live.run.holding = holding;
    return live.run;
  }

  /**
   * Settles, as 'unfinished', the runs that still have a message in flight but saw no delivery
   * or completion for `unfinishedAfterMs`: some nodes hold or drop messages without completing
   * them, and such a run must not stay live (nor be replayed from the store) forever. Call it
   * now and then.
   */
  sweep(now = this.now()): void {
    const limit = now.getTime() - (this.options.unfinishedAfterMs ?? 10 * 60 * 1000);
    for (const live of [...this.live.values()]) {
      if (live.held || live.activeAt > limit) continue;
      if (live.run.status === 'running') live.run.status = live.failed ? 'failed' : 'unfinished';
      live.inFlight = 0;
      live.open.clear();
      this.settleIfIdle(live);
    }
  }

  /** The step a node's completion or error belongs to: its open one, else its latest. */
  private stepOf(live: Live, nodeId: string): RunStep | undefined {
    return live.open.get(nodeId)?.step ?? live.latest.get(nodeId);
  }

  private fail(live: Live, nodeId: string, error: string, transient?: boolean): void {
    const run = live.run;
    live.failed = true;
    if (run.error === undefined) {
      run.error = error;
      if (transient !== undefined) run.transientError = transient;
    }
    const step = this.stepOf(live, nodeId);
    if (step) {
      step.outcome = 'failed';
      step.error = step.error ?? error;
    }
  }

  private settleIfIdle(live: Live): void {
    if (live.held || live.inFlight > 0) return;
    this.live.delete(live.run.id);
    const run = live.run;
    delete run.holding;
    if (run.status === 'running') run.status = live.failed ? 'failed' : 'ok';
    run.finishedAt = this.now().toISOString();
    this.options.onSettled?.(run);
  }
}

/** A key or value as text: strings, numbers and booleans, trimmed and cut to `max` characters. */
function labelText(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return undefined;
  const text = String(value).trim();
  return text === '' ? undefined : text.slice(0, max);
}

/** A node's reference as a run keeps it: id, type and its name if it has one. */
function nodeRef({ id, type, name }: NodeRef): NodeRef {
  return name ? { id, type, name } : { id, type };
}
