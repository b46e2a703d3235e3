import type { RunRecord } from '../../src/runs/tracker.js';
import { helper } from './red.js';
import { waitFor } from './wait.js';

/** The run `id` as GET /imis/runs/<id> answers it, once it has settled (is no longer running). */
export function settledRun(id: string, timeoutMs = 5000): Promise<RunRecord> {
  return waitFor(
    async () => {
      const res = await helper.request().get(`/imis/runs/${id}`);
      const run = res.body as RunRecord;
      return res.status === 200 && run.status !== 'running' ? run : undefined;
    },
    timeoutMs,
    `run ${id} to settle`,
  );
}

/** A run as GET /imis/runs lists it (runs-api.ts `summary`): its steps counted, its input left out. */
export type RunSummary = Omit<RunRecord, 'steps' | 'input' | 'inputExtra'> & {
  steps: number;
  durationMs?: number;
};

/** What starting a run answers (POST /imis/manual/<id>, POST /imis/runs/<id>/rerun): its id. */
export interface RunStarted {
  id: string;
}

/** What the admin API answers to a request it refuses (400, 404, 409). */
export interface ApiError {
  error: string;
}

/** One run as GET /imis/runs/<id> answers it (runs-api.ts): the record, its duration and its re-runs' ids. */
export type RunAnswer = RunRecord & { durationMs?: number; reruns: string[] };

/** GET /imis/runs/counts: runs per status (runs-api.ts). */
export interface RunCountsAnswer {
  succeeded: number;
  failed: number;
  running: number;
  unfinished: number;
  capped: boolean;
}

/** How many runs of each status the runs API counts (query: its filters, e.g. `flow=tab`). */
export async function runCounts(query = ''): Promise<RunCountsAnswer> {
  return (
    await helper
      .request()
      .get(`/imis/runs/counts${query ? `?${query}` : ''}`)
      .expect(200)
  ).body as RunCountsAnswer;
}

/**
 * Once `count` runs (matching `query`) have finished and none is running, what the runs API counts
 * for them: the event that ends a flow's work, e.g. before asserting that nothing more arrived.
 */
export function runsSettled(count: number, query = '', timeoutMs = 5000): Promise<RunCountsAnswer> {
  return waitFor(
    async () => {
      const counts = await runCounts(query);
      const finished = counts.succeeded + counts.failed + counts.unfinished;
      return counts.running === 0 && finished >= count ? counts : undefined;
    },
    timeoutMs,
    `${count} runs to finish`,
  );
}

/**
 * The body a webhook answers (src/core/ihook.ts `queued` and `rejected`): the run's id when it was
 * accepted, a message and its details (e.g. `errors`) when it was refused.
 */
export type HookAnswer =
  | { error: false; id: string; queueTime: string }
  | { error: true; message: string; errors?: { path: string; message: string }[]; [detail: string]: unknown };

/** The body of a refused webhook call (HookAnswer with `error: true`). */
export type HookRefusal = Extract<HookAnswer, { error: true }>;
