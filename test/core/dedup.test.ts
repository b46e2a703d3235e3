import assert from 'node:assert/strict';
import { Deduplicator } from '../../src/core/dedup.js';
import type { DedupStorage } from '../../src/core/dedup.js';
import type { DedupRecord } from '../../src/store/types.js';
import { waitFor } from '../support/wait.js';

/** A store of de-duplication records in memory (as the store's contract says), with its writes. */
function memoryStorage(): DedupStorage & { rows: Map<string, DedupRecord>; writes: string[] } {
  const rows = new Map<string, DedupRecord>();
  const writes: string[] = [];
  return {
    rows,
    writes,
    async get(scope, key) {
      return rows.get(`${scope}/${key}`);
    },
    async open(scope, key) {
      writes.push(`open ${key}`);
      if (!rows.has(`${scope}/${key}`)) rows.set(`${scope}/${key}`, { settled: false, openedAt: new Date() });
    },
    async put(scope, key, result) {
      writes.push(`settle ${key}`);
      if (!rows.get(`${scope}/${key}`)?.settled) rows.set(`${scope}/${key}`, { settled: true, result });
    },
    async drop(scope, key) {
      writes.push(`drop ${key}`);
      if (rows.get(`${scope}/${key}`)?.settled === false) rows.delete(`${scope}/${key}`);
    },
  };
}

/** A process killed after iMIS made the record and before the store settled its key. */
async function crashAfterInsert(storage: DedupStorage, scope: string, key: string, imis: unknown[]) {
  const killed = new Error('SIGKILL');
  await assert.rejects(
    new Deduplicator({ ...storage, put: async () => Promise.reject(killed) }).once(scope, key, async () => {
      const record = { seqn: imis.length + 1, key };
      imis.push(record);
      return record;
    }),
    /SIGKILL/,
  );
}

describe('De-duplicated inserts', () => {
  it('inserts once per key and scope, and returns the earlier record when skipped', async () => {
    const dedup = new Deduplicator(memoryStorage());
    let inserts = 0;
    const insert = async () => ({ seqn: ++inserts });
    assert.deepEqual(await dedup.once('node-a', 'm1', insert), { result: { seqn: 1 }, skipped: false });
    assert.deepEqual(await dedup.once('node-a', 'm1', insert), {
      result: { seqn: 1 },
      skipped: true,
      foundBy: 'store',
    });
    assert.deepEqual(await dedup.once('node-a', 'm2', insert), { result: { seqn: 2 }, skipped: false });
    assert.deepEqual(await dedup.once('node-b', 'm1', insert), { result: { seqn: 3 }, skipped: false });
    assert.equal(inserts, 3);
  });

  it('opens the key before the insert is sent and settles it after', async () => {
    const storage = memoryStorage();
    const order: string[] = storage.writes;
    await new Deduplicator(storage).once('n', 'k', async () => {
      order.push('insert');
      return 'made';
    });
    assert.deepEqual(order, ['open k', 'insert', 'settle k']);
  });

  it('forgets a key whose insert iMIS refused, so the next try inserts without a lookup', async () => {
    const storage = memoryStorage();
    const dedup = new Deduplicator(storage);
    let lookups = 0;
    const find = async () => {
      lookups++;
      return undefined;
    };
    await assert.rejects(
      dedup.once(
        'n',
        'k',
        async () => {
          throw new Error('iMIS said no');
        },
        { find, uncertain: () => false },
      ),
      /iMIS said no/,
    );
    assert.equal(storage.rows.size, 0);
    assert.deepEqual(await dedup.once('n', 'k', async () => 'made', { find }), {
      result: 'made',
      skipped: false,
    });
    assert.equal(lookups, 0);
  });

  it('keeps the key open after a failure that may have reached iMIS (a timeout): the next try looks first', async () => {
    const storage = memoryStorage();
    const dedup = new Deduplicator(storage);
    const imis: unknown[] = [];
    await assert.rejects(
      dedup.once(
        'n',
        'k',
        async () => {
          imis.push({ seqn: 1 }); // made, but the answer was lost
          throw new Error('timeout');
        },
        { uncertain: (err) => (err as Error).message === 'timeout' },
      ),
      /timeout/,
    );
    assert.equal(storage.rows.get('n/k')?.settled, false);
    const again = await dedup.once(
      'n',
      'k',
      async () => {
        imis.push({ seqn: 2 });
        return { seqn: 2 };
      },
      { find: async () => imis[0] },
    );
    assert.deepEqual(again, { result: { seqn: 1 }, skipped: true, foundBy: 'lookup' });
    assert.equal(imis.length, 1, 'not inserted twice');
    assert.equal(storage.rows.get('n/k')?.settled, true, 'settled with the record found');
  });

  it('after a crash between the insert and the record: finds the record in iMIS instead of inserting again', async () => {
    const storage = memoryStorage();
    const imis: { seqn: number; key: string }[] = [];
    await crashAfterInsert(storage, 'n', 'k', imis);
    assert.equal(imis.length, 1);
    // The restarted process replays the run.
    const find = async () => imis.find((r) => r.key === 'k');
    const outcome = await new Deduplicator(storage).once(
      'n',
      'k',
      async () => {
        imis.push({ seqn: 99, key: 'k' });
        return imis[imis.length - 1];
      },
      { find },
    );
    assert.deepEqual(outcome, { result: { seqn: 1, key: 'k' }, skipped: true, foundBy: 'lookup' });
    assert.equal(imis.length, 1);
  });

  it('after a crash before iMIS made anything: the lookup finds nothing and the insert is made once', async () => {
    const storage = memoryStorage();
    await storage.open('n', 'k'); // opened, then killed before the request left
    let inserts = 0;
    const outcome = await new Deduplicator(storage).once('n', 'k', async () => ++inserts, {
      find: async () => undefined,
    });
    assert.deepEqual(outcome, { result: 1, skipped: false });
    assert.deepEqual(storage.rows.get('n/k'), { settled: true, result: 1 });
  });

  it('without a lookup, an interrupted key is inserted again and reported unverified', async () => {
    const storage = memoryStorage();
    const imis: { seqn: number; key: string }[] = [];
    await crashAfterInsert(storage, 'n', 'k', imis);
    const outcome = await new Deduplicator(storage).once('n', 'k', async () => 'again');
    assert.deepEqual(outcome, { result: 'again', skipped: false, unverified: true });
  });

  it('runs concurrent inserts of one key one after the other: one inserts, the others get its record', async () => {
    const dedup = new Deduplicator(memoryStorage());
    let inserts = 0;
    // The first insert is held until all five calls are under way.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = async () => {
      inserts++;
      await held;
      return { seqn: inserts };
    };
    const calls = Promise.all([1, 2, 3, 4, 5].map(() => dedup.once('n', 'same', slow)));
    await waitFor(() => inserts === 1, 2000, 'the first insert');
    release();
    const outcomes = await calls;
    assert.equal(inserts, 1);
    assert.equal(outcomes.filter((o) => !o.skipped).length, 1);
    assert.ok(outcomes.every((o) => (o.result as { seqn: number }).seqn === 1));
  });
});
