import type { Engine } from '../engine/types.js';

/** Remembers an id until it expires; a row there and unexpired is left alone (0 rows changed). */
export const MARK_SEEN = `INSERT INTO imis_seen (scope, id, expires_at, answer) VALUES (?, ?, ?, ?)
  ON CONFLICT (scope, id) DO UPDATE SET expires_at = excluded.expires_at, answer = excluded.answer
  WHERE imis_seen.expires_at <= ?`;
export const SEEN_ANSWER = `SELECT answer FROM imis_seen WHERE scope = ? AND id = ?`;

/**
 * Delivery and event ids seen (`imis_seen`), by scope (a node), until they expire: a duplicate
 * delivery is recognised (InputsRepository.acceptOnce remembers one with its input).
 */
export class SeenRepository {
  constructor(private readonly engine: Engine) {}

  /**
   * Remembers `id` in `scope` until `expiresAt`; false when it was already there and unexpired
   * (a duplicate delivery).
   */
  async mark(scope: string, id: string, expiresAt: Date, now = new Date()): Promise<boolean> {
    return (await this.engine.run(MARK_SEEN, [scope, id, expiresAt.getTime(), null, now.getTime()])) > 0;
  }

  /** Forgets `id` in `scope` (its delivery could not be accepted after all). */
  async unmark(scope: string, id: string): Promise<void> {
    await this.engine.run(`DELETE FROM imis_seen WHERE scope = ? AND id = ?`, [scope, id]);
  }

  /** Forgets the ids expired by `now`; returns how many went. */
  prune(now = new Date()): Promise<number> {
    return this.engine.run(`DELETE FROM imis_seen WHERE expires_at <= ?`, [now.getTime()]);
  }
}
