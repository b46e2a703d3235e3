/**
 * The durable workflow runtime of one process: the deployed definitions, instances read from and
 * written to the store (never kept in memory), transitions fired by messages, by people (editor) and
 * by timeouts, and the events every change emits. See docs/workflows.md.
 *
 * Instances are changed optimistically: read, decide (conditions are asynchronous), write naming
 * the version read; a write that finds the instance changed meanwhile (another process, a timeout)
 * is retried from the read. Within this process, changes of one instance are queued in arrival
 * order. No Node-RED dependency.
 */
import { EventEmitter } from 'node:events';
import type {
  DueDecision,
  Store,
  WorkflowChange,
  WorkflowHistoryEntry,
  WorkflowInstance,
  WorkflowInstancePage,
  WorkflowInstanceQuery,
} from '../store/index.js';
import { WorkflowConflict, pacedBatches } from '../store/index.js';
import { ExpectedError } from '../core/errors.js';
import { timeoutMs } from './definition.js';
import type { ChangeCause, TriggerType, WorkflowDefinition } from './definition.js';
import { CompiledWorkflow } from './machine.js';
import type { NoMatchReason } from './machine.js';
import { DueScheduler } from './scheduler.js';

/** The part of the store the runtime uses. */
export type WorkflowStore = Pick<Store, 'workflows' | 'nodeState' | 'messages'>;

/** A request the runtime cannot carry out (unknown workflow or state, ...); `code` says which. */
export class WorkflowError extends ExpectedError {
  constructor(
    readonly code: 'not-deployed' | 'unknown-state' | 'no-instance' | 'busy',
    message: string,
  ) {
    super(message);
    this.name = 'WorkflowError';
  }
}

/** What happened to an instance; emitted as 'change' for every change, whoever made it. */
export interface WorkflowEvent {
  workflow: string;
  key: string;
  kind: 'created' | 'transition' | 'reset' | 'deleted';
  from?: string;
  to?: string;
  transition?: string;
  trigger: ChangeCause | 'delete';
  /** Epoch ms. */
  at: number;
  /** The instance reached a final state. */
  final: boolean;
  /** The instance after the change (before it, for a deletion). */
  instance: WorkflowInstance;
  /** A timeout's due time (epoch ms): `at - dueAt` is how late it fired. */
  dueAt?: number;
  actor?: string;
  runId?: string;
}

export interface FireRequest {
  key: string;
  trigger?: TriggerType;
  transition?: string;
  /** What conditions are evaluated over. */
  msg?: unknown;
  runId?: string;
  actor?: string;
  ignoreConditions?: boolean;
}

export type Outcome =
  | { fired: true; created: boolean; instance: WorkflowInstance; event: WorkflowEvent; final: boolean }
  | { fired: false; created: boolean; instance: WorkflowInstance; reason: NoMatchReason };

export interface RuntimeOptions {
  now?: () => number;
  /** Instances whose timeout is handled per store transaction (default 500). */
  timeoutBatch?: number;
  /** Longest wait between two looks at the due-time index (default 10 s). */
  maxSleepMs?: number;
  /** Re-counts instances per state this often (several processes share the store); 0: never. */
  recountMs?: number;
  /** Tries of a change that keeps meeting changes made meanwhile (default 10). */
  maxAttempts?: number;
  /**
   * How long an instance stays in the store once in a final state, ms; then it is deleted with its
   * history (0 or absent: kept for ever).
   */
  keepFinalMs?: number;
  /** How often instances past that are looked for, from start() (default 10 min). */
  pruneEveryMs?: number;
  /** Instances deleted per store transaction when pruning (default 200; paced, src/store/paced.ts). */
  pruneBatch?: number;
  /**
   * Other processes share the store (PostgreSQL): each change is sent to them, and theirs are
   * received, from start() (default false).
   */
  shared?: boolean;
}

/** Handles the events of one workflow for a listener (see `listen`). */
export type EventHandler = (event: WorkflowEvent) => void;

/** The store channel on which the processes sharing a store tell each other their changes. */
const EVENTS_CHANNEL = 'imis_workflow_events';

/** What is sent to the other processes for a change: the event, and which listeners had it here. */
interface SharedEvent {
  event: WorkflowEvent;
  /** Ids of this process's listeners of the workflow, which took the event (see `listen`). */
  taken: string[];
}

/** Every registered workflow's name in the store's node-state table, for what the last sync saw. */
const SYNC_KIND = 'workflow-sync';

export interface SyncReport {
  /** Instances in a state the definition no longer has, per state. */
  flagged: Record<string, number>;
  /** States whose instances got new due times. */
  retimed: string[];
}

export class WorkflowRuntime extends EventEmitter {
  private readonly workflows = new Map<string, CompiledWorkflow>();
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly syncs = new Map<string, Promise<SyncReport>>();
  private readonly scheduler: DueScheduler;
  private readonly now: () => number;
  private readonly batch: number;
  private readonly maxAttempts: number;
  private recountTimer: NodeJS.Timeout | undefined;
  private readonly keepFinalMs: number;
  private readonly pruneEveryMs: number;
  private readonly pruneBatch: number;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<number> | undefined;
  private readonly eventListeners = new Map<string, Map<string, EventHandler>>();
  private readonly shared: boolean;
  private unsubscribe: (() => void) | undefined;
  private subscribing: Promise<void> | undefined;

  constructor(
    readonly store: WorkflowStore,
    options: RuntimeOptions = {},
  ) {
    super();
    this.now = options.now ?? Date.now;
    this.batch = Math.max(1, options.timeoutBatch ?? 500);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 10);
    this.keepFinalMs = Math.max(0, options.keepFinalMs ?? 0);
    this.pruneEveryMs = Math.max(1, options.pruneEveryMs ?? 10 * 60 * 1000);
    this.pruneBatch = Math.max(1, options.pruneBatch ?? 200);
    this.shared = options.shared === true;
    this.scheduler = new DueScheduler(
      { fireDue: () => this.fireDue(), nextDue: () => this.store.workflows.nextDueAt(this.timed()) },
      { now: this.now, maxSleepMs: options.maxSleepMs, onError: (err) => this.emit('failure', err) },
    );
    if (options.recountMs && options.recountMs > 0) {
      this.recountTimer = setInterval(() => {
        for (const code of this.workflows.keys()) void this.recount(code).catch(() => undefined);
      }, options.recountMs);
      this.recountTimer.unref();
    }
  }

  /**
   * Starts the timeout scheduler (overdue timeouts fire at once), with a retention for final
   * instances their pruning (at once, then every `pruneEveryMs`), and in a shared store receiving
   * the other processes' changes. Resolves once receiving.
   */
  start(): Promise<void> {
    this.scheduler.start();
    if (this.shared && !this.subscribing) {
      const subscribing: Promise<void> = this.store.messages
        .subscribe(
          EVENTS_CHANNEL,
          (message) => this.received(message),
          (err) => this.emit('failure', err),
        )
        .then((stop) => {
          // Stopped (or stopped and started again) meanwhile: this subscription is not wanted.
          if (this.subscribing === subscribing) this.unsubscribe = stop;
          else stop();
        })
        .catch((err) => void this.emit('failure', err));
      this.subscribing = subscribing;
    }
    if (this.keepFinalMs > 0 && !this.pruneTimer) {
      const prune = () => void this.pruneFinal().catch((err) => this.emit('failure', err));
      this.pruneTimer = setInterval(prune, this.pruneEveryMs);
      this.pruneTimer.unref();
      setImmediate(prune);
    }
    return this.subscribing ?? Promise.resolve();
  }

  stop(): void {
    this.scheduler.stop();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.subscribing = undefined;
    if (this.recountTimer) clearInterval(this.recountTimer);
    this.recountTimer = undefined;
  }

  /**
   * Deploys a definition (replacing one of the same code). Throws WorkflowDefinitionError when it
   * breaks a rule. Its instances are then brought in line in the background (see `synced`): those in
   * a state the definition lost are flagged, due times follow changed timeouts.
   */
  register(definition: WorkflowDefinition): CompiledWorkflow {
    const compiled = new CompiledWorkflow(definition);
    this.workflows.set(compiled.code, compiled);
    const previous = this.syncs.get(compiled.code) ?? Promise.resolve();
    const sync = previous
      .catch(() => undefined)
      .then(() => this.sync(compiled))
      .then(async (report) => {
        await this.recount(compiled.code);
        if (this.workflows.get(compiled.code) === compiled) void this.scheduler.poke();
        return report;
      });
    sync.catch((err) => this.emit('failure', err));
    this.syncs.set(compiled.code, sync);
    return compiled;
  }

  /** Withdraws a definition (its instances stay in the store), unless another replaced it meanwhile. */
  unregister(compiled: CompiledWorkflow): void {
    if (this.workflows.get(compiled.code) === compiled) this.workflows.delete(compiled.code);
  }

  get(code: string): CompiledWorkflow | undefined {
    return this.workflows.get(code);
  }

  codes(): string[] {
    return [...this.workflows.keys()];
  }

  /** Resolves when the last registration of `code` has brought its instances in line. */
  synced(code: string): Promise<SyncReport | undefined> {
    return this.syncs.get(code) ?? Promise.resolve(undefined);
  }

  /**
   * Hands `handler` every event of workflow `code` as listener `id` (a node id): this process's
   * changes, and in a shared store the other processes' too — except those that a listener with the
   * same id had there (the same flow deployed in both processes takes each event once, in the
   * process where it happened). Answers the function that stops it.
   */
  listen(code: string, id: string, handler: EventHandler): () => void {
    let byId = this.eventListeners.get(code);
    if (!byId) this.eventListeners.set(code, (byId = new Map()));
    const listeners = byId;
    listeners.set(id, handler);
    return () => {
      if (listeners.get(id) === handler) listeners.delete(id);
    };
  }

  /** Instances per state (as counted, then kept up to date by this process's changes). */
  instanceCounts(code: string): Record<string, number> {
    return Object.fromEntries(this.counts.get(code) ?? []);
  }

  /** Instances not in a final state (those whose state is missing count as active). */
  activeInstances(code: string): number {
    const wf = this.workflows.get(code);
    let n = 0;
    for (const [state, count] of this.counts.get(code) ?? []) if (!wf?.isFinal(state)) n += count;
    return n;
  }

  async recount(code: string): Promise<void> {
    const counts = await this.store.workflows.countInstances(code);
    this.counts.set(code, new Map(Object.entries(counts)));
    this.emit('counts', code);
  }

  /**
   * Fires a transition for the instance `request.key` of workflow `code` (created in the initial
   * state if new): the named transition, or the first enabled one leaving its state with the trigger
   * type whose condition holds for `request.msg`.
   */
  async fire(code: string, request: FireRequest): Promise<Outcome> {
    return this.serial(code, request.key, () => this.retrying(() => this.fireOnce(code, request)));
  }

  // Objects of the hot path are written out in full (no spreads): V8 builds them much faster so.
  private async fireOnce(code: string, request: FireRequest): Promise<Outcome> {
    const wf = this.deployed(code);
    const at = this.now();
    const found = await this.store.workflows.getInstance(code, request.key);
    const { actor, runId } = request;
    const instance: WorkflowInstance = found ?? {
      workflow: code,
      key: request.key,
      state: wf.initial.code,
      since: at,
      createdAt: at,
      dueAt: wf.dueAt(wf.initial.code, at),
      version: 0,
    };
    if (!found && !wf.enabled) return { fired: false, created: false, instance, reason: 'disabled' };
    const selected = wf.select(instance.state, request, request.msg);
    const selection = selected instanceof Promise ? await selected : selected;
    const transition = 'transition' in selection ? selection.transition : undefined;
    const cause: ChangeCause = request.trigger ?? transition?.trigger ?? 'manual';
    const history: WorkflowHistoryEntry[] = [];
    if (!found) {
      instance.lastTrigger = cause;
      history.push(
        entry(code, request.key, at, 'created', undefined, instance.state, undefined, cause, actor, runId),
      );
    }
    if (!transition) {
      const reason = (selection as { reason: NoMatchReason }).reason;
      if (found) return { fired: false, created: false, instance, reason };
      const created = changedInstance(instance, instance.state, at, cause, undefined, instance.dueAt, 1);
      await this.store.workflows.writeInstance({ instance: created, expectedVersion: 0, history });
      this.changed(wf, history[0], created);
      this.scheduler.nudge(created.dueAt);
      return { fired: false, created: true, instance: created, reason };
    }
    const next = changedInstance(
      instance,
      transition.to,
      at,
      cause,
      transition.code,
      wf.dueAt(transition.to, at),
      instance.version + 1,
    );
    const moved = entry(
      code,
      request.key,
      at,
      'transition',
      instance.state,
      transition.to,
      transition.code,
      cause,
      actor,
      runId,
    );
    history.push(moved);
    await this.store.workflows.writeInstance({ instance: next, expectedVersion: instance.version, history });
    if (!found) this.changed(wf, history[0], instance);
    const event = this.changed(wf, moved, next);
    this.scheduler.nudge(next.dueAt);
    return { fired: true, created: !found, instance: next, event, final: event.final };
  }

  /** Puts an instance in `state` (any state of the definition), as a person may from the editor. */
  async reset(code: string, key: string, state: string, actor?: string): Promise<WorkflowEvent> {
    return this.serial(code, key, () =>
      this.retrying(async () => {
        const wf = this.deployed(code);
        if (!wf.state(state))
          throw new WorkflowError('unknown-state', `Workflow ${code} has no state ${state}`);
        const found = await this.store.workflows.getInstance(code, key);
        if (!found) throw new WorkflowError('no-instance', `Workflow ${code} has no instance ${key}`);
        const at = this.now();
        const next = changedInstance(
          found,
          state,
          at,
          'reset',
          undefined,
          wf.dueAt(state, at),
          found.version + 1,
        );
        const line = entry(code, key, at, 'reset', found.state, state, undefined, 'reset', actor, undefined);
        await this.store.workflows.writeInstance({
          instance: next,
          expectedVersion: found.version,
          history: [line],
        });
        this.scheduler.nudge(next.dueAt);
        return this.changed(wf, line, next);
      }),
    );
  }

  /** Deletes an instance and its history. */
  async remove(code: string, key: string, actor?: string): Promise<WorkflowEvent> {
    return this.serial(code, key, async () => {
      const deleted = await this.store.workflows.deleteInstance(code, key);
      if (!deleted) throw new WorkflowError('no-instance', `Workflow ${code} has no instance ${key}`);
      const event: WorkflowEvent = {
        workflow: code,
        key,
        kind: 'deleted',
        from: deleted.state,
        trigger: 'delete',
        at: this.now(),
        final: false,
        instance: deleted,
        actor,
      };
      this.count(code, deleted.state, -1);
      this.announce(event);
      return event;
    });
  }

  instance(code: string, key: string): Promise<WorkflowInstance | undefined> {
    return this.store.workflows.getInstance(code, key);
  }

  list(query: WorkflowInstanceQuery): Promise<WorkflowInstancePage> {
    return this.store.workflows.listInstances(query);
  }

  history(code: string, key: string): Promise<WorkflowHistoryEntry[]> {
    return this.store.workflows.instanceHistory(code, key);
  }

  /** Fires one batch of due timeouts now; true when the batch was full. */
  async fireDue(): Promise<boolean> {
    const codes = this.timed();
    if (codes.length === 0) return false;
    const dueAt = new Map<WorkflowChange, number>();
    let taken = 0;
    const decide = (instance: WorkflowInstance): DueDecision => {
      taken++;
      const wf = this.workflows.get(instance.workflow);
      const t = wf && !instance.flags?.length ? wf.timeoutTransition(instance.state) : undefined;
      if (!wf || !t) return { clear: true };
      const at = this.now();
      const change: WorkflowChange = {
        instance: changedInstance(
          instance,
          t.to,
          at,
          'timeout',
          t.code,
          wf.dueAt(t.to, at),
          instance.version + 1,
        ),
        expectedVersion: instance.version,
        history: [
          entry(
            instance.workflow,
            instance.key,
            at,
            'transition',
            instance.state,
            t.to,
            t.code,
            'timeout',
            undefined,
            undefined,
          ),
        ],
      };
      dueAt.set(change, instance.dueAt ?? at);
      return { change };
    };
    const written = await this.store.workflows.takeDueTimeouts(codes, this.now(), this.batch, decide);
    for (const change of written) {
      const wf = this.workflows.get(change.instance.workflow);
      if (wf) this.changed(wf, change.history[0], change.instance, dueAt.get(change));
    }
    return taken >= this.batch;
  }

  /**
   * Deletes, with their history, the instances of the deployed workflows that have been in a final
   * state longer than `keepFinalMs`; answers how many. In batches of `pruneBatch`, one short store
   * transaction each, paced (src/store/paced.ts) so that a large backlog never holds the store for
   * long. No event is emitted (pruning is housekeeping, not a change of state). One pruning at a time.
   */
  pruneFinal(): Promise<number> {
    this.pruning ??= this.pruneAll().finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  private async pruneAll(): Promise<number> {
    if (this.keepFinalMs <= 0) return 0;
    let total = 0;
    for (const wf of [...this.workflows.values()]) {
      const finals = wf.stateCodes().filter((state) => wf.isFinal(state));
      const pruned = await pacedBatches(
        () =>
          this.store.workflows.pruneInstances(
            wf.code,
            finals,
            this.now() - this.keepFinalMs,
            this.pruneBatch,
          ),
        this.pruneBatch,
      );
      if (pruned > 0) await this.recount(wf.code);
      total += pruned;
    }
    return total;
  }

  /** Enabled workflows: the only ones whose timeouts fire. */
  private timed(): string[] {
    return [...this.workflows.values()].filter((w) => w.enabled).map((w) => w.code);
  }

  private deployed(code: string): CompiledWorkflow {
    const wf = this.workflows.get(code);
    if (!wf) throw new WorkflowError('not-deployed', `Workflow ${code} is not deployed`);
    return wf;
  }

  /** Records a change in the counts and emits it. */
  private changed(
    wf: CompiledWorkflow,
    entry: WorkflowHistoryEntry,
    instance: WorkflowInstance,
    dueAt?: number,
  ): WorkflowEvent {
    if (entry.kind === 'created') this.count(wf.code, entry.to, 1);
    else {
      if (entry.from !== undefined) this.count(wf.code, entry.from, -1);
      this.count(wf.code, entry.to, 1);
    }
    const event: WorkflowEvent = {
      workflow: wf.code,
      key: entry.key,
      kind: entry.kind,
      from: entry.from,
      to: entry.to,
      transition: entry.transition,
      trigger: entry.trigger as ChangeCause,
      at: entry.at,
      final: wf.isFinal(entry.to),
      instance,
    };
    if (dueAt !== undefined) event.dueAt = dueAt;
    if (entry.actor) event.actor = entry.actor;
    if (entry.runId) event.runId = entry.runId;
    this.announce(event);
    return event;
  }

  /** Tells a change made here: 'change', the listeners, and in a shared store the other processes. */
  private announce(event: WorkflowEvent): void {
    this.emit('change', event);
    const listeners = this.eventListeners.get(event.workflow);
    if (listeners) for (const [id, handler] of listeners) this.deliver(id, handler, event);
    if (!this.shared) return;
    const shared: SharedEvent = { event, taken: listeners ? [...listeners.keys()] : [] };
    this.store.messages
      .publish(EVENTS_CHANNEL, JSON.stringify(shared))
      .catch((err) => this.emit('failure', err));
  }

  /**
   * A change another process made: counted, and handed to the listeners of its workflow that the
   * other process's listeners did not take. Not emitted as 'change' (this process made none).
   */
  private received(message: string): void {
    let shared: SharedEvent;
    try {
      shared = JSON.parse(message) as SharedEvent;
    } catch {
      return;
    }
    const event = shared.event;
    const code = event?.workflow;
    if (typeof code !== 'string' || !this.workflows.has(code)) return;
    if (event.kind !== 'created' && event.from !== undefined) this.count(code, event.from, -1);
    if (event.kind !== 'deleted' && event.to !== undefined) this.count(code, event.to, 1);
    this.emit('counts', code);
    const taken = new Set(Array.isArray(shared.taken) ? shared.taken : []);
    for (const [id, handler] of this.eventListeners.get(code) ?? [])
      if (!taken.has(id)) this.deliver(id, handler, event);
  }

  private deliver(id: string, handler: EventHandler, event: WorkflowEvent): void {
    try {
      handler(event);
    } catch (err) {
      this.emit('failure', err);
    }
  }

  private count(code: string, state: string, delta: number): void {
    let counts = this.counts.get(code);
    if (!counts) this.counts.set(code, (counts = new Map()));
    const n = (counts.get(state) ?? 0) + delta;
    if (n > 0) counts.set(state, n);
    else counts.delete(state);
  }

  /** Runs `work` after every earlier piece of work on the same instance (this process only). */
  private serial<T>(code: string, key: string, work: () => Promise<T>): Promise<T> {
    const id = `${code}\u0000${key}`;
    const previous = this.queues.get(id);
    const result = previous ? previous.then(work, work) : work();
    this.queues.set(id, result);
    const settled = () => {
      if (this.queues.get(id) === result) this.queues.delete(id);
    };
    result.then(settled, settled);
    return result;
  }

  private async retrying<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (!(err instanceof WorkflowConflict)) throw err;
        if (attempt >= this.maxAttempts)
          throw new WorkflowError('busy', `${err.message} ${attempt} times: try again`);
      }
    }
  }

  /**
   * Brings a workflow's instances in line with its (new) definition: flags those whose state it
   * lost, and gives those in a state whose timeout changed their new due time. Only states whose
   * timeout differs from what the last sync saw are touched (kept in the store's node state).
   */
  private async sync(wf: CompiledWorkflow): Promise<SyncReport> {
    const seen =
      (await this.store.nodeState.get<Record<string, string>>(`workflow:${wf.code}`, SYNC_KIND)) ?? {};
    const current: Record<string, string> = {};
    const retime: Record<string, number | null> = {};
    for (const code of wf.stateCodes()) {
      const t = wf.timeoutTransition(code);
      const ms = t ? (timeoutMs(wf.state(code)) ?? null) : null;
      current[code] = `${ms}|${t?.code ?? ''}`;
      if (seen[code] !== current[code]) retime[code] = ms;
    }
    const flagged = await this.store.workflows.syncWorkflow(wf.code, wf.stateCodes(), retime);
    await this.store.nodeState.set(`workflow:${wf.code}`, SYNC_KIND, current);
    const report = { flagged, retimed: Object.keys(retime) };
    if (Object.keys(flagged).length) this.emit('flagged', wf.code, flagged);
    return report;
  }
}

/** `instance` after a change to `state` at `at`. */
function changedInstance(
  instance: WorkflowInstance,
  state: string,
  at: number,
  trigger: string,
  transition: string | undefined,
  dueAt: number | undefined,
  version: number,
): WorkflowInstance {
  return {
    workflow: instance.workflow,
    key: instance.key,
    state,
    since: at,
    createdAt: instance.createdAt,
    lastTrigger: trigger,
    lastTransition: transition,
    dueAt,
    flags: undefined,
    version,
  };
}

function entry(
  workflow: string,
  key: string,
  at: number,
  kind: WorkflowHistoryEntry['kind'],
  from: string | undefined,
  to: string,
  transition: string | undefined,
  trigger: string,
  actor: string | undefined,
  runId: string | undefined,
): WorkflowHistoryEntry {
  return { workflow, key, at, kind, from, to, transition, trigger, actor, runId };
}
