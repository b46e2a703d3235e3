import type { WorkflowsRepository } from '../store/repositories/workflows.js';
import { pacedBatches } from '../store/index.js';
import type { CompiledWorkflow } from './machine.js';

export interface PruningOptions {
  /** How long an instance stays in the store once in a final state, ms (0: kept for ever). */
  keepFinalMs: number;
  /** How often instances past that are looked for, from start(). */
  everyMs: number;
  /** Instances deleted per store transaction. */
  batch: number;
  now: () => number;
}

/**
 * Deletes, with their history, the instances of the deployed workflows that have been in a final
 * state longer than `keepFinalMs`: at start(), then every `everyMs` until stop(). In batches of
 * `batch`, one short store transaction each, paced (src/store/paced.ts) so that a large backlog
 * never holds the store for long. No event is emitted (pruning is housekeeping, not a change of
 * state). One pruning at a time; `pruned(code)` is told of each workflow that lost instances.
 */
export class FinalPruning {
  private timer: NodeJS.Timeout | undefined;
  private pruning: Promise<number> | undefined;

  constructor(
    private readonly store: Pick<WorkflowsRepository, 'pruneInstances'>,
    private readonly workflows: () => Iterable<CompiledWorkflow>,
    private readonly pruned: (code: string) => Promise<void>,
    private readonly failed: (err: unknown) => void,
    private readonly options: PruningOptions,
  ) {}

  start(): void {
    if (this.options.keepFinalMs <= 0 || this.timer) return;
    const prune = () => void this.prune().catch(this.failed);
    this.timer = setInterval(prune, this.options.everyMs);
    this.timer.unref();
    setImmediate(prune);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Prunes now (or joins the pruning under way); answers how many instances were deleted. */
  prune(): Promise<number> {
    this.pruning ??= this.pruneAll().finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  private async pruneAll(): Promise<number> {
    const { keepFinalMs, batch, now } = this.options;
    if (keepFinalMs <= 0) return 0;
    let total = 0;
    for (const wf of [...this.workflows()]) {
      const finals = wf.stateCodes().filter((state) => wf.isFinal(state));
      const pruned = await pacedBatches(
        () => this.store.pruneInstances(wf.code, finals, now() - keepFinalMs, batch),
        batch,
      );
      if (pruned > 0) await this.pruned(wf.code);
      total += pruned;
    }
    return total;
  }
}
