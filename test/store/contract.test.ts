import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { RunRecord } from '../../src/runs/tracker.js';
import { importLegacyFiles, openStore } from '../../src/store/index.js';
import type { AcceptedInput, Store } from '../../src/store/index.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { MIGRATIONS } from '../../src/store/schema.js';
import { COUNT_CAP, runsWhere } from '../../src/store/rows.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { TEXT_WINDOW } from '../../src/store/repositories/runs.js';
import { SQLITE_DIALECT } from '../../src/store/engine/sqlite-connection.js';
import { POSTGRES_DIALECT } from '../../src/store/engine/postgres.js';
import type { RunQuery } from '../../src/store/types.js';
import { requirePostgres, startPostgres } from '../support/postgres.js';
import { SQLITE_DRIVERS, driverTitle, openFile, sqlOn } from '../support/sqlite.js';
import type { SqliteDriver } from '../support/sqlite.js';
import type { TestPostgres } from '../support/postgres.js';

type Opened = Store;

/**
 * One engine under test: `fresh` gives a new location, where `open` opens a store (another process's
 * view of it when opened again) and `sql` runs statements on its database as an outsider would (to
 * build an older schema, to look at a table no method reads), answering the last one's rows.
 */
interface Engine {
  name: 'sqlite' | 'postgres';
  /** As the suite's title names it (and why it is skipped, if it is). */
  title: string;
  /** Why this engine cannot run on this Node (undefined: it can). */
  unavailable?: string;
  fresh(): Promise<{
    open(leaseMs?: number): Promise<Opened>;
    sql(statements: string): Promise<Record<string, unknown>[]>;
  }>;
}

function input(source: string, n: number, at = Date.now()): AcceptedInput {
  return {
    id: randomUUID(),
    source,
    payload: { n, member: `M${n}`, text: 'é ✓' },
    extra: { topic: 't' },
    acceptedAt: new Date(at + n).toISOString(),
  };
}

function run(over: Partial<RunRecord> & { startedAt: string }): RunRecord {
  return {
    id: randomUUID(),
    flowId: 'flow-a',
    trigger: { id: 'trigger-1', type: 'imis-webhook-in' },
    status: 'ok',
    finishedAt: over.startedAt,
    steps: [
      { id: 'n1', type: 'debug', startedAt: over.startedAt, finishedAt: over.startedAt, outcome: 'ok' },
    ],
    input: { a: 1 },
    ...over,
  };
}

const sqlite = ({ driver, unavailable }: SqliteDriver): Engine => ({
  name: 'sqlite',
  title: driverTitle('sqlite', { driver, unavailable }),
  unavailable,
  async fresh() {
    const file = join(mkdtempSync(join(tmpdir(), 'imis-store-')), 'imis.db');
    return {
      open: (leaseMs = 30_000) => Promise.resolve(new SqliteStore({ file, leaseMs, driver })),
      async sql(statements: string) {
        const db = openFile(file, driver);
        try {
          return sqlOn(db, statements);
        } finally {
          db.close();
        }
      },
    };
  },
});

let server: TestPostgres | undefined;
const postgres: Engine = {
  name: 'postgres',
  title: 'postgres',
  async fresh() {
    if (!server) throw new Error('no PostgreSQL server');
    const url = server.createDatabase(`t_${randomUUID().replace(/-/g, '')}`);
    return {
      open: (leaseMs = 30_000) => PostgresStore.open({ url, leaseMs }),
      async sql(statements: string) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          const results = (await client.query(statements)) as pg.QueryResult | pg.QueryResult[];
          return (Array.isArray(results) ? results[results.length - 1] : results).rows as Record<
            string,
            unknown
          >[];
        } finally {
          await client.end();
        }
      },
    };
  },
};

for (const engine of [...SQLITE_DRIVERS.map(sqlite), postgres]) {
  describe(`Store contract on ${engine.title}`, function () {
    this.timeout(60_000);
    const opened: Store[] = [];
    let place: Awaited<ReturnType<Engine['fresh']>>;
    const open = async (leaseMs?: number) => {
      const store = await place.open(leaseMs);
      opened.push(store);
      return store;
    };

    before(async function () {
      if (engine.unavailable) this.skip();
      if (engine.name === 'postgres' && !server) {
        const bin = requirePostgres(this);
        if (bin) server = await startPostgres(bin);
      }
    });
    beforeEach(async () => {
      place = await engine.fresh();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
    });

    it('hands the inputs an earlier process accepted but never finished to the next one, oldest first', async () => {
      const first = await open();
      const inputs = [input('hook', 1), input('hook', 2), input('hook', 3), input('other', 4)];
      await Promise.all(inputs.map((i) => first.inputs.accept(i)));
      await first.runs.finish(run({ id: inputs[1].id, startedAt: new Date().toISOString() }));
      await first.close();

      const second = await open(1); // the first process is gone: its lease ran out
      await new Promise((r) => setTimeout(r, 5));
      const pending = await second.inputs.claimPending('hook');
      assert.deepEqual(
        pending.map((p) => p.id),
        [inputs[0].id, inputs[2].id],
      );
      assert.deepEqual(pending[0].payload, inputs[0].payload);
      assert.deepEqual(pending[0].extra, { topic: 't' });
      assert.equal(pending[0].acceptedAt, inputs[0].acceptedAt);
      assert.deepEqual(await second.inputs.claimPending('hook'), [], 'claimed once only');
      assert.equal((await second.inputs.claimPending('other')).length, 1);
    });

    it('imports inputs an earlier version kept, claimable at once; an empty import writes nothing', async () => {
      const store = await open();
      await store.inputs.importInputs([]);
      assert.deepEqual(await store.inputs.claimPending('hook'), []);
      const kept = [input('hook', 1), input('hook', 2), input('hook', 3)];
      await store.inputs.importInputs(kept);
      const pending = await store.inputs.claimPending('hook');
      assert.deepEqual(
        pending.map((p) => p.id),
        kept.map((k) => k.id),
      );
      assert.deepEqual(pending[2].payload, kept[2].payload);
      assert.deepEqual(pending[2].extra, { topic: 't' });
    });

    it('commits hundreds of concurrent accepts, grouped, none lost', async () => {
      const store = await open();
      const inputs = Array.from({ length: 600 }, (_, n) => input('burst', n));
      await Promise.all(inputs.map((i) => store.inputs.accept(i)));
      await store.close();
      const next = await open(1);
      assert.equal((await next.inputs.claimPending('burst')).length, 600);
    });

    if (engine.name === 'postgres') {
      it("never gives a live process's inputs to another; takes them over once its lease runs out", async () => {
        const a = await open(400);
        const b = await open(400);
        const mine = input('shared', 1);
        await a.inputs.accept(mine);
        assert.deepEqual(await b.inputs.claimPending('shared'), []);
        await a.inputs.heartbeat();
        await new Promise((r) => setTimeout(r, 200));
        await a.inputs.heartbeat();
        await new Promise((r) => setTimeout(r, 250));
        assert.deepEqual(await b.inputs.claimPending('shared'), [], 'heartbeats keep the lease');
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual(
          (await b.inputs.claimPending('shared')).map((i) => i.id),
          [mine.id],
        );
      });

      it('migrates once when several processes open a new database together', async () => {
        const stores = await Promise.all([open(), open(), open(), open()]);
        assert.equal(stores.length, 4);
        const url = (stores[0] as unknown as { db: { pool: pg.Pool } }).db.pool.options
          .connectionString as string;
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        const { rows } = await client.query('SELECT version FROM imis_schema ORDER BY version');
        await client.end();
        assert.deepEqual(
          rows,
          MIGRATIONS.map((m) => ({ version: m.version })),
        );
      });
    }

    it('keeps finished runs and pages through them, newest first, with filters', async () => {
      const store = await open();
      const base = Date.parse('2026-01-01T00:00:00Z');
      const runs: RunRecord[] = [];
      for (let n = 0; n < 25; n++) {
        runs.push(
          run({
            startedAt: new Date(base + n * 60_000).toISOString(),
            flowId: n % 2 ? 'flow-odd' : 'flow-even',
            status: n % 5 === 0 ? 'failed' : 'ok',
            businessKey: `M${n % 3}`,
            ...(n % 5 === 0 ? { error: 'iMIS said no' } : {}),
          }),
        );
      }
      await Promise.all(runs.map((r) => store.runs.finish(r)));

      const page1 = await store.runs.list({ limit: 10 });
      assert.equal(page1.runs.length, 10);
      assert.equal(page1.runs[0].id, runs[24].id);
      assert.ok(page1.next);
      const page2 = await store.runs.list({ limit: 10, after: page1.next });
      const page3 = await store.runs.list({ limit: 10, after: page2.next });
      assert.equal(page3.runs.length, 5);
      assert.equal(page3.next, undefined);
      const seen = [...page1.runs, ...page2.runs, ...page3.runs].map((r) => r.id);
      assert.deepEqual(
        seen,
        [...runs].reverse().map((r) => r.id),
      );

      const failed = await store.runs.list({ status: 'failed' });
      assert.deepEqual(
        failed.runs.map((r) => r.startedAt),
        [20, 15, 10, 5, 0].map((n) => runs[n].startedAt),
      );
      assert.equal(failed.runs[0].error, 'iMIS said no');
      const odd = await store.runs.list({ flowId: 'flow-odd', businessKey: 'M1' });
      assert.deepEqual(
        odd.runs.map((r) => r.id),
        [19, 13, 7, 1].map((n) => runs[n].id),
      );
      const window = await store.runs.list({ since: runs[3].startedAt, until: runs[6].startedAt });
      assert.deepEqual(
        window.runs.map((r) => r.id),
        [5, 4, 3].map((n) => runs[n].id),
      );

      const one = await store.runs.get(runs[7].id);
      assert.deepEqual(one, runs[7]);
      assert.equal(await store.runs.get('nope'), undefined);
    });

    it('finds runs by text in their input or error, counts them per status, and follows re-run chains', async () => {
      const store = await open();
      const base = Date.now() - 60_000;
      const at = (n: number) => new Date(base + n * 1000).toISOString();
      const original = run({
        startedAt: at(0),
        status: 'failed',
        error: 'iMIS answered 503: Outage',
        input: { memberId: 'Member-42', note: '100% sure_' },
      });
      const rerun1 = run({ startedAt: at(1), status: 'failed', rerunOf: original.id, input: original.input });
      const rerun2 = run({ startedAt: at(2), status: 'ok', rerunOf: original.id, input: original.input });
      const other = run({ startedAt: at(3), status: 'failed', flowId: 'flow-b', input: { memberId: 'M7' } });
      const running = run({ startedAt: at(4), status: 'unfinished', input: { memberId: 'M8' } });
      await Promise.all([original, rerun1, rerun2, other, running].map((r) => store.runs.finish(r)));
      await store.flush();
      const ids = async (query: RunQuery) => (await store.runs.list(query)).runs.map((r) => r.id);

      // Case-insensitive; in the input or the error only (the steps' node names do not count).
      assert.deepEqual(await ids({ text: 'member-42' }), [rerun2.id, rerun1.id, original.id]);
      assert.deepEqual(await ids({ text: 'OUTAGE' }), [original.id]);
      assert.deepEqual(await ids({ text: 'debug' }), []);
      // % and _ are literal characters, not wildcards.
      assert.deepEqual(await ids({ text: '100% sure_' }), [rerun2.id, rerun1.id, original.id]);
      assert.deepEqual(await ids({ text: '1_0' }), []);
      assert.deepEqual(await ids({ text: 'member', flowId: 'flow-b' }), [other.id]);

      assert.deepEqual(await ids({ rerunOf: original.id }), [rerun2.id, rerun1.id]);
      assert.deepEqual(await ids({ status: 'failed', notRerun: true }), [other.id, rerun1.id]);

      assert.deepEqual(await store.runs.count({}), {
        running: 0,
        ok: 1,
        failed: 3,
        unfinished: 1,
        capped: false,
      });
      // The status and the page do not narrow the counts; the other filters do.
      assert.deepEqual(
        await store.runs.count({ status: 'ok', limit: 1, flowId: 'flow-a', text: 'member-42' }),
        {
          running: 0,
          ok: 1,
          failed: 2,
          unfinished: 0,
          capped: false,
        },
      );
    });

    it('finds runs by business key, exactly or by prefix, with % and _ taken literally', async () => {
      const store = await open();
      const base = Date.now() - 60_000;
      const keys = [
        'ORD-1',
        'ORD-12',
        'ORD-2',
        'XORD-1', // shares "ORD-1" later on only
        'ord-1',
        'ORD-1\u{1F600}', // a character beyond the BMP after the prefix
        'A%B',
        'AxB',
        'A_C',
        'AyC',
        '\u{10FFFF}z', // the last code point: a prefix of it has no end
        undefined,
      ];
      const runs = keys.map((businessKey, n) =>
        run({ startedAt: new Date(base + n * 1000).toISOString(), ...(businessKey ? { businessKey } : {}) }),
      );
      await Promise.all(runs.map((r) => store.runs.finish(r)));
      const keysOf = async (businessKey: string) =>
        (await store.runs.list({ businessKey })).runs.map((r) => r.businessKey);

      assert.deepEqual(await keysOf('ORD-12'), ['ORD-12'], 'the exact key');
      assert.deepEqual(
        await keysOf('ORD-1'),
        ['ORD-1\u{1F600}', 'ORD-12', 'ORD-1'],
        'itself and longer keys',
      );
      assert.deepEqual(await keysOf('ORD'), ['ORD-1\u{1F600}', 'ORD-2', 'ORD-12', 'ORD-1']);
      assert.deepEqual(await keysOf('RD-1'), [], 'a later part of a key is no prefix');
      assert.deepEqual(await keysOf('ord'), ['ord-1'], 'case counts');
      assert.deepEqual(await keysOf('A%'), ['A%B']);
      assert.deepEqual(await keysOf('A_'), ['A_C']);
      assert.deepEqual(await keysOf('ORD-1\u{1F600}'), ['ORD-1\u{1F600}']);
      assert.deepEqual(await keysOf('\u{10FFFF}'), ['\u{10FFFF}z']);
      assert.deepEqual(await keysOf('ORD-3'), []);
      assert.deepEqual(await store.runs.count({ businessKey: 'ORD-1' }), {
        running: 0,
        ok: 3,
        failed: 0,
        unfinished: 0,
        capped: false,
      });
    });

    it('finds runs by their named values, every pair exactly, and returns the values with the run', async () => {
      const store = await open();
      const base = Date.now() - 60_000;
      const at = (n: number) => new Date(base + n * 1000).toISOString();
      const a = run({ startedAt: at(0), values: { orderId: 'O-1', eventCode: 'CONF' } });
      const b = run({ startedAt: at(1), values: { orderId: 'O-2', eventCode: 'CONF' }, status: 'failed' });
      const c = run({ startedAt: at(2), values: { orderId: 'O-10', note: 'CONF' } });
      const d = run({ startedAt: at(3), input: { orderId: 'O-1' } });
      await Promise.all([a, b, c, d].map((r) => store.runs.finish(r)));
      const ids = async (values: Record<string, string>, more = {}) =>
        (await store.runs.list({ values, ...more })).runs.map((r) => r.id);

      assert.deepEqual(await ids({ orderId: 'O-1' }), [a.id], 'exactly: not O-10, nor a value in the input');
      assert.deepEqual(
        await ids({ eventCode: 'CONF' }),
        [b.id, a.id],
        'by name: not another name of that value',
      );
      assert.deepEqual(await ids({ orderId: 'O-2', eventCode: 'CONF' }), [b.id], 'both pairs');
      assert.deepEqual(await ids({ orderId: 'O-1', eventCode: 'OTHER' }), [], 'one pair only');
      assert.deepEqual(await ids({ orderid: 'O-1' }), [], 'names are exact too');
      assert.deepEqual(
        await ids({ eventCode: 'CONF' }, { status: 'failed' }),
        [b.id],
        'with the other filters',
      );
      assert.deepEqual(await ids({ eventCode: 'CONF' }, { text: 'a' }), [b.id, a.id], 'with a text search');
      assert.deepEqual(await ids({ eventCode: 'CONF' }, { text: 'nothing like it' }), []);
      assert.deepEqual(await ids({}), [d.id, c.id, b.id, a.id], 'no values: no filter');
      assert.deepEqual(await store.runs.count({ values: { eventCode: 'CONF' } }), {
        running: 0,
        ok: 1,
        failed: 1,
        unfinished: 0,
        capped: false,
      });

      assert.deepEqual((await store.runs.get(a.id))?.values, { orderId: 'O-1', eventCode: 'CONF' });
      assert.deepEqual(await store.runs.get(c.id), c);
      assert.deepEqual(
        (await store.runs.list({})).runs.map((r) => r.values),
        [undefined, c.values, b.values, a.values],
      );
    });

    it('searches business keys by prefix and values through their indexes', async () => {
      const store = await open();
      await store.runs.finish(
        run({ startedAt: new Date().toISOString(), businessKey: 'K-1', values: { a: 'b' } }),
      );
      const plan = async (query: RunQuery) => {
        const where = runsWhere(query, engine.name === 'sqlite' ? SQLITE_DIALECT : POSTGRES_DIALECT);
        let n = 0;
        const literal = (v: unknown) =>
          typeof v === 'number' ? `${v}` : `'${String(v).replace(/'/g, "''")}'`;
        const sql = `SELECT data FROM imis_runs ${where.sql.replace(/\?/g, () => literal(where.params[n++]))} ORDER BY started_at DESC, id DESC LIMIT 100`;
        // PostgreSQL: a handful of rows would be read whole; what counts is that an index can serve.
        const rows = await place.sql(
          engine.name === 'sqlite' ? `EXPLAIN QUERY PLAN ${sql}` : `SET enable_seqscan = off; EXPLAIN ${sql}`,
        );
        return rows.map((row) => String(row.detail ?? row['QUERY PLAN'])).join('\n');
      };
      // The index is searched with the range (the prefix) and with name and value, not read whole.
      const uses =
        engine.name === 'sqlite'
          ? {
              key: /SEARCH imis_runs USING INDEX imis_runs_key \(business_key>\? AND business_key<\?\)/,
              values: /SEARCH imis_run_values USING INDEX imis_run_values_value \(name=\? AND <expr>=\?\)/,
            }
          : {
              key: /using imis_runs_key on imis_runs .*\n\s*Index Cond: \(\(\(business_key\)::text >= 'K-'::text\) AND \(\(business_key\)::text < 'K\.'::text\)\)/,
              values:
                /using imis_run_values_value on imis_run_values .*\n\s*Index Cond: \(\(name = 'a'::text\) AND \(substr\(value, 1, 200\) = 'b'::text\)\)/,
            };
      assert.match(await plan({ businessKey: 'K-' }), uses.key);
      assert.match(await plan({ values: { a: 'b' } }), uses.values);
    });

    it('keeps values at their limits: 25 a run, names of 64 characters, values of 1,000', async () => {
      const store = await open();
      const name = (n: number) => `${n}`.padStart(64, 'n');
      // 1,000 characters, most of 4 bytes, that do not compress: more than PostgreSQL takes in one
      // index entry (2,704 bytes).
      const start = Array.from({ length: 999 }, (_, n) =>
        String.fromCodePoint(0x10000 + ((n * 7919) % 0xf0000)),
      ).join('');
      const long = (last: string) => start + last;
      const values = Object.fromEntries(Array.from({ length: 25 }, (_, n) => [name(n), long(`${n % 10}`)]));
      const full = run({ startedAt: new Date(Date.now() - 2000).toISOString(), values });
      // The same value but its last character: indexed alike (by its start), told apart whole.
      const twin = run({
        startedAt: new Date(Date.now() - 1000).toISOString(),
        values: { [name(0)]: long('x') },
      });
      await Promise.all([full, twin].map((r) => store.runs.finish(r)));
      const ids = async (v: Record<string, string>) =>
        (await store.runs.list({ values: v })).runs.map((r) => r.id);

      assert.deepEqual(await ids({ [name(0)]: long('0') }), [full.id]);
      assert.deepEqual(await ids({ [name(0)]: long('x') }), [twin.id]);
      assert.deepEqual(await ids({ [name(24)]: long('4'), [name(13)]: long('3') }), [full.id]);
      assert.deepEqual(await ids({ [name(24)]: long('5') }), []);
      assert.deepEqual((await store.runs.get(full.id))?.values, values);
    });

    it('replaces the values of a run stored again', async () => {
      const store = await open();
      const r = run({
        startedAt: new Date().toISOString(),
        status: 'unfinished',
        values: { a: '1', b: '2' },
      });
      await store.runs.finish(r);
      await store.runs.finish({ ...r, status: 'failed', values: { a: '3' } });
      const ids = async (values: Record<string, string>) =>
        (await store.runs.list({ values })).runs.map((x) => x.id);
      assert.deepEqual(await ids({ a: '1' }), []);
      assert.deepEqual(await ids({ b: '2' }), [], 'a value the run no longer has');
      assert.deepEqual(await ids({ a: '3' }), [r.id]);
      assert.deepEqual((await store.runs.get(r.id))?.values, { a: '3' });

      // Twice in one group of writes: the last one counts.
      await Promise.all([
        store.runs.finish({ ...r, values: { c: '4' } }),
        store.runs.finish({ ...r, values: { c: '5' } }),
      ]);
      assert.deepEqual(await ids({ c: '4' }), []);
      assert.deepEqual(await ids({ c: '5' }), [r.id]);

      await store.runs.finish({ ...r, values: undefined });
      assert.deepEqual(await ids({ c: '5' }), [], 'none left');
      assert.deepEqual(await place.sql('SELECT run_id FROM imis_run_values'), []);
    });

    it('prunes the values with their runs', async () => {
      const store = await open();
      const now = Date.parse('2026-06-01T00:00:00Z');
      const day = 24 * 60 * 60 * 1000;
      const old = Array.from({ length: 4 }, (_, n) =>
        run({
          startedAt: new Date(now - 40 * day + n).toISOString(),
          values: { orderId: `O-${n}`, kind: 'x' },
        }),
      );
      const recent = run({
        startedAt: new Date(now - day).toISOString(),
        values: { orderId: 'O-9', kind: 'x' },
      });
      await Promise.all([...old, recent].map((r) => store.runs.finish(r)));
      assert.equal(await store.runs.prune({ maxAgeMs: 30 * day, maxCount: 100 }, new Date(now), 10), 4);
      assert.deepEqual(
        (await store.runs.list({ values: { kind: 'x' } })).runs.map((r) => r.id),
        [recent.id],
      );
      const rows = await place.sql('SELECT run_id, name, value FROM imis_run_values ORDER BY name');
      assert.deepEqual(rows, [
        { run_id: recent.id, name: 'kind', value: 'x' },
        { run_id: recent.id, name: 'orderId', value: 'O-9' },
      ]);
    });

    it('upgrades a database of schema version 4 in place: its runs stay, found by key prefix, and take values', async () => {
      const previous = MIGRATIONS.filter((m) => m.version <= 4);
      const old = run({ startedAt: new Date(Date.now() - 1000).toISOString(), businessKey: 'M-1001' });
      await place.sql(
        `CREATE TABLE imis_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);` +
          previous.map((m) => `${m[engine.name]};`).join('') +
          previous.map((m) => `INSERT INTO imis_schema VALUES (${m.version}, 0);`).join('') +
          `INSERT INTO imis_runs (id, flow_id, trigger_id, status, started_at, finished_at, business_key, data)
           VALUES ('${old.id}', 'flow-a', 'trigger-1', 'ok', ${Date.parse(old.startedAt)}, NULL, 'M-1001',
                   '${JSON.stringify(old)}')`,
      );
      const store = await open();
      assert.deepEqual(
        await place.sql('SELECT version FROM imis_schema ORDER BY version'),
        MIGRATIONS.map((m) => ({ version: m.version })),
      );
      assert.ok(MIGRATIONS.some((m) => m.version === 5 && /imis_run_values/.test(m[engine.name])));
      assert.deepEqual(await store.runs.get(old.id), old);
      assert.deepEqual(
        (await store.runs.list({ businessKey: 'M-10' })).runs.map((r) => r.id),
        [old.id],
      );
      const fresh = run({
        startedAt: new Date().toISOString(),
        businessKey: 'M-1002',
        values: { orderId: 'O-1' },
      });
      await store.runs.finish(fresh);
      assert.deepEqual(
        (await store.runs.list({ businessKey: 'M-100' })).runs.map((r) => r.id),
        [fresh.id, old.id],
      );
      assert.deepEqual(
        (await store.runs.list({ values: { orderId: 'O-1' } })).runs.map((r) => r.id),
        [fresh.id],
      );
    });

    if (engine.name === 'postgres') {
      it('finds keys by prefix in byte order on a database that collates otherwise (ICU en-US)', async () => {
        const name = `icu_${randomUUID().replace(/-/g, '')}`;
        const admin = new pg.Client({ connectionString: server?.url });
        await admin.connect();
        await admin.query(
          `CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`,
        );
        await admin.end();
        const url = (server?.url ?? '').replace(/\/postgres$/, `/${name}`);
        const store = await PostgresStore.open({ url });
        opened.push(store);
        const base = Date.now() - 60_000;
        // en-US sorts "ab" < "aBc" < "ac" and "a-b" next to "ab": a range in that order would take them.
        const runs = ['ab', 'aBc', 'abc', 'a-b', 'ab-1', 'AB'].map((businessKey, n) =>
          run({ startedAt: new Date(base + n * 1000).toISOString(), businessKey }),
        );
        await Promise.all(runs.map((r) => store.runs.finish(r)));
        const keysOf = async (businessKey: string) =>
          (await store.runs.list({ businessKey })).runs.map((r) => r.businessKey);
        assert.deepEqual(await keysOf('ab'), ['ab-1', 'abc', 'ab']);
        assert.deepEqual(await keysOf('a'), ['ab-1', 'a-b', 'abc', 'aBc', 'ab']);
        assert.deepEqual(await keysOf('aB'), ['aBc']);
      });
    }

    it('replaces a run finished again (a re-settle) rather than keeping two', async () => {
      const store = await open();
      const r = run({ startedAt: new Date().toISOString(), status: 'unfinished' });
      await store.runs.finish(r);
      await store.runs.finish({ ...r, status: 'failed', error: 'late' });
      const page = await store.runs.list({});
      assert.equal(page.runs.length, 1);
      assert.equal(page.runs[0].status, 'failed');
    });

    it('prunes runs by age and by count, in batches', async () => {
      const store = await open();
      const now = Date.parse('2026-06-01T00:00:00Z');
      const day = 24 * 60 * 60 * 1000;
      const old = Array.from({ length: 5 }, (_, n) =>
        run({ startedAt: new Date(now - 40 * day + n).toISOString() }),
      );
      const recent = Array.from({ length: 20 }, (_, n) =>
        run({ startedAt: new Date(now - day + n).toISOString() }),
      );
      await Promise.all([...old, ...recent].map((r) => store.runs.finish(r)));
      const policy = { maxAgeMs: 30 * day, maxCount: 12 };
      let removed = 0;
      for (let n = 0; n < 10; n++) {
        const step = await store.runs.prune(policy, new Date(now), 3);
        assert.ok(step <= 3);
        removed += step;
        if (step === 0) break;
      }
      assert.equal(removed, 13);
      const left = await store.runs.list({ limit: 100 });
      assert.deepEqual(
        left.runs.map((r) => r.id),
        recent
          .slice(8)
          .reverse()
          .map((r) => r.id),
      );
    });

    it('keeps per-node state as JSON, replaced on each write', async () => {
      const store = await open();
      assert.equal(await store.nodeState.get('cron-1', 'cron'), undefined);
      await store.nodeState.set('cron-1', 'cron', {
        enabled: false,
        lastScheduled: '2026-01-01T00:00:00.000Z',
      });
      await store.nodeState.set('cron-1', 'cron', { enabled: true });
      await store.nodeState.set('cron-2', 'cron', { enabled: false });
      assert.deepEqual(await store.nodeState.get('cron-1', 'cron'), { enabled: true });
      assert.deepEqual(await store.nodeState.get('cron-2', 'cron'), { enabled: false });
    });

    it('tells a duplicate event id until it expires', async () => {
      const store = await open();
      const t0 = new Date('2026-01-01T00:00:00Z');
      const later = new Date(t0.getTime() + 1000);
      assert.equal(await store.seen.mark('n1', 'e1', later, t0), true);
      assert.equal(await store.seen.mark('n1', 'e1', later, t0), false);
      assert.equal(await store.seen.mark('n2', 'e1', later, t0), true, 'scopes are separate');
      assert.equal(
        await store.seen.mark('n1', 'e1', new Date(later.getTime() + 1000), later),
        true,
        'expired',
      );
      assert.equal(await store.seen.prune(new Date(t0.getTime() + 1500)), 1);
    });

    it('accepts an input once per delivery id: a copy stores nothing and gets the answer kept, until the id expires', async () => {
      const store = await open();
      const soon = new Date(Date.now() + 60_000);
      const mark = (id: string, answer: string, expiresAt = soon) => ({
        scope: 'hook-1',
        id,
        expiresAt,
        answer,
      });
      const first = input('hook', 1);
      assert.deepEqual(await store.inputs.acceptOnce(first, mark('msg_1', 'answer-1')), { accepted: true });
      const [copy, sameBatch] = await Promise.all([
        store.inputs.acceptOnce(input('hook', 2), mark('msg_1', 'answer-2')),
        store.inputs.acceptOnce(input('hook', 3), mark('msg_1', 'answer-3')),
      ]);
      assert.deepEqual(copy, { accepted: false, answer: 'answer-1' });
      assert.deepEqual(sameBatch, { accepted: false, answer: 'answer-1' });
      assert.deepEqual(
        await store.inputs.acceptOnce(input('hook-2', 4), {
          ...mark('msg_1', 'other node'),
          scope: 'hook-2',
        }),
        { accepted: true },
        'scopes are separate',
      );
      // Two copies committed in one group: the first is accepted, the second finds it.
      const [a, b] = await Promise.all([
        store.inputs.acceptOnce(input('hook', 5), mark('msg_2', 'answer-5')),
        store.inputs.acceptOnce(input('hook', 6), mark('msg_2', 'answer-6')),
      ]);
      assert.deepEqual([a, b], [{ accepted: true }, { accepted: false, answer: 'answer-5' }]);
      // An expired id is a new delivery.
      assert.deepEqual(
        await store.inputs.acceptOnce(input('hook', 7), mark('msg_3', 'old', new Date(Date.now() - 1))),
        { accepted: true },
      );
      assert.deepEqual(await store.inputs.acceptOnce(input('hook', 8), mark('msg_3', 'new')), {
        accepted: true,
      });
      // One group with a delivery id between plain accepts (its rows are written in the ids'
      // transaction): all three are stored.
      await Promise.all([
        store.inputs.accept(input('hook', 10)),
        store.inputs.acceptOnce(input('hook', 11), mark('msg_4', 'answer-11')),
        store.inputs.accept(input('hook', 12)),
      ]);
      // The next process on the same store (a restart) finds the ids and has only the accepted inputs.
      await store.close();
      const later = await open();
      assert.deepEqual(await later.inputs.acceptOnce(input('hook', 9), mark('msg_1', 'again')), {
        accepted: false,
        answer: 'answer-1',
      });
      assert.deepEqual(
        (await later.inputs.claimPending('hook')).map((i) => i.payload),
        [1, 5, 7, 8, 10, 11, 12].map((n) => input('hook', n).payload),
      );
    });

    it('stores published exports byte for byte', async () => {
      const store = await open();
      const body = Buffer.from('\ufeffid,name\r\n1,Zoë\r\n', 'utf8');
      await store.exports.put({
        keyHash: 'h1',
        format: 'csv',
        body,
        etag: '"x"',
        lastModified: '2026-01-01T00:00:00.000Z',
        rows: 1,
      });
      const got = await store.exports.get('h1');
      assert.ok(got);
      assert.ok(Buffer.concat(await store.exports.parts('h1', got.bodyId, 0, 10)).equals(body));
      assert.equal(got.bytes, body.length);
      assert.equal(got.rows, 1);
      await store.exports.delete('h1');
      assert.equal(await store.exports.get('h1'), undefined);
    });

    it('writes an export body part by part, replaces it whole, and keeps it when told it is unchanged', async () => {
      const store = await open();
      const meta = (etag: string) => ({
        format: 'csv' as const,
        etag,
        lastModified: '2026-01-01T00:00:00.000Z',
        rows: 3,
      });
      const parts = ['a,b\r\n', '1,2\r\n', '3,4\r\n', 'Zoë,\u00ff'].map((t) => Buffer.from(t, 'utf8'));
      const taken: number[] = [];
      const lazily = (function* () {
        for (const [i, part] of parts.entries()) {
          taken.push(i);
          yield part;
        }
      })();
      let seen = -1;
      const first = await store.exports.replace('k', lazily, () => {
        seen = taken.length;
        return meta('"one"');
      });
      assert.equal(seen, parts.length, 'finish is asked once every part is written');
      assert.ok(first);
      assert.equal(first.bytes, Buffer.concat(parts).length);
      const got = await store.exports.get('k');
      assert.deepEqual(got, first);
      assert.deepEqual(await store.exports.parts('k', first.bodyId, 0, 2), parts.slice(0, 2));
      assert.deepEqual(await store.exports.parts('k', first.bodyId, 2, 5), parts.slice(2));
      assert.deepEqual(await store.exports.parts('k', first.bodyId, 4, 5), []);

      // Unchanged: nothing written stays, the export and its parts are as they were.
      const again = await store.exports.replace('k', [Buffer.from('other')], () => undefined);
      assert.equal(again, undefined);
      assert.deepEqual(await store.exports.get('k'), first);
      assert.deepEqual(
        Buffer.concat(await store.exports.parts('k', first.bodyId, 0, 10)),
        Buffer.concat(parts),
      );

      // Replaced: the new body is served; the one it replaced stays readable (a download started on
      // it finishes) until the next replace, and then its parts are gone (a reader of it learns so).
      const second = await store.exports.replace('k', [Buffer.from('x,y')], () => meta('"two"'));
      assert.ok(second);
      assert.notEqual(second.bodyId, first.bodyId);
      assert.deepEqual((await store.exports.get('k'))?.etag, '"two"');
      assert.deepEqual(await store.exports.parts('k', second.bodyId, 0, 10), [Buffer.from('x,y')]);
      assert.deepEqual(
        Buffer.concat(await store.exports.parts('k', first.bodyId, 0, 10)),
        Buffer.concat(parts),
      );
      const third = await store.exports.replace('k', [Buffer.from('z')], () => meta('"three"'));
      assert.ok(third);
      assert.deepEqual(await store.exports.parts('k', first.bodyId, 0, 10), []);
      assert.deepEqual(await store.exports.parts('k', second.bodyId, 0, 10), [Buffer.from('x,y')]);

      // A failure while the body is made leaves the export as it was.
      const failing = (function* () {
        yield Buffer.from('partial');
        throw new Error('no more rows');
      })();
      await assert.rejects(
        store.exports.replace('k', failing, () => meta('"four"')),
        /no more rows/,
      );
      assert.deepEqual(await store.exports.get('k'), third);
      assert.deepEqual(await store.exports.parts('k', third.bodyId, 0, 10), [Buffer.from('z')]);

      await store.exports.delete('k');
      assert.equal(await store.exports.get('k'), undefined);
      assert.deepEqual(await store.exports.parts('k', second.bodyId, 0, 10), []);
      assert.deepEqual(await store.exports.parts('k', third.bodyId, 0, 10), []);
    });

    it('upgrades the exports of schema version 7 in place: each body becomes one part', async () => {
      const previous = MIGRATIONS.filter((m) => m.version <= 7);
      const hex = Buffer.from('id\r\n1', 'utf8').toString('hex');
      const blob = engine.name === 'postgres' ? `'\\x${hex}'::bytea` : `x'${hex}'`;
      await place.sql(
        `CREATE TABLE imis_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);` +
          previous.map((m) => `${m[engine.name]};`).join('') +
          previous.map((m) => `INSERT INTO imis_schema VALUES (${m.version}, 0);`).join('') +
          `INSERT INTO imis_exports (key_hash, format, body, etag, last_modified, row_count, expires_at)
           VALUES ('old', 'csv', ${blob}, '"e"', '2026-01-01T00:00:00.000Z', 1, NULL)`,
      );
      const store = await open();
      const got = await store.exports.get('old');
      assert.ok(got);
      assert.equal(got.bytes, 5);
      assert.deepEqual(
        Buffer.concat(await store.exports.parts('old', got.bodyId, 0, 10)).toString(),
        'id\r\n1',
      );
      assert.equal(got.etag, '"e"');
      assert.equal(got.rows, 1);
    });

    it('serves an export until it expires, then prunes it; one without expiry stays', async () => {
      const store = await open();
      const t0 = new Date('2026-03-01T00:00:00Z');
      const entry = (keyHash: string, expiresAt?: number) => ({
        keyHash,
        format: 'json' as const,
        body: Buffer.from('[]'),
        etag: '"e"',
        lastModified: t0.toISOString(),
        rows: 0,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      });
      await store.exports.put(entry('soon', t0.getTime() + 1000));
      await store.exports.put(entry('never'));
      assert.equal((await store.exports.get('soon', t0))?.expiresAt, t0.getTime() + 1000);
      const after = new Date(t0.getTime() + 1000);
      assert.equal(await store.exports.get('soon', after), undefined, 'expired: not served');
      assert.ok(await store.exports.get('never', new Date(t0.getTime() + 1e12)));
      const soon = await store.exports.get('soon', t0);
      assert.ok(soon);
      assert.equal(await store.exports.prune(after), 1);
      assert.deepEqual(await store.exports.parts('soon', soon.bodyId, 0, 10), [], 'its body went with it');
      assert.equal(await store.exports.prune(after), 0, 'already deleted');
      assert.ok(await store.exports.get('never', after));
    });

    it('keeps the first record of a de-duplication key, per scope, until pruned', async () => {
      const store = await open();
      const t0 = new Date('2026-04-01T00:00:00Z');
      assert.equal(await store.dedup.get('n1', 'k'), undefined);
      await store.dedup.put('n1', 'k', { SEQN: 7 }, t0);
      await store.dedup.put('n1', 'k', { SEQN: 8 }, t0);
      assert.deepEqual(
        await store.dedup.get('n1', 'k'),
        { settled: true, result: { SEQN: 7 } },
        'the first stays',
      );
      await store.dedup.open('n1', 'k', t0);
      await store.dedup.drop('n1', 'k');
      assert.deepEqual(
        await store.dedup.get('n1', 'k'),
        { settled: true, result: { SEQN: 7 } },
        'opening or dropping a settled key changes nothing',
      );
      assert.equal(await store.dedup.get('n2', 'k'), undefined, 'another node');
      assert.equal(await store.dedup.prune(t0), 0, 'not older than the limit');
      assert.equal(await store.dedup.prune(new Date(t0.getTime() + 1)), 1);
      assert.equal(await store.dedup.get('n1', 'k'), undefined);
    });

    it('opens a de-duplication key before its insert, then settles or drops it', async () => {
      const store = await open();
      const t0 = new Date('2026-04-01T00:00:00Z');
      await store.dedup.open('n1', 'a', t0);
      await store.dedup.open('n1', 'a', new Date(t0.getTime() + 5000));
      assert.deepEqual(
        await store.dedup.get('n1', 'a'),
        { settled: false, openedAt: t0 },
        'the first opening stays',
      );
      await store.dedup.put('n1', 'a', { SEQN: 3 });
      assert.deepEqual(await store.dedup.get('n1', 'a'), { settled: true, result: { SEQN: 3 } });
      await store.dedup.open('n1', 'b', t0);
      await store.dedup.drop('n1', 'b');
      assert.equal(await store.dedup.get('n1', 'b'), undefined, 'dropped: iMIS refused the insert');
    });

    it('keeps the automatic retries a failed run plans, and lets one process claim each', async () => {
      const store = await open();
      const t0 = Date.parse('2026-04-01T00:00:00Z');
      const at = (ms: number) => new Date(t0 + ms).toISOString();
      const failed = (id: string, retryAt?: string) =>
        run({ id, status: 'failed', startedAt: at(0), finishedAt: at(1), ...(retryAt ? { retryAt } : {}) });
      await store.runs.finish(failed('later', at(60_000)));
      await store.runs.finish(failed('soon', at(1_000)));
      await store.runs.finish(failed('none'));
      assert.deepEqual(await store.retries.due(new Date(t0), 10), [], 'none due yet');
      assert.deepEqual(await store.retries.due(new Date(t0 + 1_000), 10), ['soon']);
      assert.deepEqual(
        await store.retries.due(new Date(t0 + 60_000), 10),
        ['soon', 'later'],
        'soonest first',
      );
      assert.deepEqual(await store.retries.due(new Date(t0 + 60_000), 1), ['soon'], 'at most the limit');
      assert.equal(await store.retries.claim('soon'), true);
      assert.equal(await store.retries.claim('soon'), false, 'claimed once');
      assert.equal(await store.retries.claim('none'), false, 'nothing planned');
      assert.deepEqual(await store.retries.due(new Date(t0 + 60_000), 10), ['later']);
      assert.equal(
        (await store.runs.get('soon'))?.retryAt,
        at(1_000),
        'the record still tells when it was planned',
      );
    });

    it('claims each fire of a schedule once (the latest on schedule kept), with its input owned by the claiming process until its lease runs out', async () => {
      const a = await open(1500);
      const b = engine.name === 'postgres' ? await open(1500) : a;
      const due = Math.ceil(Date.now() / 1000) * 1000; // rows a day old are pruned
      const first = input('cron-1', 1);
      assert.equal(await a.fires.claim('cron-1', due, first), true);
      assert.equal(
        await b.fires.claim('cron-1', due, input('cron-1', 2)),
        false,
        'the same node and instant: once',
      );
      assert.equal(await b.fires.claim('cron-2', due, input('cron-2', 3)), true, 'another node');
      assert.equal(await b.fires.claim('cron-1', due + 1000, input('cron-1', 4)), true, 'the next instant');
      const many = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          (n % 2 ? a : b).fires.claim('cron-1', due + 2000, input('cron-1', 10 + n)),
        ),
      );
      assert.equal(many.filter(Boolean).length, 1, 'twenty processes racing: one claim');
      assert.equal(await a.fires.last('cron-1'), due + 2000, 'the latest fired on schedule');
      assert.equal(await b.fires.claim('cron-1', due + 3000, input('cron-1', 40), true), true);
      assert.equal(
        await a.fires.last('cron-1'),
        due + 2000,
        'a missed time fired at start-up does not count',
      );
      assert.equal(await a.fires.last('cron-9'), undefined);
      // The claimed fire's input is pending until it is sent; the loser's input was never written.
      await a.fires.sent(first.id);
      if (engine.name === 'postgres') {
        assert.deepEqual(await b.inputs.claimPending('cron-1'), [], "a live process's fire is not taken");
        await new Promise((r) => setTimeout(r, 1600));
        const taken = await a.inputs.claimPending('cron-1');
        assert.ok(taken.length >= 2, "b's unfinished fires, taken over once b's lease ran out");
        assert.ok(
          taken.every((i) => i.source === 'cron-1'),
          'the inputs of the fires it claimed',
        );
      }
    });

    it('imports what version 0.1 kept in files, once, and renames the files', async () => {
      const store = await open(1);
      const dir = mkdtempSync(join(tmpdir(), 'imis-legacy-'));
      const pendingA = input('hook-1', 1);
      const settled = input('hook-1', 2);
      writeFileSync(
        join(dir, 'journal.jsonl'),
        [
          { op: 'accept', entry: pendingA },
          { op: 'accept', entry: settled },
          { op: 'settle', id: settled.id },
        ]
          .map((l) => JSON.stringify(l))
          .join('\n') + '\n{"op":"acc', // a torn last line
      );
      const oldRun = run({ startedAt: new Date(Date.now() - 1000).toISOString() });
      writeFileSync(join(dir, 'runs.jsonl'), JSON.stringify(oldRun) + '\n');
      mkdirSync(join(dir, 'cron'));
      writeFileSync(
        join(dir, 'cron', 'c1.json'),
        JSON.stringify({ enabled: false, configured: '0 * * * * ?|UTC' }),
      );
      mkdirSync(join(dir, 'change-in'));
      writeFileSync(join(dir, 'change-in', 'ch1.seen.json'), JSON.stringify([['evt-1', Date.now() - 1000]]));

      const counts = await importLegacyFiles(store, dir);
      assert.deepEqual(counts, { pendingInputs: 1, runs: 1, nodeStates: 1, seenIds: 1, exports: 0 });
      assert.deepEqual(
        (await store.inputs.claimPending('hook-1')).map((i) => i.id),
        [pendingA.id],
      );
      assert.deepEqual(await store.runs.get(oldRun.id), oldRun);
      assert.deepEqual(await store.nodeState.get('c1', 'cron'), {
        enabled: false,
        configured: '0 * * * * ?|UTC',
      });
      assert.equal(await store.seen.mark('change-in:ch1', 'evt-1', new Date(Date.now() + 1000)), false);
      assert.deepEqual(readdirSync(dir).sort(), [
        'change-in.imported-0.1',
        'cron.imported-0.1',
        'journal.jsonl.imported-0.1',
        'runs.jsonl.imported-0.1',
      ]);
      assert.deepEqual(await importLegacyFiles(store, dir), {
        pendingInputs: 0,
        runs: 0,
        nodeStates: 0,
        seenIds: 0,
        exports: 0,
      });
    });
  });
}

describe('SQLite runs search over many runs', function () {
  this.timeout(60_000);
  it('scans a bounded window per page, with a cursor to search on, and caps the counts', async () => {
    const store = new SqliteStore({ file: join(mkdtempSync(join(tmpdir(), 'imis-store-')), 'imis.db') });
    try {
      const base = Date.now() - 3_600_000;
      const runs = Array.from({ length: TEXT_WINDOW + 5000 }, (_, n) =>
        run({
          startedAt: new Date(base + n).toISOString(),
          input: { memberId: n === 0 ? 'RARE-1' : `M${n}` },
        }),
      );
      await Promise.all(runs.map((r) => store.runs.finish(r)));
      await store.flush();
      // The only match is the oldest run, beyond the first window: an empty page that says where to go on.
      const first = await store.runs.list({ text: 'rare-1' });
      assert.deepEqual(first.runs, []);
      assert.ok(first.next);
      const second = await store.runs.list({ text: 'rare-1', after: first.next });
      assert.deepEqual(
        second.runs.map((r) => r.id),
        [runs[0].id],
      );
      assert.equal(second.next, undefined);
      assert.deepEqual(await store.runs.count({}), {
        running: 0,
        ok: COUNT_CAP,
        failed: 0,
        unfinished: 0,
        capped: true,
      });
      assert.deepEqual(await store.runs.count({ text: 'rare-1' }), {
        running: 0,
        ok: 0,
        failed: 0,
        unfinished: 0,
        capped: true,
      });
    } finally {
      await store.close();
    }
  });
});

describe('SQLite store file', () => {
  it('is created readable by its owner only, in WAL mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imis-store-'));
    const store = await openStore({}, join(dir, 'imis-data'), {});
    await store.inputs.accept(input('s', 1));
    await store.close();
    const file = join(dir, 'imis-data', 'imis.db');
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'imis-data')).mode & 0o777, 0o700);
    const db = openFile(file, anyDriver());
    assert.deepEqual(sqlOn(db, 'PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
    db.close();
  });

  it('refuses a schema newer than it knows, with a message that says what to do', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'imis-store-')), 'imis.db');
    new SqliteStore({ file }).close();
    const db = openFile(file, anyDriver());
    sqlOn(db, 'INSERT INTO imis_schema (version, applied_at) VALUES (99, 0)');
    db.close();
    assert.throws(() => new SqliteStore({ file }), /schema is version 99.*upgrade/);
  });
});

/** An engine that runs on this Node (node:sqlite first). */
function anyDriver() {
  const usable = SQLITE_DRIVERS.find((d) => !d.unavailable);
  if (!usable) throw new Error('no SQLite engine runs on this Node');
  return usable.driver;
}

for (const [writer, reader] of [
  [SQLITE_DRIVERS[0], SQLITE_DRIVERS[1]],
  [SQLITE_DRIVERS[1], SQLITE_DRIVERS[0]],
]) {
  const skipped = writer.unavailable ?? reader.unavailable;
  const title = `SQLite store file written by ${writer.driver}, opened by ${reader.driver}`;
  describe(skipped ? `${title} — SKIPPED: ${skipped}` : title, function () {
    before(function () {
      if (skipped) this.skip();
    });

    it('holds the same inputs, runs, exports and node state', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'imis-store-')), 'imis.db');
      const first = new SqliteStore({ file, driver: writer.driver });
      assert.equal(first.db.driver, writer.driver);
      const pending = input('hook', 1);
      const done = input('hook', 2);
      await first.inputs.accept(pending);
      await first.inputs.accept(done);
      const finished = run({ id: done.id, startedAt: new Date().toISOString(), values: { member: 'M2' } });
      await first.runs.finish(finished);
      const body = Buffer.from([0, 1, 2, 254, 255]);
      await first.exports.put({
        keyHash: 'k',
        format: 'csv',
        body,
        etag: '"e"',
        lastModified: 'now',
        rows: 2,
      });
      await first.nodeState.set('n1', 'cursor', { at: 5 });
      await first.close();

      const second = new SqliteStore({ file, driver: reader.driver });
      try {
        assert.equal(second.db.driver, reader.driver);
        assert.deepEqual(
          (await second.inputs.claimPending('hook')).map((i) => i.id),
          [pending.id],
        );
        assert.deepEqual((await second.runs.get(done.id))?.values, { member: 'M2' });
        const stored = await second.exports.get('k');
        assert.ok(stored);
        const parts = await second.exports.parts('k', stored.bodyId, 0, 10);
        assert.ok(parts.every((part) => Buffer.isBuffer(part)));
        assert.deepEqual(Buffer.concat(parts), body);
        assert.deepEqual(await second.nodeState.get('n1', 'cursor'), { at: 5 });
      } finally {
        await second.close();
      }
    });
  });
}

after(() => server?.stop());
