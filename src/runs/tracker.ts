import { randomUUID } from 'node:crypto';

/** 'unfinished': still had a message in flight after `maxRunMs` (e.g. held by a node that never completes it). */
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
  /** A trigger's business key for this run (e.g. a member id), searchable in the dashboard. */
  businessKey?: string;
  /** Named values of this run (e.g. orderId, eventCode), each searchable exactly in the dashboard. */
  values?: Record<string, string>;
}

/** Run ids double as Node-RED message ids: random UUIDs (from a buffered CSPRNG: cheap per call). */
export function newRunId(): string {
  return randomUUID();
}

export interface RunTrackerOptions {
  /** Called once when a run has no message left in flight (e.g. to store it). */
  onSettled?: (run: RunRecord) => void;
  /** A run still in flight after this long is settled as 'unfinished' by `sweep` (default 10 min). */
  maxRunMs?: number;
  now?: () => Date;
}

interface Live {
  run: RunRecord;
  /** Deliveries not yet completed, per destination node id (a multiset). */
  inFlight: Map<string, number>;
  /** The trigger holds the run open until its own send() has returned. */
  held: boolean;
}

/**
 * Follows each run from its trigger through every node a message of the run reaches, and knows
 * when the run is over: nothing of it is left in flight. It knows nothing of Node-RED; the node
 * side feeds it deliveries and completions (from the runtime's message hooks).
 */
export class RunTracker {
  private readonly live = new Map<string, Live>();
  private readonly now: () => Date;

  constructor(private readonly options: RunTrackerOptions = {}) {
    this.now = options.now ?? (() => new Date());
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
  }): RunRecord {
    const run: RunRecord = {
      ...init,
      status: 'running',
      startedAt: this.now().toISOString(),
      steps: [],
    };
    this.live.set(run.id, { run, inFlight: new Map(), held: true });
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

  delivered(id: string, node: NodeRef): void {
    const live = this.live.get(id);
    if (!live) return;
    live.inFlight.set(node.id, (live.inFlight.get(node.id) ?? 0) + 1);
    live.run.steps.push({ ...node, startedAt: this.now().toISOString() });
  }

  /** The payload preview of the step of `nodeId` just delivered to. */
  preview(id: string, nodeId: string, received: string): void {
    const step = this.latestStep(id, nodeId);
    if (step && step.received === undefined) step.received = received;
  }

  /** `nodeId` sent a message of the run; its latest step keeps the preview of the first one. */
  sent(id: string, nodeId: string, preview: string): void {
    const step = this.latestStep(id, nodeId);
    if (step && step.sent === undefined) step.sent = preview;
  }

  private latestStep(id: string, nodeId: string): RunStep | undefined {
    const steps = this.live.get(id)?.run.steps ?? [];
    for (let i = steps.length - 1; i >= 0; i--) if (steps[i].id === nodeId) return steps[i];
    return undefined;
  }

  completed(id: string, nodeId: string, error?: string, transient?: boolean): void {
    const live = this.live.get(id);
    if (!live) return;
    const count = live.inFlight.get(nodeId);
    if (error !== undefined) this.fail(live.run, nodeId, error, transient);
    if (!count) return; // e.g. a Catch node, reached without a delivery
    if (count === 1) live.inFlight.delete(nodeId);
    else live.inFlight.set(nodeId, count - 1);
    const step = live.run.steps.find((s) => s.id === nodeId && !s.finishedAt);
    if (step) {
      step.finishedAt = this.now().toISOString();
      step.outcome = step.outcome ?? 'ok';
    }
    this.settleIfIdle(live);
  }

  /** Marks the run failed (e.g. a node reported an error for the run's message). */
  failed(id: string, nodeId: string, error: string, transient?: boolean): void {
    const live = this.live.get(id);
    if (live) this.fail(live.run, nodeId, error, transient);
  }

  /**
   * Records that `nodeId` failed for the run's message and handled it by its failure policy:
   * the run's status is left as it is.
   */
  handled(id: string, nodeId: string, error: string, outcome: 'continued' | 'ended'): void {
    const live = this.live.get(id);
    if (!live) return;
    live.run.handledError = live.run.handledError ?? error;
    const step = [...live.run.steps].reverse().find((s) => s.id === nodeId && !s.finishedAt);
    if (step) {
      step.outcome = outcome;
      step.error = step.error ?? error;
    }
  }

  /** A run still in flight. */
  get(id: string): RunRecord | undefined {
    return this.live.get(id)?.run;
  }

  /** Runs still in flight, newest first. */
  list(flowId?: string): RunRecord[] {
    return [...this.live.values()]
      .map((l) => l.run)
      .filter((r) => flowId === undefined || r.flowId === flowId)
      .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  }

  /**
   * Settles, as 'unfinished', the runs started more than `maxRunMs` ago that still have a message
   * in flight: some nodes hold or drop messages without completing them, and such a run must not
   * stay live (nor be replayed from the store) forever. Call it now and then.
   */
  sweep(now = this.now()): void {
    const limit = now.getTime() - (this.options.maxRunMs ?? 10 * 60 * 1000);
    for (const live of [...this.live.values()]) {
      if (live.held || Date.parse(live.run.startedAt) > limit) continue;
      if (live.run.status === 'running') live.run.status = 'unfinished';
      live.inFlight.clear();
      this.settleIfIdle(live);
    }
  }

  private fail(run: RunRecord, nodeId: string, error: string, transient?: boolean): void {
    run.status = 'failed';
    if (run.error === undefined) {
      run.error = error;
      if (transient !== undefined) run.transientError = transient;
    }
    const step = [...run.steps].reverse().find((s) => s.id === nodeId);
    if (step) {
      step.outcome = 'failed';
      step.error = step.error ?? error;
    }
  }

  private settleIfIdle(live: Live): void {
    if (live.held || live.inFlight.size > 0) return;
    this.live.delete(live.run.id);
    const run = live.run;
    if (run.status === 'running') run.status = 'ok';
    run.finishedAt = this.now().toISOString();
    this.options.onSettled?.(run);
  }
}
