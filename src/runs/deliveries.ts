/**
 * Accepting a batch of events delivered at least once (Event Grid, docs/imis-api.md §5): each event
 * the filter lets through starts one run, once; a copy of an event already accepted (same id,
 * within the time ids are remembered) is dropped and counted. Plain logic: the node gives the
 * filter, the memory of ids (the store) and how to accept one event.
 */

/** What a delivered event must have: an id (the same on every copy) and a type. */
export interface Delivered {
  id: string;
  eventType: string;
}

/** The memory of delivered ids (the store's seen ids of one node). */
export interface SeenIds {
  /** Remembers `id` until `expiresAt`; false when it was already remembered (a copy). */
  mark(id: string, expiresAt: Date, now: Date): Promise<boolean>;
  forget(id: string): Promise<void>;
}

export interface DeliveryOptions<E extends Delivered> {
  /** The event types the node takes; others are filtered out. */
  matches(eventType: string): boolean;
  /** Where ids are remembered to drop copies; none = every copy runs. */
  seen?: SeenIds;
  /** How long an id is remembered. */
  rememberMs: number;
  /** Accepts one event (commits it: only then is it accepted); throws when it could not. */
  accept(event: E): Promise<void>;
}

export interface DeliveryCounts {
  accepted: number;
  duplicates: number;
  filtered: number;
}

/**
 * Accepts the events of one delivery in order. An event that cannot be accepted is forgotten again
 * (so that the retry its failure causes is not taken for a copy) and its error thrown: the events
 * before it stay accepted.
 */
export async function acceptDeliveries<E extends Delivered>(
  events: readonly E[],
  receivedAt: Date,
  options: DeliveryOptions<E>,
): Promise<DeliveryCounts> {
  const counts: DeliveryCounts = { accepted: 0, duplicates: 0, filtered: 0 };
  const expires = new Date(receivedAt.getTime() + options.rememberMs);
  for (const event of events) {
    if (!options.matches(event.eventType)) {
      counts.filtered++;
      continue;
    }
    if (options.seen && !(await options.seen.mark(event.id, expires, receivedAt))) {
      counts.duplicates++;
      continue;
    }
    try {
      await options.accept(event);
    } catch (err) {
      await options.seen?.forget(event.id).catch(() => undefined);
      throw err;
    }
    counts.accepted++;
  }
  return counts;
}
