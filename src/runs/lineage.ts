/**
 * Which run a message belongs to, whatever the nodes on its way do to it (docs/runs.md §Track).
 * Node-RED identifies a message by `_msgid`, but nodes make new messages: split deletes the id and
 * sends clones that get new ids, join sends a clone of the parts, a function may return a new
 * object (which Node-RED gives the input's id). So a message is recognised, in this order, by:
 * 1. the run id kept on the object itself under a symbol, once delivered as part of a run (survives
 *    `delete msg._msgid` and changes to `msg.imis`; copies made with RED.util.cloneMessage keep it);
 * 2. its `_msgid`, if any message of a live run had it (a function's new object, a Catch node's copy);
 * 3. the run id it carries in `msg.imis.runId`, which survives cloning (split's parts, join's
 *    result, a trigger's or delay's copy); the node side writes it on every message of a run.
 * Pure bookkeeping: it knows nothing of Node-RED.
 */
export interface TracedMessage {
  _msgid?: string;
  imis?: unknown;
  [RUN]?: string;
}

/**
 * Where a message object keeps its run id. A symbol: not in JSON, not shown by the debug node, no
 * clash with a user's property; a property rather than a WeakMap entry, since a WeakMap entry per
 * message made every delivery measurably slower (identity hash and ephemeron work in the GC).
 */
const RUN: unique symbol = Symbol('imis.run');

/** Run ids remembered after their run ended, to tell a late message of a run from a new input. */
const RECENT_RUNS = 10_000;

export class MessageLineage {
  private readonly byMsgId = new Map<string, string>();
  /** Per live run, the message ids bound to it (forgotten with the run). */
  private readonly msgIdsOf = new Map<string, string[]>();
  /** Runs that ended lately, oldest first (a Map keeps insertion order). */
  private readonly ended = new Map<string, true>();

  constructor(private readonly isLive: (id: string) => boolean) {}

  /** The live run (or followed message) `msg` belongs to, if any. */
  find(msg: TracedMessage): string | undefined {
    const own = msg[RUN];
    if (own !== undefined && this.isLive(own)) return own;
    const byId = msg._msgid === undefined ? undefined : this.byMsgId.get(msg._msgid);
    if (byId !== undefined) return byId;
    const carried = carriedRunId(msg);
    return carried !== undefined && this.isLive(carried) ? carried : undefined;
  }

  /** Whether `msg` carries the id of a run that has ended: a late message of it, not a new input. */
  isLate(msg: TracedMessage): boolean {
    const own = msg[RUN];
    if (own !== undefined && this.ended.has(own)) return true;
    const carried = carriedRunId(msg);
    return carried !== undefined && this.ended.has(carried);
  }

  /** Whether `id` was a run's id lately (a new run must not take it again). */
  wasUsed(id: string): boolean {
    return this.ended.has(id) || this.isLive(id);
  }

  /** Records that `msg` is part of run `id`. */
  bind(msg: TracedMessage, id: string): void {
    if (msg[RUN] !== id) msg[RUN] = id;
    if (msg._msgid !== undefined && !this.byMsgId.has(msg._msgid)) this.bindId(msg._msgid, id);
  }

  /** Records that messages with `_msgid` `msgId` are part of run `id` (first binding wins). */
  bindId(msgId: string, id: string): void {
    if (this.byMsgId.has(msgId)) return;
    this.byMsgId.set(msgId, id);
    const ids = this.msgIdsOf.get(id);
    if (ids) ids.push(msgId);
    else this.msgIdsOf.set(id, [msgId]);
  }

  /** Run `id` has ended: its message ids are released, its id remembered for a while. */
  forget(id: string): void {
    for (const msgId of this.msgIdsOf.get(id) ?? []) {
      if (this.byMsgId.get(msgId) === id) this.byMsgId.delete(msgId);
    }
    this.msgIdsOf.delete(id);
    this.ended.set(id, true);
    if (this.ended.size > RECENT_RUNS) this.ended.delete(this.ended.keys().next().value as string);
  }
}

/** The run id a message carries (`msg.imis.runId`), if any. */
export function carriedRunId(msg: TracedMessage): string | undefined {
  const imis = msg.imis;
  if (typeof imis !== 'object' || imis === null || !('runId' in imis)) return undefined;
  return typeof imis.runId === 'string' ? imis.runId : undefined;
}

/** What a message says of its run's labels: `msg.imis.businessKey` and `msg.imis.values`. */
export function carriedLabels(msg: TracedMessage): { businessKey?: unknown; values?: unknown } | undefined {
  const imis = msg.imis;
  if (typeof imis !== 'object' || imis === null) return undefined;
  const businessKey = 'businessKey' in imis ? imis.businessKey : undefined;
  const values = 'values' in imis ? imis.values : undefined;
  return businessKey === undefined && values === undefined ? undefined : { businessKey, values };
}

/** Writes run `id` into `msg.imis.runId` (creating `msg.imis` when absent; any other value is left alone). */
export function stampRunId(msg: TracedMessage, id: string): void {
  const imis = msg.imis;
  if (imis === undefined) msg.imis = { runId: id };
  else if (typeof imis === 'object' && imis !== null && !Array.isArray(imis)) {
    const fields = imis as Record<string, unknown>;
    if (fields.runId !== id) fields.runId = id;
  }
}
