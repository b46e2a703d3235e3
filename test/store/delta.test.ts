// The Delta Hash part of the store contract, on both engines.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/index.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { LATEST_VERSION, MIGRATIONS } from '../../src/store/schema.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { requirePostgres, startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';
import { SQLITE_DRIVERS, driverTitle, openFile, sqlOn } from '../support/sqlite.js';

let server: TestPostgres | undefined;
const engines: { name: string; unavailable?: string; open(): Promise<Store> }[] = [
  ...SQLITE_DRIVERS.map((d) => ({
    name: driverTitle('sqlite', d),
    unavailable: d.unavailable,
    open: async () =>
      new SqliteStore({
        file: join(mkdtempSync(join(tmpdir(), 'imis-delta-')), 'imis.db'),
        driver: d.driver,
      }),
  })),
  {
    name: 'postgres',
    async open() {
      if (!server) throw new Error('no PostgreSQL server');
      return PostgresStore.open({ url: server.createDatabase(`d_${randomUUID().replace(/-/g, '')}`) });
    },
  },
];

for (const engine of engines) {
  describe(`Store contract on ${engine.name}: Delta Hash`, function () {
    this.timeout(60_000);
    let store: Store;
    before(async function () {
      if (engine.unavailable) this.skip();
      if (engine.name === 'postgres' && !server) {
        const bin = requirePostgres(this);
        if (bin) server = await startPostgres(bin);
      }
    });
    beforeEach(async () => {
      store = await engine.open();
    });
    afterEach(() => store.close());

    it('keeps key and hash per scope, upserting, deleting and replacing as a run commits', async () => {
      assert.deepEqual(await store.delta.hashes('node-a'), new Map());
      await store.delta.commit('node-a', {
        set: [
          ['101', 'h1'],
          ['102', 'h2'],
          ['é ✓', 'h3'],
        ],
        remove: [],
      });
      await store.delta.commit('node-b', { set: [['101', 'other']], remove: [] });
      await store.delta.commit('node-a', { set: [['101', 'h1b']], remove: ['102', 'never-there'] });
      assert.deepEqual(
        await store.delta.hashes('node-a'),
        new Map([
          ['101', 'h1b'],
          ['é ✓', 'h3'],
        ]),
      );
      assert.deepEqual(await store.delta.hashes('node-b'), new Map([['101', 'other']]), 'scopes are apart');
      await store.delta.commit('node-a', { set: [['200', 'h9']], remove: [], replace: true });
      assert.deepEqual(await store.delta.hashes('node-a'), new Map([['200', 'h9']]));
      await store.delta.commit('node-a', { set: [], remove: [], replace: true });
      assert.equal((await store.delta.hashes('node-a')).size, 0);
    });

    it('commits and reads back 100,000 keys, then 1% changed and 1% removed', async () => {
      const all: [string, string][] = Array.from({ length: 100_000 }, (_, i) => [`K${i}`, `hash-${i}`]);
      await store.delta.commit('big', { set: all, remove: [] });
      const read = await store.delta.hashes('big');
      assert.equal(read.size, 100_000);
      assert.equal(read.get('K99999'), 'hash-99999');
      const changed: [string, string][] = all.slice(0, 1000).map(([k]) => [k, 'new']);
      const removed = all.slice(50_000, 51_000).map(([k]) => k);
      await store.delta.commit('big', { set: changed, remove: removed });
      const after = await store.delta.hashes('big');
      assert.equal(after.size, 99_000);
      assert.equal(after.get('K0'), 'new');
      assert.equal(after.get('K50000'), undefined);
      assert.equal(after.get('K1000'), 'hash-1000');
    });
  });
}

describe('Store schema', () => {
  it('has a Delta Hash table of scope, key and hash, and reopens at its newest version', () => {
    assert.equal(LATEST_VERSION, Math.max(...MIGRATIONS.map((m) => m.version)));
    const file = join(mkdtempSync(join(tmpdir(), 'imis-delta-')), 'imis.db');
    new SqliteStore({ file }).close();
    const usable = SQLITE_DRIVERS.find((d) => !d.unavailable);
    assert.ok(usable, 'an SQLite engine runs on this Node');
    const db = openFile(file, usable.driver);
    const columns = sqlOn(db, 'PRAGMA table_info(imis_delta)');
    db.close();
    assert.deepEqual(
      columns.map((c) => c.name),
      ['scope', 'row_key', 'hash'],
      'only key and hash, never the row',
    );
    // Opened again, it knows the versions it applied (no "newer schema" error from the gap).
    new SqliteStore({ file }).close();
  });
});

after(() => server?.stop());
