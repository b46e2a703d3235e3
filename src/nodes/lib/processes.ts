import type { RefusedCall } from '../../runs/refused.js';
import type { Store } from '../../store/index.js';

/**
 * What one Node-RED process tells the others sharing its PostgreSQL store (README §Several Node-RED
 * processes), over the store's messages (NOTIFY): each run that settles, for the open runs
 * dashboards' live updates, and each call an endpoint rejected, for their rejected calls lists.
 * With SQLite there is one process and nothing is sent. A message lost while the connection is
 * down is only a missed live update: the dashboards' lists and counts are read from the store.
 */

/** What a dashboard's list item needs to refresh (the comms message of RUNS_TOPIC). */
export interface RunSummary {
  id: string;
  flowId: string;
  triggerId: string;
  status: string;
  startedAt: string;
  finishedAt?: string;
  rerunOf?: string;
  businessKey?: string;
}

const RUNS_CHANNEL = 'imis_runs';
const REFUSED_CHANNEL = 'imis_refused';

/** The store as this needs it: its engine, its messages, and when it has opened. */
type SharedStore = Pick<Store, 'engine' | 'messages'> & { ready: Promise<unknown> };

export class ProcessEvents {
  private readonly shared: boolean;
  private stops: (() => void)[] = [];
  private running = false;

  constructor(
    private readonly store: SharedStore,
    /** Told of each run another process settled. */
    private readonly onRun: (run: RunSummary) => void,
    /** Told of each call another process's endpoint rejected. */
    private readonly onRefused: (call: RefusedCall) => void,
  ) {
    this.shared = store.engine === 'postgres';
  }

  /** Listens to the other processes once the store has opened (PostgreSQL only). */
  start(): void {
    if (!this.shared || this.running) return;
    this.running = true;
    const listen = async <T>(channel: string, handler: (value: T) => void) => {
      const stop = await this.store.messages.subscribe(channel, (message) => {
        let value: T;
        try {
          value = JSON.parse(message) as T;
        } catch {
          return; // not ours, or cut: ignored
        }
        handler(value);
      });
      if (this.running) this.stops.push(stop);
      else stop(); // stopped meanwhile
    };
    void this.store.ready
      .then(() => Promise.all([listen(RUNS_CHANNEL, this.onRun), listen(REFUSED_CHANNEL, this.onRefused)]))
      .catch(() => undefined);
  }

  stop(): void {
    this.running = false;
    for (const stop of this.stops.splice(0)) stop();
  }

  /** Tells the other processes that a run settled here. */
  runSettled(run: RunSummary): void {
    this.send(RUNS_CHANNEL, run);
  }

  /** Tells the other processes that an endpoint here rejected a call. */
  refused(call: RefusedCall): void {
    this.send(REFUSED_CHANNEL, call);
  }

  private send(channel: string, value: unknown): void {
    if (this.shared) void this.store.messages.publish(channel, JSON.stringify(value)).catch(() => undefined);
  }
}
