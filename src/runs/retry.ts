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
