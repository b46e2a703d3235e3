import type { MessagesRepository } from '../store/repositories/messages.js';
import type { WorkflowEvent } from './runtime.js';

/** The store channel on which the processes sharing a store tell each other their changes. */
const EVENTS_CHANNEL = 'imis_workflow_events';

/** What is sent to the other processes for a change: the event, and which listeners had it here. */
export interface SharedEvent {
  event: WorkflowEvent;
  /** Ids of this process's listeners of the workflow, which took the event (see WorkflowRuntime.listen). */
  taken: string[];
}

/**
 * The cross-process fan-out of changes where several processes share the store (PostgreSQL):
 * each change made here is published on the store's channel, and the other processes' changes
 * are received (`received`) from start() until stop(). Failures go to `failed`.
 */
export class SharedEvents {
  private unsubscribe: (() => void) | undefined;
  private subscribing: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<MessagesRepository, 'publish' | 'subscribe'>,
    private readonly received: (shared: SharedEvent) => void,
    private readonly failed: (err: unknown) => void,
  ) {}

  /** Starts receiving; resolves once receiving. */
  start(): Promise<void> {
    if (!this.subscribing) {
      const subscribing: Promise<void> = this.store
        .subscribe(EVENTS_CHANNEL, (message) => this.parse(message), this.failed)
        .then((stop) => {
          // Stopped (or stopped and started again) meanwhile: this subscription is not wanted.
          if (this.subscribing === subscribing) this.unsubscribe = stop;
          else stop();
        })
        .catch((err) => void this.failed(err));
      this.subscribing = subscribing;
    }
    return this.subscribing;
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.subscribing = undefined;
  }

  /** Tells the other processes of `event`, which the listeners `taken` had here. */
  publish(event: WorkflowEvent, taken: string[]): void {
    const shared: SharedEvent = { event, taken };
    this.store.publish(EVENTS_CHANNEL, JSON.stringify(shared)).catch(this.failed);
  }

  private parse(message: string): void {
    let shared: SharedEvent;
    try {
      shared = JSON.parse(message) as SharedEvent;
    } catch {
      return;
    }
    this.received(shared);
  }
}
