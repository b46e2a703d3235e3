/**
 * Calls an endpoint refused before starting anything (a protection said no: 401, 403, 429): what a
 * runs dashboard lists beside the runs. Kept in memory, the last few per endpoint: a refused call
 * stores no body and no header, only when, why and from where.
 */
export interface RefusedCall {
  /** ISO time of the refusal. */
  time: string;
  /** The endpoint (the trigger node) that refused it. */
  trigger: { id: string; type: string; name?: string };
  /** The endpoint's flow. */
  flowId?: string;
  /** The HTTP status it was answered with. */
  status: number;
  /** The caller-facing reason (it names headers and limits, never a secret). */
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

export class RefusedCalls {
  private readonly byEndpoint = new Map<string, RefusedCall[]>();

  /** `perEndpoint`: how many refusals each endpoint keeps (the oldest go first). */
  constructor(readonly perEndpoint = 100) {}

  add(call: RefusedCall): void {
    let calls = this.byEndpoint.get(call.trigger.id);
    if (!calls) this.byEndpoint.set(call.trigger.id, (calls = []));
    calls.push(call);
    if (calls.length > this.perEndpoint) calls.splice(0, calls.length - this.perEndpoint);
  }

  /** The refusals kept that match `query`, newest first. */
  list(query: RefusedQuery = {}): RefusedCall[] {
    const lists = query.triggerId
      ? [this.byEndpoint.get(query.triggerId) ?? []]
      : [...this.byEndpoint.values()];
    const calls = lists
      .flat()
      .filter((c) => !query.flowId || c.flowId === query.flowId)
      .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
    return query.limit !== undefined && query.limit >= 0 ? calls.slice(0, query.limit) : calls;
  }

  /** Drops the refusals of an endpoint (removed from the flows). */
  forget(triggerId: string): void {
    this.byEndpoint.delete(triggerId);
  }
}
