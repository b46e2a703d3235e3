import type { Engine, Messages } from '../engine/types.js';

/**
 * Messages between the processes sharing the store, through its engine: PostgreSQL's NOTIFY and
 * LISTEN (engine/postgres-messages.ts); SQLite has one process, nothing to send or hear.
 */
export class MessagesRepository {
  private readonly messages: Messages;

  constructor(engine: Engine) {
    this.messages = engine.messages;
  }

  /**
   * Sends `message` to the other processes sharing this store, to their subscribers of `channel` (a
   * lower-case name), in the order sent; not to this process. PostgreSQL: NOTIFY, under 8,000 bytes,
   * received by the processes listening at that moment. SQLite: one process, nothing to send.
   */
  publish(channel: string, message: string): Promise<void> {
    return this.messages.publish(channel, message);
  }

  /**
   * Calls `handler` with every message the other processes publish on `channel` from now on;
   * resolves, once listening, with the function that stops it. `onError` is told when listening is
   * interrupted (a lost connection); it resumes by itself, and what was sent meanwhile is missed.
   */
  subscribe(
    channel: string,
    handler: (message: string) => void,
    onError?: (err: Error) => void,
  ): Promise<() => void> {
    return this.messages.subscribe(channel, handler, onError);
  }

  drain(): Promise<void> {
    return this.messages.drain();
  }
}
