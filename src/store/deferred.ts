import type {
  AcceptOnce,
  AcceptedInput,
  DedupRecord,
  DeltaChange,
  RetentionPolicy,
  RunCounts,
  RunPage,
  RunQuery,
  SeenMark,
  Store,
  StoredExport,
} from './types.js';
import type {
  DueDecision,
  WorkflowChange,
  WorkflowHistoryEntry,
  WorkflowInstance,
  WorkflowInstancePage,
  WorkflowInstanceQuery,
} from './types.js';
import type { RunRecord } from '../runs/tracker.js';
import { StoreUnavailableError, unavailableIfLost } from './problems.js';
import type { StoreProblem } from './problems.js';

function lost(err: unknown): never {
  throw unavailableIfLost(err);
}

/** Waits between attempts to open the store, ms: then every 30 s until it opens. */
const RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];

/**
 * A store usable at once while it is still opening (PostgreSQL connects and migrates
 * asynchronously; Node-RED builds nodes synchronously): each call waits for the first opening.
 * A store that cannot open is tried again in the background until it opens (PostgreSQL back, a
 * folder made writable); meanwhile calls fail at once with StoreUnavailableError, and `onState`
 * listeners hear of the problem and of the recovery.
 */
export class DeferredStore implements Store {
  private store: Store | undefined;
  /** Why the store cannot open (undefined: open, or still opening the first time). */
  private problem: StoreProblem | undefined;
  private nextAttemptAt = 0;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private inFlight: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(problem: StoreProblem | undefined) => void>();
  private opened!: (store: Store) => void;
  /** Resolves once the store is open, after as many attempts as it takes. */
  readonly ready: Promise<Store>;

  constructor(
    readonly engine: Store['engine'],
    private readonly open: () => Promise<Store>,
    private readonly describe: (err: unknown) => StoreProblem,
    private readonly retryMs: readonly number[] = RETRY_MS,
  ) {
    this.ready = new Promise((resolve) => (this.opened = resolve));
    this.attempt();
  }

  /** Why the store cannot open now, or undefined. */
  get unavailable(): StoreProblem | undefined {
    return this.problem;
  }

  /** Told of each new problem, and (undefined) of the recovery; answers a function that unsubscribes. */
  onState(listener: (problem: StoreProblem | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private attempt(): void {
    this.attempts++;
    this.inFlight = this.open().then(
      (store) => {
        if (this.closed) return void store.close().catch(() => undefined);
        this.store = store;
        const recovered = this.problem !== undefined;
        this.problem = undefined;
        this.opened(store);
        if (recovered) this.tell(undefined);
      },
      (err: unknown) => {
        if (this.closed) return;
        const problem = this.describe(err);
        const changed = problem.message !== this.problem?.message;
        this.problem = problem;
        const wait = this.retryMs[Math.min(this.attempts, this.retryMs.length) - 1];
        this.nextAttemptAt = Date.now() + wait;
        this.timer = setTimeout(() => this.attempt(), wait);
        this.timer.unref();
        if (changed) this.tell(problem);
      },
    );
  }

  private tell(problem: StoreProblem | undefined): void {
    for (const listener of this.listeners) listener(problem);
  }

  private async use(): Promise<Store> {
    if (this.store) return this.store;
    if (!this.problem) await this.inFlight; // the first opening: its outcome decides
    if (this.store) return this.store;
    if (this.problem) {
      const retryAfterSec = Math.max(1, Math.ceil((this.nextAttemptAt - Date.now()) / 1000));
      throw new StoreUnavailableError(this.problem, retryAfterSec);
    }
    throw new Error('the store is closed');
  }

  // Accepting an input and claiming a fire: a lost connection is StoreUnavailableError too (503).
  async accept(input: AcceptedInput): Promise<void> {
    return (await this.use()).accept(input).catch(lost);
  }
  async acceptOnce(input: AcceptedInput, seen: SeenMark): Promise<AcceptOnce> {
    return (await this.use()).acceptOnce(input, seen).catch(lost);
  }
  async claimFire(nodeId: string, dueAt: number, input: AcceptedInput, missed?: boolean): Promise<boolean> {
    return (await this.use()).claimFire(nodeId, dueAt, input, missed).catch(lost);
  }
  async lastFire(nodeId: string): Promise<number | undefined> {
    return (await this.use()).lastFire(nodeId);
  }
  async fireSent(runId: string): Promise<void> {
    return (await this.use()).fireSent(runId).catch(lost);
  }
  async claimPending(source: string): Promise<AcceptedInput[]> {
    return (await this.use()).claimPending(source);
  }
  async heartbeat(): Promise<void> {
    return (await this.use()).heartbeat();
  }
  async importInputs(inputs: AcceptedInput[]): Promise<void> {
    return (await this.use()).importInputs(inputs);
  }
  async finishRun(run: RunRecord): Promise<void> {
    return (await this.use()).finishRun(run);
  }
  async getRun(id: string): Promise<RunRecord | undefined> {
    return (await this.use()).getRun(id);
  }
  async listRuns(query: RunQuery): Promise<RunPage> {
    return (await this.use()).listRuns(query);
  }
  async countRuns(query: RunQuery): Promise<RunCounts> {
    return (await this.use()).countRuns(query);
  }
  async pruneRuns(policy: RetentionPolicy, now?: Date, batch?: number): Promise<number> {
    return (await this.use()).pruneRuns(policy, now, batch);
  }
  async getNodeState<T>(nodeId: string, kind: string): Promise<T | undefined> {
    return (await this.use()).getNodeState<T>(nodeId, kind);
  }
  async setNodeState(nodeId: string, kind: string, value: unknown): Promise<void> {
    return (await this.use()).setNodeState(nodeId, kind, value);
  }
  async markSeen(scope: string, id: string, expiresAt: Date, now?: Date): Promise<boolean> {
    return (await this.use()).markSeen(scope, id, expiresAt, now);
  }
  async unmarkSeen(scope: string, id: string): Promise<void> {
    return (await this.use()).unmarkSeen(scope, id);
  }
  async pruneSeen(now?: Date): Promise<number> {
    return (await this.use()).pruneSeen(now);
  }
  async putExport(entry: StoredExport): Promise<void> {
    return (await this.use()).putExport(entry);
  }
  async getExport(keyHash: string, now?: Date): Promise<StoredExport | undefined> {
    return (await this.use()).getExport(keyHash, now);
  }
  async deleteExport(keyHash: string): Promise<void> {
    return (await this.use()).deleteExport(keyHash);
  }
  async pruneExports(now?: Date): Promise<number> {
    return (await this.use()).pruneExports(now);
  }
  async getDedup(scope: string, key: string): Promise<DedupRecord | undefined> {
    return (await this.use()).getDedup(scope, key);
  }
  async openDedup(scope: string, key: string, now?: Date): Promise<void> {
    return (await this.use()).openDedup(scope, key, now);
  }
  async putDedup(scope: string, key: string, result: unknown, now?: Date): Promise<void> {
    return (await this.use()).putDedup(scope, key, result, now);
  }
  async dropDedup(scope: string, key: string): Promise<void> {
    return (await this.use()).dropDedup(scope, key);
  }
  async dueRetries(now: Date, limit: number): Promise<string[]> {
    return (await this.use()).dueRetries(now, limit);
  }
  async claimRetry(id: string): Promise<boolean> {
    return (await this.use()).claimRetry(id);
  }
  async pruneDedup(before: Date): Promise<number> {
    return (await this.use()).pruneDedup(before);
  }
  async getDeltaHashes(scope: string): Promise<Map<string, string>> {
    return (await this.use()).getDeltaHashes(scope);
  }
  async commitDelta(scope: string, change: DeltaChange): Promise<void> {
    return (await this.use()).commitDelta(scope, change);
  }
  async getInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined> {
    return (await this.use()).getInstance(workflow, key);
  }
  async writeInstance(change: WorkflowChange): Promise<void> {
    return (await this.use()).writeInstance(change);
  }
  async deleteInstance(workflow: string, key: string): Promise<WorkflowInstance | undefined> {
    return (await this.use()).deleteInstance(workflow, key);
  }
  async listInstances(query: WorkflowInstanceQuery): Promise<WorkflowInstancePage> {
    return (await this.use()).listInstances(query);
  }
  async countInstances(workflow: string): Promise<Record<string, number>> {
    return (await this.use()).countInstances(workflow);
  }
  async instanceHistory(workflow: string, key: string, limit?: number): Promise<WorkflowHistoryEntry[]> {
    return (await this.use()).instanceHistory(workflow, key, limit);
  }
  async takeDueTimeouts(
    workflows: readonly string[],
    now: number,
    limit: number,
    decide: (instance: WorkflowInstance) => DueDecision,
  ): Promise<WorkflowChange[]> {
    return (await this.use()).takeDueTimeouts(workflows, now, limit, decide);
  }
  async pruneInstances(
    workflow: string,
    states: readonly string[],
    before: number,
    limit: number,
  ): Promise<number> {
    return (await this.use()).pruneInstances(workflow, states, before, limit);
  }
  async nextDueAt(workflows: readonly string[]): Promise<number | undefined> {
    return (await this.use()).nextDueAt(workflows);
  }
  async syncWorkflow(
    workflow: string,
    states: readonly string[],
    timeouts: Record<string, number | null>,
  ): Promise<Record<string, number>> {
    return (await this.use()).syncWorkflow(workflow, states, timeouts);
  }
  async publish(channel: string, message: string): Promise<void> {
    return (await this.use()).publish(channel, message);
  }
  async subscribe(
    channel: string,
    handler: (message: string) => void,
    onError?: (err: Error) => void,
  ): Promise<() => void> {
    return (await this.use()).subscribe(channel, handler, onError);
  }
  async flush(): Promise<void> {
    if (this.store) await this.store.flush();
  }
  flushSync(): void {
    this.store?.flushSync();
  }
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.inFlight; // an opening under way closes what it opened
    await this.store?.close();
  }
}
