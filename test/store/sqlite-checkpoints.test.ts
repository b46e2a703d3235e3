import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { AcceptedInput } from '../../src/store/index.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { SQLITE_DRIVERS, driverTitle, openFile } from '../support/sqlite.js';
import type { SqliteDb, SqliteDriverName } from '../support/sqlite.js';

/** What the tests read of the store's insides. */
interface Insides {
  db: SqliteDb;
  checkpointer?: Worker;
}

const insides = (store: SqliteStore): Insides => ({
  db: store.db.connection.db,
  checkpointer: (store.db as unknown as { checkpointer?: Worker }).checkpointer,
});

/** The store connection's wal_autocheckpoint (0: SQLite does not checkpoint on it). */
const autocheckpoint = (store: SqliteStore) =>
  (insides(store).db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number })
    .wal_autocheckpoint;

function inputs(n: number): AcceptedInput[] {
  const acceptedAt = new Date().toISOString();
  return Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    source: 'hook-1',
    payload: { memberId: `M${i}`, eventCode: 'CONF2026' },
    acceptedAt,
  }));
}

/** Rows of imis_inputs in the database file alone, i.e. what checkpoints copied out of the WAL. */
function rowsInMainFile(file: string, dir: string, driver: SqliteDriverName): number {
  const copy = join(dir, `copy-${randomUUID()}.db`);
  copyFileSync(file, copy);
  const db = openFile(copy, driver);
  try {
    const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'imis_inputs'`).get();
    return table ? (db.prepare('SELECT count(*) AS n FROM imis_inputs').get() as { n: number }).n : 0;
  } finally {
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(copy + suffix, { force: true });
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

for (const { driver, unavailable } of SQLITE_DRIVERS) {
  describe(
    driverTitle('SQLite store: WAL checkpoints off the event loop', { driver, unavailable }),
    function () {
      before(function () {
        if (unavailable) this.skip();
      });
      this.timeout(30_000);
      let dir: string;
      let store: SqliteStore | undefined;

      beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), 'imis-ckpt-'));
      });
      afterEach(async () => {
        await store?.close();
        store = undefined;
        rmSync(dir, { recursive: true, force: true });
      });

      it('once busy, has a worker thread checkpoint the WAL, and never checkpoints on its own connection', async () => {
        const file = join(dir, 'imis.db');
        store = new SqliteStore({ file, driver });
        // Far less than SQLite's own checkpoint threshold (1,000 pages of WAL): without the worker,
        // these rows would stay in the WAL and the database file would not hold them.
        const rows = inputs(1500);
        await Promise.all(rows.map((row) => store!.inputs.accept(row)));
        assert.equal(autocheckpoint(store), 0);
        assert.ok(insides(store).checkpointer, 'a checkpointer worker runs');
        assert.ok(
          await until(() => rowsInMainFile(file, dir, driver) === rows.length, 10_000),
          `the worker copied the WAL into the database file (found ${rowsInMainFile(file, dir, driver)} rows)`,
        );
      });

      it("once the worker runs, prunes runs on the worker's connection, not on its own", async () => {
        const file = join(dir, 'imis.db');
        store = new SqliteStore({ file, driver });
        await Promise.all(inputs(1500).map((row) => store!.inputs.accept(row)));
        assert.ok(insides(store).checkpointer, 'the worker runs');
        const old = Date.parse('2026-01-01T00:00:00Z');
        const run = (n: number) => ({
          id: `run-${n}`,
          flowId: 'f',
          trigger: { id: 't', type: 'imis-webhook-in' },
          status: 'ok' as const,
          startedAt: new Date(old + n).toISOString(),
          finishedAt: new Date(old + n).toISOString(),
          steps: [],
          input: { n },
          values: { orderId: `O-${n}` },
        });
        await Promise.all(Array.from({ length: 250 }, (_, n) => store!.runs.finish(run(n))));
        // The store's own connection may not prune now: only the worker's can.
        let prunedHere = 0;
        store.db.transaction = () => Promise.resolve(++prunedHere) as never;
        const policy = { maxAgeMs: 1000, maxCount: 1_000_000 };
        const now = new Date(old + 100_000);
        assert.equal(await store.runs.prune(policy, now, 100), 100);
        assert.equal(await store.runs.prune(policy, now, 100), 100);
        assert.equal(await store.runs.prune(policy, now, 100), 50);
        assert.equal(await store.runs.get('run-249'), undefined);
        const values = insides(store).db.prepare('SELECT count(*) AS n FROM imis_run_values').get() as {
          n: number;
        };
        assert.equal(values.n, 0, "the runs' values went with them");
        assert.equal(prunedHere, 0, 'nothing pruned on the store connection');
        assert.ok(insides(store).checkpointer, 'the worker still runs');
      });

      it('keeps SQLite checkpointing on its own connection while lightly used, and in memory', async () => {
        store = new SqliteStore({ file: join(dir, 'imis.db'), driver });
        await Promise.all(inputs(10).map((row) => store!.inputs.accept(row)));
        assert.equal(insides(store).checkpointer, undefined);
        assert.equal(autocheckpoint(store), 1000);
        await store.close();

        store = new SqliteStore({ file: ':memory:', driver });
        await Promise.all(inputs(1500).map((row) => store!.inputs.accept(row)));
        assert.equal(insides(store).checkpointer, undefined);
      });

      it('goes back to checkpointing on its own connection if the worker thread ends', async () => {
        store = new SqliteStore({ file: join(dir, 'imis.db'), driver });
        await Promise.all(inputs(1500).map((row) => store!.inputs.accept(row)));
        const worker = insides(store).checkpointer;
        assert.ok(worker);
        await worker.terminate();
        assert.ok(await until(() => insides(store!).checkpointer === undefined, 5000));
        assert.equal(autocheckpoint(store), 1000);
        // Still writes as before.
        const more = inputs(5);
        await Promise.all(more.map((row) => store!.inputs.accept(row)));
        const count = insides(store).db.prepare('SELECT count(*) AS n FROM imis_inputs').get() as {
          n: number;
        };
        assert.equal(count.n, 1505);
      });

      it('stops the worker at close, and leaves one database file with everything in it', async () => {
        const file = join(dir, 'imis.db');
        store = new SqliteStore({ file, driver });
        await Promise.all(inputs(1500).map((row) => store!.inputs.accept(row)));
        const worker = insides(store).checkpointer;
        assert.ok(worker);
        const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
        await store.close();
        store = undefined;
        assert.equal(await exited, 0);
        assert.equal(existsSync(`${file}-wal`), false, 'the last connection to close removed the WAL');
        assert.equal(rowsInMainFile(file, dir, driver), 1500);
      });
    },
  );
}
