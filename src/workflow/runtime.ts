/**
 * The durable workflow runtime of one process: the deployed definitions, instances read from and
 * written to the store (never kept in memory), transitions fired by messages, by people (editor) and
 * by timeouts, and the events every change emits. See docs/workflows.md.
 *
 * Instances are changed optimistically: read, decide (conditions are asynchronous), write naming
 * the version read; a write that finds the instance changed meanwhile (another process, a timeout)
 * is retried from the read. Within this process, changes of one instance are queued in arrival
 * order (change-queue.ts). The runtime composes the counts cache (counts.ts), the cross-process
 * fan-out (fan-out.ts), the pruning of final instances (pruning.ts) and the definition sync
 * (definition-sync.ts). No Node-RED dependency.
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
import { ChangeQueue, WorkflowError } from './change-queue.js';
import { changedInstance, historyEntry, moveInstance } from './changes.js';
import { InstanceCounts } from './counts.js';
import type { ChangeCause, TriggerType, WorkflowDefinition } from './definition.js';
import { DefinitionSync } from './definition-sync.js';
import type { SyncReport } from './definition-sync.js';
import { SharedEvents } from './fan-out.js';
import type { SharedEvent } from './fan-out.js';
import { CompiledWorkflow } from './machine.js';
import type { NoMatchReason } from './machine.js';
import { FinalPruning } from './pruning.js';
import { DueScheduler } from './scheduler.js';

/** The part of the store the runtime uses. */
export type WorkflowStore = Pick<Store, 'workflows' | 'nodeState' | 'messages'>;

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

export class WorkflowRuntime extends EventEmitter {
  private readonly workflows = new Map<string, CompiledWorkflow>();
  private readonly eventListeners = new Map<string, Map<string, EventHandler>>();
  private readonly scheduler: DueScheduler;
  private readonly queue: ChangeQueue;
  private readonly counts: InstanceCounts;
  /** Absent unless other processes share the store. */
  private readonly sharedEvents: SharedEvents | undefined;
  private readonly pruning: FinalPruning;
  private readonly definitions: DefinitionSync;
  private readonly now: () => number;
  private readonly batch: number;

  constructor(
    readonly store: WorkflowStore,
    options: RuntimeOptions = {},
  ) {
    super();
    const failed = (err: unknown) => void this.emit('failure', err);
    this.now = options.now ?? Date.now;
    this.batch = Math.max(1, options.timeoutBatch ?? 500);
    this.queue = new ChangeQueue(Math.max(1, options.maxAttempts ?? 10));
    this.scheduler = new DueScheduler(
      { fireDue: () => this.fireDue(), nextDue: () => this.store.workflows.nextDueAt(this.timed()) },
      { now: this.now, maxSleepMs: options.maxSleepMs, onError: failed },
    );
    this.counts = new InstanceCounts(store.workflows, (code) => this.emit('counts', code));
    if (options.recountMs && options.recountMs > 0)
      this.counts.recountEvery(options.recountMs, () => this.workflows.keys());
    this.sharedEvents =
      options.shared === true
        ? new SharedEvents(store.messages, (shared) => this.received(shared), failed)
        : undefined;
    this.pruning = new FinalPruning(
      store.workflows,
      () => this.workflows.values(),
      (code) => this.recount(code),
      failed,
      {
        keepFinalMs: Math.max(0, options.keepFinalMs ?? 0),
        everyMs: Math.max(1, options.pruneEveryMs ?? 10 * 60 * 1000),
        batch: Math.max(1, options.pruneBatch ?? 200),
        now: this.now,
      },
    );
    this.definitions = new DefinitionSync(store, (code, flagged) => this.emit('flagged', code, flagged));
  }

  /**
   * Starts the timeout scheduler (overdue timeouts fire at once), with a retention for final
   * instances their pruning (at once, then every `pruneEveryMs`), and in a shared store receiving
   * the other processes' changes. Resolves once receiving.
   */
  start(): Promise<void> {
    this.scheduler.start();
    const receiving = this.sharedEvents?.start();
    this.pruning.start();
    return receiving ?? Promise.resolve();
  }

  stop(): void {
    this.scheduler.stop();
    this.pruning.stop();
    this.sharedEvents?.stop();
    this.counts.stop();
  }

  /**
   * Deploys a definition (replacing one of the same code). Throws WorkflowDefinitionError when it
   * breaks a rule. Its instances are then brought in line in the background (see `synced`): those in
   * a state the definition lost are flagged, due times follow changed timeouts.
   */
  register(definition: WorkflowDefinition): CompiledWorkflow {
    const compiled = new CompiledWorkflow(definition);
    this.workflows.set(compiled.code, compiled);
    const sync = this.definitions.queue(compiled, async (report) => {
      await this.recount(compiled.code);
      if (this.workflows.get(compiled.code) === compiled) void this.scheduler.poke();
      return report;
    });
    sync.catch((err) => this.emit('failure', err));
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
    return this.definitions.synced(code);
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
    return this.counts.of(code);
  }

  /** Instances not in a final state (those whose state is missing count as active). */
  activeInstances(code: string): number {
    return this.counts.active(code, this.workflows.get(code));
  }

  recount(code: string): Promise<void> {
    return this.counts.recount(code);
  }

  /**
   * Fires a transition for the instance `request.key` of workflow `code` (created in the initial
   * state if new): the named transition, or the first enabled one leaving its state with the trigger
   * type whose condition holds for `request.msg`.
   */
  async fire(code: string, request: FireRequest): Promise<Outcome> {
    return this.queue.serial(code, request.key, () =>
      this.queue.retrying(() => this.fireOnce(code, request)),
    );
  }

  // Objects of the hot path are written out in full (no spreads): V8 builds them much faster so.
  private async fireOnce(code: string, request: FireRequest): Promise<Outcome> {
    const wf = this.deployed(code);
    const at = this.now();
    const found = await this.store.workflows.getInstance(code, request.key);
    const { key, actor, runId } = request;
    const instance: WorkflowInstance = found ?? {
      workflow: code,
      key,
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
        historyEntry({
          workflow: code,
          key,
          at,
          kind: 'created',
          from: undefined,
          to: instance.state,
          transition: undefined,
          trigger: cause,
          actor,
          runId,
        }),
      );
    }
    if (!transition) {
      const reason = (selection as { reason: NoMatchReason }).reason;
      if (found) return { fired: false, created: false, instance, reason };
      const created = changedInstance(instance, {
        state: instance.state,
        at,
        trigger: cause,
        transition: undefined,
        dueAt: instance.dueAt,
        version: 1,
      });
      await this.store.workflows.writeInstance({ instance: created, expectedVersion: 0, history });
      this.changed(wf, history[0], created);
      this.scheduler.nudge(created.dueAt);
      return { fired: false, created: true, instance: created, reason };
    }
    const { next, line: moved } = moveInstance(instance, {
      kind: 'transition',
      to: transition.to,
      at,
      trigger: cause,
      transition: transition.code,
      dueAt: wf.dueAt(transition.to, at),
      actor,
      runId,
    });
    history.push(moved);
    await this.store.workflows.writeInstance({ instance: next, expectedVersion: instance.version, history });
    if (!found) this.changed(wf, history[0], instance);
    const event = this.changed(wf, moved, next);
    this.scheduler.nudge(next.dueAt);
    return { fired: true, created: !found, instance: next, event, final: event.final };
  }

  /** Puts an instance in `state` (any state of the definition), as a person may from the editor. */
  async reset(code: string, key: string, state: string, actor?: string): Promise<WorkflowEvent> {
    return this.queue.serial(code, key, () =>
      this.queue.retrying(async () => {
        const wf = this.deployed(code);
        if (!wf.state(state))
          throw new WorkflowError('unknown-state', `Workflow ${code} has no state ${state}`);
        const found = await this.store.workflows.getInstance(code, key);
        if (!found) throw new WorkflowError('no-instance', `Workflow ${code} has no instance ${key}`);
        const at = this.now();
        const { next, line } = moveInstance(found, {
          kind: 'reset',
          to: state,
          at,
          trigger: 'reset',
          transition: undefined,
          dueAt: wf.dueAt(state, at),
          actor,
          runId: undefined,
        });
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
    return this.queue.serial(code, key, async () => {
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
      this.counts.moved(code, deleted.state, undefined);
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
      const { next, line } = moveInstance(instance, {
        kind: 'transition',
        to: t.to,
        at,
        trigger: 'timeout',
        transition: t.code,
        dueAt: wf.dueAt(t.to, at),
        actor: undefined,
        runId: undefined,
      });
      const change: WorkflowChange = { instance: next, expectedVersion: instance.version, history: [line] };
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
   * state longer than `keepFinalMs`; answers how many (pruning.ts).
   */
  pruneFinal(): Promise<number> {
    return this.pruning.prune();
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
    this.counts.moved(wf.code, entry.kind === 'created' ? undefined : entry.from, entry.to);
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
    this.sharedEvents?.publish(event, listeners ? [...listeners.keys()] : []);
  }

  /**
   * A change another process made: counted, and handed to the listeners of its workflow that the
   * other process's listeners did not take. Not emitted as 'change' (this process made none).
   */
  private received(shared: SharedEvent): void {
    const event = shared.event;
    const code = event?.workflow;
    if (typeof code !== 'string' || !this.workflows.has(code)) return;
    this.counts.moved(
      code,
      event.kind !== 'created' ? event.from : undefined,
      event.kind !== 'deleted' ? event.to : undefined,
    );
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
}
