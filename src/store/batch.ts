/**
 * Group commit: items added while a flush is being written wait and go together in the next one,
 * so many concurrent writers share one transaction (and one fsync) instead of queueing for their
 * own. Each `add` resolves when the transaction holding its item has committed.
 */
export class GroupCommit<T> {
  private queue: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private running: Promise<void> | undefined;
  private scheduled = false;

  constructor(
    private readonly write: (items: T[]) => Promise<void> | void,
    /** How long the first item of a batch waits for company (0: until the next turn of the event loop). */
    private readonly delayMs = 0,
    /** Most items in one write (e.g. PostgreSQL's limit of 65,535 parameters per statement). */
    private readonly maxBatch = 1000,
  ) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything added so far is written (or failed). */
  async drain(): Promise<void> {
    while (this.running || this.queue.length > 0) {
      if (!this.running) this.flushNow();
      await this.running?.catch(() => undefined);
    }
  }

  /**
   * Writes everything queued now, for a writer that works synchronously (process exit). A batch
   * already being written is left to finish on its own.
   */
  flushSync(): void {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        void this.write(batch.map((b) => b.item));
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      if (!this.running) this.flushNow();
    };
    if (this.delayMs > 0) setTimeout(go, this.delayMs);
    else setImmediate(go);
  }

  private flushNow(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.running = (async () => {
      try {
        await this.write(batch.map((b) => b.item));
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    })().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }
}
