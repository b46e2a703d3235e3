import type { Store } from '../store/types.js';

/** Where insert results are remembered under their de-duplication keys: the package's store. */
export type DedupStorage = Pick<Store, 'getDedup' | 'putDedup'>;

export interface DedupOutcome<T> {
  /** The record the insert made now, or the one the earlier insert under the key made. */
  result: T;
  /** true when the insert was skipped: an earlier one under the key had succeeded. */
  skipped: boolean;
}

/**
 * Effectively-once inserts: an insert under a key that already succeeded (in this scope, e.g. one
 * node) is skipped and the earlier record returned, so a run replayed after a crash or re-run by
 * hand never doubles a record. The result is recorded as soon as the insert succeeds; inserts of
 * one key in this process run one after the other. What remains is the at-least-once window: a
 * crash between iMIS's answer and the record's commit lets that one insert happen again.
 */
export class Deduplicator {
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly storage: DedupStorage) {}

  async once<T>(scope: string, key: string, insert: () => Promise<T>): Promise<DedupOutcome<T>> {
    const id = `${scope}\u0000${key}`;
    // Another insert of this key is under way here: wait for it, then look again.
    for (let pending = this.running.get(id); pending; pending = this.running.get(id)) {
      await pending.catch(() => undefined);
    }
    const attempt = (async (): Promise<DedupOutcome<T>> => {
      const earlier = await this.storage.getDedup(scope, key);
      if (earlier !== undefined) return { result: earlier as T, skipped: true };
      const result = await insert();
      await this.storage.putDedup(scope, key, result);
      return { result, skipped: false };
    })();
    this.running.set(id, attempt);
    try {
      return await attempt;
    } finally {
      if (this.running.get(id) === attempt) this.running.delete(id);
    }
  }
}
