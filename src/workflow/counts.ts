import type { WorkflowsRepository } from '../store/repositories/workflows.js';
import type { CompiledWorkflow } from './machine.js';

/**
 * Instances per state of each workflow, as counted in the store, then kept up to date by the
 * changes this process makes or hears of; counted again every `recountMs` where several processes
 * share the store (their changes may be missed). `counted(code)` is told after each count.
 */
export class InstanceCounts {
  private readonly counts = new Map<string, Map<string, number>>();
  private recountTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<WorkflowsRepository, 'countInstances'>,
    private readonly counted: (code: string) => void,
  ) {}

  /** Counts the instances of `codes()` every `everyMs` until stop(). */
  recountEvery(everyMs: number, codes: () => Iterable<string>): void {
    this.recountTimer = setInterval(() => {
      for (const code of codes()) void this.recount(code).catch(() => undefined);
    }, everyMs);
    this.recountTimer.unref();
  }

  stop(): void {
    if (this.recountTimer) clearInterval(this.recountTimer);
    this.recountTimer = undefined;
  }

  async recount(code: string): Promise<void> {
    const counts = await this.store.countInstances(code);
    this.counts.set(code, new Map(Object.entries(counts)));
    this.counted(code);
  }

  /** Instances per state of `code`. */
  of(code: string): Record<string, number> {
    return Object.fromEntries(this.counts.get(code) ?? []);
  }

  /** Instances not in a final state of `wf` (those whose state is missing count as active). */
  active(code: string, wf: CompiledWorkflow | undefined): number {
    let n = 0;
    for (const [state, count] of this.counts.get(code) ?? []) if (!wf?.isFinal(state)) n += count;
    return n;
  }

  /** `delta` instances more (or fewer) in `state`. */
  add(code: string, state: string, delta: number): void {
    let counts = this.counts.get(code);
    if (!counts) this.counts.set(code, (counts = new Map()));
    const n = (counts.get(state) ?? 0) + delta;
    if (n > 0) counts.set(state, n);
    else counts.delete(state);
  }

  /** An instance of `code` left `from` (none: created) for `to` (none: deleted). */
  moved(code: string, from: string | undefined, to: string | undefined): void {
    if (from !== undefined) this.add(code, from, -1);
    if (to !== undefined) this.add(code, to, 1);
  }
}
