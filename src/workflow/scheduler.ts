/**
 * One timer for every timeout of every instance: it waits until the earliest due time in the
 * store's due-time index, fires what is due (in batches), and waits again. Not a timer per
 * instance, so a million waiting instances cost one timer and no memory. Writes that set an earlier
 * due time `nudge` it; it also looks again at least every `maxSleepMs`, for due times written by
 * other processes sharing the store.
 */
export interface DueWork {
  /** Fires a batch of what is due now; true when the batch was full (more may be due). */
  fireDue(): Promise<boolean>;
  /** The earliest due time left, if any. */
  nextDue(): Promise<number | undefined>;
}

export interface SchedulerOptions {
  now?: () => number;
  /** Longest wait between two looks at the store (default 10 s). */
  maxSleepMs?: number;
  /** Wait after a failed look (default 5 s). */
  retryMs?: number;
  onError?: (err: unknown) => void;
}

/** setTimeout cannot wait longer than 2^31-1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class DueScheduler {
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private running: Promise<void> | undefined;
  /** An earlier due time announced while a round was running. */
  private nudged = Infinity;
  private rerun = false;
  private stopped = true;
  private readonly now: () => number;
  private readonly maxSleepMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly work: DueWork,
    private readonly options: SchedulerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.maxSleepMs = Math.max(1, options.maxSleepMs ?? 10_000);
    this.retryMs = Math.max(1, options.retryMs ?? 5000);
  }

  /** Starts: fires what is overdue at once (e.g. timeouts that fell due while stopped). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.round();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  /** A due time was written: wake up by then. */
  nudge(dueAt: number | undefined): void {
    if (this.stopped || dueAt === undefined) return;
    if (this.running) {
      this.nudged = Math.min(this.nudged, dueAt);
      if (dueAt <= this.now()) this.rerun = true;
      return;
    }
    if (dueAt < this.armedFor) this.arm(dueAt);
  }

  /** Looks at the store now (and resolves when the round is over). */
  poke(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    return this.round();
  }

  private round(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    const run = (async () => {
      let next: number | undefined;
      try {
        do {
          this.rerun = false;
          while (!this.stopped && (await this.work.fireDue())) {
            // a full batch: more may be due
          }
        } while (this.rerun && !this.stopped);
        next = await this.work.nextDue();
      } catch (err) {
        this.options.onError?.(err);
        next = this.now() + this.retryMs;
      }
      return next;
    })().then((next) => {
      this.running = undefined;
      const at = Math.min(next ?? Infinity, this.nudged);
      this.nudged = Infinity;
      if (this.rerun) return this.round();
      this.arm(at);
    });
    this.running = run;
    return run;
  }

  private arm(at: number): void {
    if (this.stopped) return;
    const now = this.now();
    const when = Math.min(at, now + this.maxSleepMs);
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = when;
    this.timer = setTimeout(() => void this.round(), Math.min(MAX_TIMER_MS, Math.max(0, when - now)));
    this.timer.unref?.();
  }
}
