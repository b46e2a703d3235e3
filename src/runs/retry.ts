import type { RetriesRepository } from '../store/repositories/retries.js';
import type { RunsRepository } from '../store/repositories/runs.js';
import type { RunRecord, RunStep } from './tracker.js';

/** A trigger's automatic retry of failed runs (off when `attempts` is 0). */
export interface RetryPolicy {
  /** Re-runs after the first failure, at most. */
  attempts: number;
  /** Wait before the first re-run; each next one waits twice as long (at most an hour). */
  delaySec: number;
}

const MAX_DELAY_MS = 60 * 60 * 1000;

/** The wait before re-run number `retry` (1 = the first). */
export function retryDelayMs(policy: RetryPolicy, retry: number): number {
  return Math.min(MAX_DELAY_MS, policy.delaySec * 1000 * 2 ** Math.max(0, retry - 1));
}

/**
 * Whether a finished run is re-run automatically: it failed for a transient reason (network,
 * timeout, 429, 5xx), has retries left, and passed no step that may not run twice (`unsafe`: an
 * insert without a de-duplication key).
 */
export function shouldRetry(
  run: RunRecord,
  policy: RetryPolicy,
  unsafe: (step: RunStep) => boolean,
): boolean {
  return (
    run.status === 'failed' &&
    run.transientError === true &&
    (run.retry ?? 0) < policy.attempts &&
    !run.steps.some(unsafe)
  );
}

/** What the scheduler needs of the store: the planned retries and the runs they re-run. */
export interface RetryStorage {
  retries: Pick<RetriesRepository, 'due' | 'claim'>;
  runs: Pick<RunsRepository, 'get'>;
}

export interface RetrySchedulerOptions {
  storage: RetryStorage;
  /** The retry policy of a run's trigger, if it is deployed and has one. */
  policyOf(run: RunRecord): RetryPolicy | undefined;
  /** Steps that may not run twice (an insert without a de-duplication key). */
  unsafe(step: RunStep): boolean;
  /** Re-runs `run` as its automatic re-run number `retry`; false if its trigger is gone. */
  rerun(run: RunRecord, retry: number): Promise<boolean>;
  /** Told why a planned retry was not made: its input was not kept, its trigger is gone, or an error. */
  warn(reason: RetryNotMade, runId: string, detail?: string): void;
  now?: () => number;
}

export type RetryNotMade = 'input-not-kept' | 'trigger-gone' | 'error';

/** Planned retries read from the store per sweep. */
const SWEEP_BATCH = 50;

/**
 * Automatic retries that survive a restart. A failed run that shouldRetry allows gets `retryAt`
 * before it is stored (`plan`); this process then waits for it with a timer (`schedule`). Whoever
 * makes a retry first claims it in the store, so it is made once: by the timer, or by `sweep`
 * (run at start and now and then), which makes the due ones no timer here holds, e.g. those
 * planned before a restart or by another process sharing the store.
 */
export class RetryScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private sweeping: Promise<number> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: RetrySchedulerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Sets `run.retryAt` when the run is to be re-run automatically; true if so. */
  plan(run: RunRecord): boolean {
    const policy = this.options.policyOf(run);
    if (!policy || !shouldRetry(run, policy, this.options.unsafe)) return false;
    run.retryAt = new Date(this.now() + retryDelayMs(policy, (run.retry ?? 0) + 1)).toISOString();
    return true;
  }

  /** Waits in this process for the retry `plan` set on `run` (its input as it is in memory). */
  schedule(run: RunRecord): void {
    if (!run.retryAt) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(run.id);
        void this.make(run.id, async () => run);
      },
      Math.max(0, Date.parse(run.retryAt) - this.now()),
    );
    timer.unref();
    this.timers.set(run.id, timer);
  }

  /** Makes the due retries no timer of this process waits for; answers how many were made. */
  sweep(): Promise<number> {
    this.sweeping ??= (async () => {
      let made = 0;
      try {
        const due = await this.options.storage.retries.due(new Date(this.now()), SWEEP_BATCH);
        for (const id of due) {
          if (this.timers.has(id)) continue;
          if (await this.make(id, () => this.options.storage.runs.get(id))) made++;
        }
      } finally {
        this.sweeping = undefined;
      }
      return made;
    })();
    return this.sweeping;
  }

  /** Stops the timers (the retries stay planned in the store, for the next sweep). */
  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async make(id: string, load: () => Promise<RunRecord | undefined>): Promise<boolean> {
    try {
      if (!(await this.options.storage.retries.claim(id))) return false; // made elsewhere
      const run = await load();
      if (!run) return false;
      if (run.inputNotStored || run.inputTruncated) {
        this.options.warn('input-not-kept', id);
        return false;
      }
      if (await this.options.rerun(run, (run.retry ?? 0) + 1)) return true;
      this.options.warn('trigger-gone', id);
      return false;
    } catch (err) {
      this.options.warn('error', id, (err as Error).message);
      return false;
    }
  }
}
