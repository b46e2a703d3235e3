/**
 * Calls an endpoint rejected before starting anything (a protection said no: 401, 403, 429; a body
 * that cannot be read or used: 400, 413, 415; an unknown URL: 401): what a runs dashboard lists
 * beside the runs. Kept in memory, the last few per endpoint: a rejected call stores no body and no
 * header, only when, why and from where.
 */
export interface RefusedCall {
  /** ISO time of the rejection. */
  time: string;
  /**
   * The endpoint (the trigger node) that rejected it; without an id for a call to a URL no
   * endpoint of that type answers (an unknown or removed token, never recorded).
   */
  trigger: { id?: string; type: string; name?: string };
  /** The endpoint's flow. */
  flowId?: string;
  /** The HTTP status it was answered with. */
  status: number;
  /** The caller-facing reason, without body content (it names headers and limits, never a secret). */
  reason: string;
  /** The caller's address as the endpoint saw it, if known. */
  address?: string;
}

export interface RefusedQuery {
  triggerId?: string;
  flowId?: string;
  /** At most this many, newest first (default: all kept). */
  limit?: number;
}

/** Longer reasons (a schema's violations, say) are cut to this many characters. */
export const MAX_REASON_LENGTH = 300;

export class RefusedCalls {
  private readonly byEndpoint = new Map<string, RefusedCall[]>();
  /** Calls rejected per endpoint since it was deployed (kept or not). */
  private readonly totals = new Map<string, number>();

  /**
   * `perEndpoint`: how many rejections each endpoint keeps (the oldest go first); `perUnknown`:
   * how many calls to unknown URLs each endpoint type keeps, few, as anyone can make them.
   */
  constructor(
    readonly perEndpoint = 100,
    readonly perUnknown = 20,
  ) {}

  add(call: RefusedCall): void {
    const key = keyOf(call.trigger);
    const cap = call.trigger.id === undefined ? this.perUnknown : this.perEndpoint;
    let calls = this.byEndpoint.get(key);
    if (!calls) this.byEndpoint.set(key, (calls = []));
    const reason =
      call.reason.length > MAX_REASON_LENGTH
        ? `${call.reason.slice(0, MAX_REASON_LENGTH - 1)}…`
        : call.reason;
    calls.push({ ...call, reason });
    if (calls.length > cap) calls.splice(0, calls.length - cap);
    this.totals.set(key, (this.totals.get(key) ?? 0) + 1);
  }

  /**
   * The rejections kept that match `query`, newest first: an endpoint's calls of the same
   * millisecond in the reverse order they came (the sort keeps the order of equal times).
   */
  list(query: RefusedQuery = {}): RefusedCall[] {
    const calls = this.lists(query)
      .flatMap(([, list]) => list.slice().reverse())
      .filter((c) => matches(c, query))
      .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
    return query.limit !== undefined && query.limit >= 0 ? calls.slice(0, query.limit) : calls;
  }

  /** How many calls the endpoints that match `query` rejected, those no longer kept included. */
  count(query: RefusedQuery = {}): number {
    let total = 0;
    for (const [key, list] of this.lists(query)) {
      // An endpoint's calls all have its flow: the first kept one tells.
      if (list.length && matches(list[0], query)) total += this.totals.get(key) ?? 0;
    }
    return total;
  }

  /** Drops the rejections of an endpoint (removed from the flows). */
  forget(triggerId: string): void {
    this.byEndpoint.delete(triggerId);
    this.totals.delete(triggerId);
  }

  private lists(query: RefusedQuery): [string, RefusedCall[]][] {
    if (query.triggerId === undefined) return [...this.byEndpoint.entries()];
    const list = this.byEndpoint.get(query.triggerId);
    return list ? [[query.triggerId, list]] : [];
  }
}

/** An endpoint's calls are kept under its id; calls to unknown URLs under their endpoint type. */
function keyOf(trigger: RefusedCall['trigger']): string {
  return trigger.id ?? `unknown ${trigger.type}`;
}

function matches(call: RefusedCall, query: RefusedQuery): boolean {
  return !query.flowId || call.flowId === query.flowId;
}
