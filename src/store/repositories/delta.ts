import type { Engine } from '../engine/types.js';
import type { DeltaChange } from '../types.js';

/** Delta Hash keys written per transaction. */
const DELTA_BATCH = 5000;

/** Delta Hash (`imis_delta`): the hash of each key a node committed (`scope`: the node), never the rows. */
export class DeltaRepository {
  constructor(private readonly engine: Engine) {}

  async hashes(scope: string): Promise<Map<string, string>> {
    return new Map(
      await this.engine.values<[string, string]>(`SELECT row_key, hash FROM imis_delta WHERE scope = ?`, [
        scope,
      ]),
    );
  }

  /**
   * Applies a successful run's changes, one transaction per DELTA_BATCH keys, yielding to the event
   * loop between them, so that committing 100,000 keys never holds up accepting inputs for long. A
   * crash part-way leaves some keys at their old hash, so those rows count as changed once more at
   * the next run: nothing is lost.
   */
  async commit(scope: string, change: DeltaChange): Promise<void> {
    const { dialect } = this.engine;
    let clear = change.replace === true;
    const write = async (set: [string, string][], remove: string[]) => {
      const clearFirst = clear;
      clear = false;
      await this.engine.transaction(function* (tx) {
        if (clearFirst) yield* tx.run(`DELETE FROM imis_delta WHERE scope = ?`, [scope]);
        if (set.length > 0) {
          yield* tx.runMany(
            `INSERT INTO imis_delta (scope, row_key, hash) VALUES (?, ?, ?)
             ON CONFLICT (scope, row_key) DO UPDATE SET hash = excluded.hash`,
            set.map(([key, hash]) => [scope, key, hash]),
          );
        }
        if (remove.length > 0) {
          yield* tx.run(`DELETE FROM imis_delta WHERE scope = ? AND ${dialect.inList('row_key')}`, [
            scope,
            dialect.list(remove),
          ]);
        }
      });
      await new Promise((resolve) => setImmediate(resolve));
    };
    for (let i = 0; i < change.set.length; i += DELTA_BATCH)
      await write(change.set.slice(i, i + DELTA_BATCH), []);
    for (let i = 0; i < change.remove.length; i += DELTA_BATCH)
      await write([], change.remove.slice(i, i + DELTA_BATCH));
    if (clear) await write([], []);
  }
}
