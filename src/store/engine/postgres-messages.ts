import type pg from 'pg';
import { GroupCommit } from '../batch.js';
import type { Messages } from './types.js';

/** A channel name as LISTEN takes it unquoted. */
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7999;

/** A message too long for PostgreSQL's NOTIFY. */
export class MessageTooLongError extends Error {
  constructor(channel: string, bytes: number) {
    super(
      `A message of ${bytes} bytes on ${channel} is too long for PostgreSQL (at most ${MAX_PAYLOAD_BYTES})`,
    );
    this.name = 'MessageTooLongError';
  }
}

function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`Not a channel name: ${channel}`);
}

/**
 * Messages between the processes sharing one PostgreSQL store: NOTIFY on a channel, LISTEN in every
 * process. A message reaches the processes listening when it is sent, in the order this process sent
 * its messages; this process does not get its own. Messages sent in the same turn of the event loop
 * go in one statement. LISTEN binds to a session, so listening takes one connection of its own,
 * outside the pool; when it is lost, it is made again (after `retryMs`), and what was sent
 * meanwhile is not received.
 */
export class PostgresMessages implements Messages {
  private readonly sends: GroupCommit<[string, string]>;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();
  private readonly errorHandlers = new Set<(err: Error) => void>();
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly driver: typeof pg,
    private readonly pool: pg.Pool,
    private readonly url: string,
    /** Tells this process's messages from the others' (each message starts with it). */
    private readonly sender: string,
    /** Wait before making a lost listening connection again. */
    private readonly retryMs = 1000,
  ) {
    this.sends = new GroupCommit(async (items) => {
      await pool.query(`SELECT pg_notify(c, m) FROM unnest($1::text[], $2::text[]) AS t (c, m)`, [
        items.map((i) => i[0]),
        items.map((i) => i[1]),
      ]);
    });
  }

  /** Sends `message` to the other processes listening on `channel`; resolves once sent. */
  publish(channel: string, message: string): Promise<void> {
    checkChannel(channel);
    const payload = `${this.sender} ${message}`;
    const bytes = Buffer.byteLength(payload);
    if (bytes > MAX_PAYLOAD_BYTES) return Promise.reject(new MessageTooLongError(channel, bytes));
    return this.sends.add([channel, payload]);
  }

  /**
   * Calls `handler` with every message another process sends on `channel` from now on. Resolves, once
   * listening, with the function that stops it. When the listening connection cannot be made or is
   * lost, `onError` is told and it is made again (after `retryMs`); the handler stays.
   */
  async subscribe(
    channel: string,
    handler: (message: string) => void,
    onError?: (err: Error) => void,
  ): Promise<() => void> {
    checkChannel(channel);
    let handlers = this.handlers.get(channel);
    const first = !handlers;
    if (!handlers) this.handlers.set(channel, (handlers = new Set()));
    handlers.add(handler);
    if (onError) this.errorHandlers.add(onError);
    const stop = () => {
      handlers.delete(handler);
      if (onError) this.errorHandlers.delete(onError);
    };
    try {
      const client = await this.listener();
      if (first) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      this.failed(err as Error);
    }
    return stop;
  }

  drain(): Promise<void> {
    return this.sends.drain();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.sends.drain();
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private listener(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const client = new this.driver.Client({ connectionString: this.url });
    client.on('notification', (n) => this.received(n.channel, n.payload));
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      this.failed(err ?? new Error('The connection listening for other processes ended'));
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('The store is closed');
    }
    this.client = client;
    return client;
  }

  /** Tells the subscribers, and makes the listening connection again later. */
  private failed(err: Error): void {
    if (this.closed) return;
    for (const onError of this.errorHandlers) onError(err);
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.listener().catch((e: Error) => this.failed(e));
    }, this.retryMs);
    this.retry.unref();
  }

  private received(channel: string, payload: string | undefined): void {
    if (payload === undefined) return;
    const space = payload.indexOf(' ');
    if (space < 0 || payload.slice(0, space) === this.sender) return;
    const message = payload.slice(space + 1);
    for (const handler of this.handlers.get(channel) ?? []) handler(message);
  }
}
