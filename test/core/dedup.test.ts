import assert from 'node:assert/strict';
import { Deduplicator } from '../../src/core/dedup.js';
import type { DedupStorage } from '../../src/core/dedup.js';

/** A store of de-duplication records in memory, counting its writes. */
function memoryStorage(): DedupStorage & { writes: number } {
  const rows = new Map<string, unknown>();
  return {
    writes: 0,
    async getDedup(scope, key) {
      return rows.get(`${scope}/${key}`);
    },
    async putDedup(scope, key, result) {
      this.writes++;
      if (!rows.has(`${scope}/${key}`)) rows.set(`${scope}/${key}`, result);
    },
  };
}

describe('De-duplicated inserts', () => {
  it('inserts once per key and scope, and returns the earlier record when skipped', async () => {
    const dedup = new Deduplicator(memoryStorage());
    let inserts = 0;
    const insert = async () => ({ seqn: ++inserts });
    assert.deepEqual(await dedup.once('node-a', 'm1', insert), { result: { seqn: 1 }, skipped: false });
    assert.deepEqual(await dedup.once('node-a', 'm1', insert), { result: { seqn: 1 }, skipped: true });
    assert.deepEqual(await dedup.once('node-a', 'm2', insert), { result: { seqn: 2 }, skipped: false });
    assert.deepEqual(await dedup.once('node-b', 'm1', insert), { result: { seqn: 3 }, skipped: false });
    assert.equal(inserts, 3);
  });

  it('remembers nothing for a failed insert, so the next try inserts', async () => {
    const storage = memoryStorage();
    const dedup = new Deduplicator(storage);
    await assert.rejects(
      dedup.once('n', 'k', async () => {
        throw new Error('iMIS said no');
      }),
      /iMIS said no/,
    );
    assert.equal(storage.writes, 0);
    assert.deepEqual(await dedup.once('n', 'k', async () => 'made'), { result: 'made', skipped: false });
  });

  it('runs concurrent inserts of one key one after the other: one inserts, the others get its record', async () => {
    const dedup = new Deduplicator(memoryStorage());
    let inserts = 0;
    const slow = async () => {
      inserts++;
      await new Promise((r) => setTimeout(r, 20));
      return { seqn: inserts };
    };
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => dedup.once('n', 'same', slow)));
    assert.equal(inserts, 1);
    assert.equal(outcomes.filter((o) => !o.skipped).length, 1);
    assert.ok(outcomes.every((o) => (o.result as { seqn: number }).seqn === 1));
  });
});
