import { StoreUnavailableError } from './problems.js';
import type { StoreProblem } from './problems.js';
import { REPOSITORIES } from './store.js';
import type { Repositories, Store } from './store.js';

/** Waits between attempts to open the store, ms: then every 30 s until it opens. */
const RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];

/**
 * A store usable at once while it is still opening (PostgreSQL connects and migrates
 * asynchronously; Node-RED builds nodes synchronously): each call waits for the first opening.
 * A store that cannot open is tried again in the background until it opens (PostgreSQL back, a
 * folder made writable); meanwhile calls fail at once with StoreUnavailableError, and `onState`
 * listeners hear of the problem and of the recovery.
 */
export class DeferredStore implements Store {
  readonly inputs!: Repositories['inputs'];
  readonly runs!: Repositories['runs'];
  readonly nodeState!: Repositories['nodeState'];
  readonly seen!: Repositories['seen'];
  readonly exports!: Repositories['exports'];
  readonly delta!: Repositories['delta'];
  readonly dedup!: Repositories['dedup'];
  readonly retries!: Repositories['retries'];
  readonly workflows!: Repositories['workflows'];
  readonly messages!: Repositories['messages'];
  private store: Store | undefined;
  /** Why the store cannot open (undefined: open, or still opening the first time). */
  private problem: StoreProblem | undefined;
  private nextAttemptAt = 0;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private inFlight: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(problem: StoreProblem | undefined) => void>();
  private opened!: (store: Store) => void;
  /** Resolves once the store is open, after as many attempts as it takes. */
  readonly ready: Promise<Store>;

  constructor(
    readonly engine: Store['engine'],
    private readonly open: () => Promise<Store>,
    private readonly describe: (err: unknown) => StoreProblem,
    private readonly retryMs: readonly number[] = RETRY_MS,
  ) {
    this.ready = new Promise((resolve) => (this.opened = resolve));
    for (const name of REPOSITORIES) Object.assign(this, { [name]: this.deferred(name) });
    this.attempt();
  }

  /** Why the store cannot open now, or undefined. */
  get unavailable(): StoreProblem | undefined {
    return this.problem;
  }

  /** Told of each new problem, and (undefined) of the recovery; answers a function that unsubscribes. */
  onState(listener: (problem: StoreProblem | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private attempt(): void {
    this.attempts++;
    this.inFlight = this.open().then(
      (store) => {
        if (this.closed) return void store.close().catch(() => undefined);
        this.store = store;
        const recovered = this.problem !== undefined;
        this.problem = undefined;
        this.opened(store);
        if (recovered) this.tell(undefined);
      },
      (err: unknown) => {
        if (this.closed) return;
        const problem = this.describe(err);
        const changed = problem.message !== this.problem?.message;
        this.problem = problem;
        const wait = this.retryMs[Math.min(this.attempts, this.retryMs.length) - 1];
        this.nextAttemptAt = Date.now() + wait;
        this.timer = setTimeout(() => this.attempt(), wait);
        this.timer.unref();
        if (changed) this.tell(problem);
      },
    );
  }

  private tell(problem: StoreProblem | undefined): void {
    for (const listener of this.listeners) listener(problem);
  }

  /**
   * The repository `name` usable now: each of its methods waits for the store (see `use`), then
   * calls the open store's. Made on first use, one function per method (a test may replace one).
   */
  private deferred<K extends keyof Repositories>(name: K): Repositories[K] {
    const methods: Record<string, unknown> = {};
    const method = (m: string) =>
      (methods[m] ??= async (...args: unknown[]) => {
        const repository = (await this.use())[name] as unknown as Record<
          string,
          (...a: unknown[]) => unknown
        >;
        return repository[m](...args);
      });
    const known = (m: string | symbol): m is string => typeof m === 'string' && m !== 'then';
    return new Proxy(methods, {
      get: (_target, m) => (known(m) ? method(m) : undefined),
      getOwnPropertyDescriptor: (target, m) => {
        if (known(m)) method(m);
        return Reflect.getOwnPropertyDescriptor(target, m);
      },
    }) as unknown as Repositories[K];
  }

  private async use(): Promise<Store> {
    if (this.store) return this.store;
    if (!this.problem) await this.inFlight; // the first opening: its outcome decides
    if (this.store) return this.store;
    if (this.problem) {
      const retryAfterSec = Math.max(1, Math.ceil((this.nextAttemptAt - Date.now()) / 1000));
      throw new StoreUnavailableError(this.problem, retryAfterSec);
    }
    throw new Error('the store is closed');
  }

  async flush(): Promise<void> {
    if (this.store) await this.store.flush();
  }
  flushSync(): void {
    this.store?.flushSync();
  }
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.inFlight; // an opening under way closes what it opened
    await this.store?.close();
  }
}
