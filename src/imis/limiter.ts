/**
 * A counting semaphore with a FIFO queue: at most `max` tasks run at once, the others wait
 * and start in the order they asked.
 */
export class Limiter {
  readonly max: number;
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(max: number) {
    if (!(max >= 1)) throw new RangeError(`Limiter needs at least 1 slot, got ${max}`);
    this.max = Math.floor(max);
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.max) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next waiter, so `running` stays the same.
    if (next) next();
    else this.running--;
  }
}
