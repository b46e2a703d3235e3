import type { DedupRepository } from '../store/repositories/dedup.js';

/** Where inserts are remembered under their de-duplication keys: the package's store. */
export type DedupStorage = Pick<DedupRepository, 'get' | 'open' | 'put' | 'drop'>;

export interface DedupOutcome<T> {
  /** The record the insert made now, or the one an earlier insert under the key made. */
  result: T;
  /** true when the insert was skipped: an earlier one under the key had made its record. */
  skipped: boolean;
  /**
   * How the earlier record was known: 'store' (its insert finished here), 'lookup' (its insert was
   * interrupted, e.g. by a crash, and `find` found its record in iMIS).
   */
  foundBy?: 'store' | 'lookup';
  /**
   * true when an earlier insert under the key was interrupted and nothing could tell whether it
   * reached iMIS (no `find`): this insert was made again and may double that record.
   */
  unverified?: boolean;
}

export interface DedupOptions<T> {
  /**
   * Looks in iMIS for the record an interrupted insert under the key may have made (the key is
   * written into one of its fields); undefined when there is none.
   */
  find?: () => Promise<T | undefined>;
  /**
   * Whether a failed insert may still have reached iMIS (a timeout, a lost connection, a 5xx): the
   * key stays open, so the next try looks first. Other failures (iMIS refused it) close the key.
   */
  uncertain?: (err: unknown) => boolean;
}

/**
 * Effectively-once inserts. A key is opened in the store before its insert is sent and settled
 * with the record after; each write is committed before the next step. So, for a key:
 * - settled: the insert is skipped and its record returned;
 * - open: an earlier insert was sent and its outcome never recorded (a crash, a timeout). `find`
 *   looks for its record in iMIS; found, it is settled and skipped; not found, it is inserted.
 *   Without `find` it is inserted again and reported `unverified` (at-least-once);
 * - unknown: no insert under it ever left this store's processes; it is inserted.
 * Inserts of one key in this process run one after the other.
 */
export class Deduplicator {
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly storage: DedupStorage) {}

  async once<T>(
    scope: string,
    key: string,
    insert: () => Promise<T>,
    options: DedupOptions<T> = {},
  ): Promise<DedupOutcome<T>> {
    const id = `${scope}\u0000${key}`;
    // Another insert of this key is under way here: wait for it, then look again.
    for (let pending = this.running.get(id); pending; pending = this.running.get(id)) {
      await pending.catch(() => undefined);
    }
    const attempt = this.attempt(scope, key, insert, options);
    this.running.set(id, attempt);
    try {
      return await attempt;
    } finally {
      if (this.running.get(id) === attempt) this.running.delete(id);
    }
  }

  private async attempt<T>(
    scope: string,
    key: string,
    insert: () => Promise<T>,
    { find, uncertain = () => true }: DedupOptions<T>,
  ): Promise<DedupOutcome<T>> {
    const earlier = await this.storage.get(scope, key);
    if (earlier?.settled) return { result: earlier.result as T, skipped: true, foundBy: 'store' };
    let unverified = false;
    if (earlier && find) {
      const found = await find();
      if (found !== undefined) {
        await this.storage.put(scope, key, found);
        return { result: found, skipped: true, foundBy: 'lookup' };
      }
    } else if (earlier) {
      unverified = true;
    } else {
      await this.storage.open(scope, key);
    }
    let result: T;
    try {
      result = await insert();
    } catch (err) {
      if (!uncertain(err)) await this.storage.drop(scope, key).catch(() => undefined);
      throw err;
    }
    await this.storage.put(scope, key, result);
    return unverified ? { result, skipped: false, unverified } : { result, skipped: false };
  }
}
