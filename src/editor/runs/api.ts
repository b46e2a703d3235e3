// The answers of the runs admin API (src/nodes/lib/runs-api.ts), as the dashboard reads them.
import type { RefusedCall } from '../../runs/refused.js';
import type { NodeRef, RunRecord, RunStatus } from '../../runs/tracker.js';

export type { NodeRef, RefusedCall, RunStatus };

/** A run of GET runs: without its steps (their number) and input, with its duration. */
export type RunSummary = Omit<RunRecord, 'steps' | 'input' | 'inputExtra'> & {
  steps: number;
  durationMs?: number;
};

/** A run of GET runs/:id: with its duration and the ids of its re-runs. */
export type RunDetail = RunRecord & { durationMs?: number; reruns?: string[] };

/** GET runs/counts. */
export interface RunCounts {
  succeeded: number;
  failed: number;
  running: number;
  unfinished: number;
  capped?: boolean;
}

/** A deployed Manual trigger (GET manual). */
export interface ManualTrigger {
  id: string;
  name?: string;
  flowId: string;
  input: string;
}

/** What the comms topic imis/rejected says of rejected calls. */
export interface RejectedNotice {
  flowIds: string[];
  triggerIds: string[];
}

/** An answer of the admin API: its body, and the paging headers. */
export interface Answer<T> {
  body: T;
  next: string | null;
  total: string | null;
}
