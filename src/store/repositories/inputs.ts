import { GroupCommit } from '../batch.js';
import { RowsOf } from '../engine/types.js';
import type { Engine } from '../engine/types.js';
import { inputFromRow, inputRow } from '../rows.js';
import type { InputRow } from '../rows.js';
import type { AcceptOnce, AcceptedInput, SeenMark } from '../types.js';
import { MARK_SEEN, SEEN_ANSWER } from './seen.js';

/** Inserts one accepted input (inputRow); an id already there is kept. */
export const INSERT_INPUT = `INSERT INTO imis_inputs (id, source, payload, extra, accepted_at, owner, lease_until)
  VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`;
const RENEW = `UPDATE imis_inputs SET lease_until = ? WHERE owner = ?`;

/** An input being accepted; acceptOnce's `seen` is remembered first, and `found` says it was there. */
interface Accepting {
  input: AcceptedInput;
  seen?: SeenMark;
  found?: AcceptOnce;
}

/**
 * Accepted inputs (`imis_inputs`) and their leases. An input is committed before its caller is
 * told "accepted"; inputs arriving together share one transaction (group commit). Pending inputs
 * are owned by a process under a lease, so a live process's inputs are never taken by another,
 * and a dead one's are taken over once its lease has run out (with PostgreSQL, SKIP LOCKED).
 */
export class InputsRepository {
  private readonly accepts: GroupCommit<Accepting>;
  private readonly claimedAtStart = new Set<string>();
  /** When a heartbeat last failed (the server unreachable): 0, never. */
  private heartbeatFailedAt = 0;

  constructor(
    private readonly engine: Engine,
    /** This process, as the owner of the inputs it accepted. */
    readonly owner: string,
    /** How long an accepted input stays owned by this process without a heartbeat. */
    private readonly leaseMs = 30_000,
  ) {
    this.accepts = new GroupCommit((items) => this.write(items));
  }

  /** Commits an accepted input (group commit: inputs arriving together share one transaction). */
  accept(input: AcceptedInput): Promise<void> {
    return this.accepts.add({ input });
  }

  /**
   * Commits the input and remembers `seen` in one transaction (the same group commit), unless
   * `seen.id` is remembered and unexpired in its scope: then nothing is written and the answer
   * kept with it is returned.
   */
  async acceptOnce(input: AcceptedInput, seen: SeenMark): Promise<AcceptOnce> {
    const item: Accepting = { input, seen };
    await this.accepts.add(item);
    return item.found ?? { accepted: true };
  }

  /**
   * Accepted inputs of `source` that no live process owns, claimed by this process, oldest first.
   * Embedded (one process): the first claim of a source after start-up takes every input earlier
   * processes left.
   */
  async claimPending(source: string): Promise<AcceptedInput[]> {
    const now = Date.now();
    // After an outage of a shared store every lease may have run out, the live processes' too:
    // their inputs are left to them until they have had time to renew (a heartbeat every lease/3).
    if (this.engine.shared && now - this.heartbeatFailedAt < this.leaseMs * 1.5) return [];
    const takeAll = !this.engine.shared && !this.claimedAtStart.has(source);
    this.claimedAtStart.add(source);
    const rows = await this.engine.all<InputRow>(
      `UPDATE imis_inputs SET owner = ?, lease_until = ?
       WHERE id IN (SELECT id FROM imis_inputs WHERE source = ? AND owner <> ? AND (lease_until < ? OR ? = 1)
                    ${this.engine.dialect.skipLocked})
       RETURNING id, source, payload, extra, accepted_at`,
      [this.owner, now + this.leaseMs, source, this.owner, now, takeAll ? 1 : 0],
    );
    return rows.map(inputFromRow).sort((a, b) => (a.acceptedAt < b.acceptedAt ? -1 : 1));
  }

  /** Extends this process's ownership of the inputs it accepted (call every lease/3). */
  async heartbeat(): Promise<void> {
    try {
      await this.engine.run(RENEW, [Date.now() + this.leaseMs, this.owner]);
    } catch (err) {
      this.heartbeatFailedAt = Date.now();
      throw err;
    }
  }

  /** Adds inputs accepted by an earlier version or process, owned by no one (claimable at once). */
  async importInputs(inputs: AcceptedInput[]): Promise<void> {
    await this.engine.runMany(INSERT_INPUT, new RowsOf(inputs, (input) => inputRow(input, '', 0)));
  }

  drain(): Promise<void> {
    return this.accepts.drain();
  }

  flushSync(): void {
    this.accepts.flushSync();
  }

  /** A process that stops cleanly hands its unfinished inputs over at once. */
  async release(): Promise<void> {
    await this.accepts.drain();
    if (this.engine.open) await this.engine.run(RENEW, [0, this.owner]).catch(() => undefined);
  }

  /**
   * One group: the delivery ids first, in the inputs' transaction (a copy accepted meanwhile by
   * another process waits for its transaction, then is found), then the inputs not refused.
   */
  private async write(items: Accepting[]): Promise<void> {
    const now = Date.now();
    const owner = this.owner;
    const leaseUntil = now + this.leaseMs;
    const toRow = (item: Accepting) => inputRow(item.input, owner, leaseUntil);
    // The usual group has no delivery ids: each row is made as it is run (RowsOf).
    if (!withDeliveryIds(items)) {
      await this.engine.runMany(INSERT_INPUT, new RowsOf(items, toRow));
      return;
    }
    await this.engine.transaction(function* (tx) {
      const fresh: (readonly unknown[])[] = [];
      for (const item of items) {
        const { seen } = item;
        if (seen) {
          const marked = yield* tx.run(MARK_SEEN, [
            seen.scope,
            seen.id,
            seen.expiresAt.getTime(),
            seen.answer,
            now,
          ]);
          if (marked === 0) {
            const row = yield* tx.get<{ answer: string | null }>(SEEN_ANSWER, [seen.scope, seen.id]);
            item.found = { accepted: false, answer: row?.answer ?? undefined };
            continue;
          }
        }
        fresh.push(toRow(item));
      }
      if (fresh.length > 0) yield* tx.runMany(INSERT_INPUT, fresh);
    });
  }
}

function withDeliveryIds(items: readonly Accepting[]): boolean {
  for (let i = 0; i < items.length; i++) if (items[i].seen) return true;
  return false;
}
