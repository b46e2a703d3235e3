import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store, WorkflowChange, WorkflowInstance } from '../../src/store/index.js';
import { WorkflowConflict } from '../../src/store/index.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { MIGRATIONS } from '../../src/store/schema.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { requirePostgres, startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';
import { SQLITE_DRIVERS, driverTitle, openFile, sqlOn } from '../support/sqlite.js';

const T0 = Date.parse('2026-03-02T09:00:00Z');

function instance(key: string, over: Partial<WorkflowInstance> = {}): WorkflowInstance {
  return { workflow: 'ORDER', key, state: 'NEW', since: T0, createdAt: T0, version: 1, ...over };
}

function create(i: WorkflowInstance): WorkflowChange {
  return {
    instance: i,
    expectedVersion: 0,
    history: [
      { workflow: i.workflow, key: i.key, at: i.since, kind: 'created', to: i.state, trigger: 'webhook' },
    ],
  };
}

function move(
  i: WorkflowInstance,
  to: string,
  at: number,
  over: Partial<WorkflowInstance> = {},
): WorkflowChange {
  return {
    instance: {
      ...i,
      state: to,
      since: at,
      lastTransition: `TO_${to}`,
      lastTrigger: 'manual',
      version: i.version + 1,
      ...over,
    },
    expectedVersion: i.version,
    history: [
      {
        workflow: i.workflow,
        key: i.key,
        at,
        kind: 'transition',
        from: i.state,
        to,
        transition: `TO_${to}`,
        trigger: 'manual',
        actor: 'ann',
        runId: 'r1',
      },
    ],
  };
}

interface Engine {
  name: 'sqlite' | 'postgres';
  title: string;
  /** Why this engine cannot run on this Node (undefined: it can). */
  unavailable?: string;
  fresh(): Promise<() => Promise<Store>>;
}

let server: TestPostgres | undefined;
const engines: Engine[] = [
  ...SQLITE_DRIVERS.map((d): Engine => ({
    name: 'sqlite',
    title: driverTitle('sqlite', d),
    unavailable: d.unavailable,
    async fresh() {
      const file = join(mkdtempSync(join(tmpdir(), 'imis-wf-store-')), 'imis.db');
      return async () => new SqliteStore({ file, driver: d.driver });
    },
  })),
  {
    name: 'postgres',
    title: 'postgres',
    async fresh() {
      if (!server) throw new Error('no PostgreSQL server');
      const url = server.createDatabase(`w_${randomUUID().replace(/-/g, '')}`);
      return () => PostgresStore.open({ url });
    },
  },
];

for (const engine of engines) {
  describe(`Store contract, workflow instances, on ${engine.title}`, function () {
    this.timeout(60_000);
    const opened: Store[] = [];
    let openStore: () => Promise<Store>;
    const open = async () => {
      const s = await openStore();
      opened.push(s);
      return s;
    };

    before(async function () {
      if (engine.unavailable) this.skip();
      if (engine.name === 'postgres' && !server) {
        const bin = requirePostgres(this);
        if (bin) server = await startPostgres(bin);
      }
    });
    beforeEach(async () => {
      openStore = await engine.fresh();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
    });

    it('writes an instance with its history, and refuses a change made from a stale read', async () => {
      const store = await open();
      const a = instance('SO-1', { dueAt: T0 + 1000, lastTrigger: 'webhook' });
      await store.workflows.writeInstance(create(a));
      assert.deepEqual(await store.workflows.getInstance('ORDER', 'SO-1'), a);
      await assert.rejects(store.workflows.writeInstance(create(a)), WorkflowConflict, 'created twice');
      const moved = move(a, 'SUBMITTED', T0 + 10);
      await store.workflows.writeInstance(moved);
      await assert.rejects(
        store.workflows.writeInstance(move(a, 'FAILED', T0 + 20)),
        WorkflowConflict,
        'stale version',
      );
      const now = await store.workflows.getInstance('ORDER', 'SO-1');
      assert.deepEqual(now, { ...moved.instance });
      assert.deepEqual(
        (await store.workflows.instanceHistory('ORDER', 'SO-1')).map((h) => [
          h.kind,
          h.from,
          h.to,
          h.transition,
          h.actor,
          h.runId,
        ]),
        [
          ['created', undefined, 'NEW', undefined, undefined, undefined],
          ['transition', 'NEW', 'SUBMITTED', 'TO_SUBMITTED', 'ann', 'r1'],
        ],
      );
      assert.equal(await store.workflows.getInstance('ORDER', 'nope'), undefined);
    });

    it('commits hundreds of concurrent changes, grouped, none lost, conflicts singled out', async () => {
      const store = await open();
      const all = Array.from({ length: 400 }, (_, n) => instance(`K${n}`));
      await Promise.all(all.map((i) => store.workflows.writeInstance(create(i))));
      const results = await Promise.allSettled(
        all.map((i, n) =>
          store.workflows.writeInstance(n % 50 === 0 ? create(i) : move(i, 'SUBMITTED', T0 + n)),
        ),
      );
      assert.equal(results.filter((r) => r.status === 'rejected').length, 8, 'the 8 duplicate creates');
      assert.deepEqual(await store.workflows.countInstances('ORDER'), { NEW: 8, SUBMITTED: 392 });
    });

    it('pages instances longest in state first, filtered by state, time in state and flags', async () => {
      const store = await open();
      for (let n = 0; n < 30; n++) {
        await store.workflows.writeInstance(
          create(
            instance(`K${String(n).padStart(2, '0')}`, {
              state: n % 3 ? 'NEW' : 'SUBMITTED',
              since: T0 + (n % 10) * 1000,
            }),
          ),
        );
      }
      await store.workflows.writeInstance(create(instance('OTHER', { workflow: 'INVOICE' })));
      const page1 = await store.workflows.listInstances({ workflow: 'ORDER', limit: 12 });
      assert.equal(page1.instances.length, 12);
      assert.ok(page1.next);
      const page2 = await store.workflows.listInstances({ workflow: 'ORDER', limit: 12, after: page1.next });
      const page3 = await store.workflows.listInstances({ workflow: 'ORDER', limit: 12, after: page2.next });
      assert.equal(page3.next, undefined);
      const order = [...page1.instances, ...page2.instances, ...page3.instances].map((i) => [i.since, i.key]);
      assert.equal(order.length, 30);
      assert.deepEqual(
        order,
        [...order].sort(
          (a, b) => (a[0] as number) - (b[0] as number) || String(a[1]).localeCompare(String(b[1])),
        ),
      );
      const submitted = await store.workflows.listInstances({ workflow: 'ORDER', state: 'SUBMITTED' });
      assert.deepEqual(
        submitted.instances.map((i) => i.key),
        ['K00', 'K21', 'K12', 'K03', 'K24', 'K15', 'K06', 'K27', 'K18', 'K09'],
      );
      const window = await store.workflows.listInstances({
        workflow: 'ORDER',
        state: 'NEW',
        sinceFrom: T0 + 2000,
        sinceTo: T0 + 4000,
      });
      assert.deepEqual(
        window.instances.map((i) => i.key),
        ['K02', 'K22', 'K13', 'K23'],
      );
      assert.deepEqual(await store.workflows.countInstances('ORDER'), { NEW: 20, SUBMITTED: 10 });
      assert.deepEqual(await store.workflows.countInstances('INVOICE'), { NEW: 1 });
      assert.deepEqual(await store.workflows.syncWorkflow('ORDER', ['NEW', 'CONFIRMED'], {}), {
        SUBMITTED: 10,
      });
      const flagged = await store.workflows.listInstances({ workflow: 'ORDER', flagged: true, limit: 3 });
      assert.deepEqual(
        flagged.instances.map((i) => [i.key, i.flags]),
        [
          ['K00', ['state-missing']],
          ['K21', ['state-missing']],
          ['K12', ['state-missing']],
        ],
      );
      assert.deepEqual(await store.workflows.syncWorkflow('ORDER', ['NEW', 'SUBMITTED'], {}), {});
      assert.equal((await store.workflows.getInstance('ORDER', 'K00'))?.flags, undefined);
    });

    it('moves due times of a state whose timeout changed, from when each instance entered it', async () => {
      const store = await open();
      await store.workflows.writeInstance(
        create(instance('A', { state: 'SUBMITTED', since: T0, dueAt: T0 + 5 })),
      );
      await store.workflows.writeInstance(create(instance('B', { state: 'SUBMITTED', since: T0 + 100 })));
      await store.workflows.writeInstance(create(instance('C', { state: 'NEW', since: T0, dueAt: T0 + 7 })));
      await store.workflows.syncWorkflow('ORDER', ['NEW', 'SUBMITTED'], { SUBMITTED: 3600, NEW: null });
      assert.deepEqual(
        await Promise.all(
          ['A', 'B', 'C'].map(async (k) => (await store.workflows.getInstance('ORDER', k))?.dueAt),
        ),
        [T0 + 3600, T0 + 3700, undefined],
      );
      assert.equal(await store.workflows.nextDueAt(['ORDER']), T0 + 3600);
      assert.equal(await store.workflows.nextDueAt(['INVOICE']), undefined);
    });

    it('hands out due instances oldest first, writing what the decision says in one transaction', async () => {
      const store = await open();
      for (let n = 0; n < 6; n++)
        await store.workflows.writeInstance(
          create(instance(`D${n}`, { state: 'SUBMITTED', dueAt: T0 + (6 - n) * 10 })),
        );
      await store.workflows.writeInstance(
        create(instance('LATER', { state: 'SUBMITTED', dueAt: T0 + 1000 })),
      );
      await store.workflows.writeInstance(create(instance('ELSEWHERE', { workflow: 'INVOICE', dueAt: T0 })));
      const seen: string[] = [];
      const written = await store.workflows.takeDueTimeouts(['ORDER'], T0 + 60, 4, (i) => {
        seen.push(i.key);
        return i.key === 'D4'
          ? { clear: true }
          : { change: move(i, 'FAILED', T0 + 60, { dueAt: undefined, lastTrigger: 'timeout' }) };
      });
      assert.deepEqual(seen, ['D5', 'D4', 'D3', 'D2']);
      assert.deepEqual(
        written.map((c) => c.instance.key),
        ['D5', 'D3', 'D2'],
      );
      assert.equal((await store.workflows.getInstance('ORDER', 'D5'))?.state, 'FAILED');
      const cleared = await store.workflows.getInstance('ORDER', 'D4');
      assert.deepEqual([cleared?.state, cleared?.dueAt], ['SUBMITTED', undefined]);
      assert.equal((await store.workflows.instanceHistory('ORDER', 'D5')).at(-1)?.to, 'FAILED');
      const rest = await store.workflows.takeDueTimeouts(['ORDER'], T0 + 60, 10, (i) => ({
        change: move(i, 'FAILED', T0 + 60, { dueAt: undefined }),
      }));
      assert.deepEqual(
        rest.map((c) => c.instance.key),
        ['D1', 'D0'],
      );
      assert.deepEqual(
        await store.workflows.takeDueTimeouts(['ORDER'], T0 + 60, 10, () => ({ clear: true })),
        [],
      );
      assert.equal(await store.workflows.nextDueAt(['ORDER']), T0 + 1000);
      assert.equal(await store.workflows.nextDueAt(['ORDER', 'INVOICE']), T0);
    });

    it('deletes an instance and its history', async () => {
      const store = await open();
      const a = instance('A');
      await store.workflows.writeInstance(create(a));
      await store.workflows.writeInstance(move(a, 'SUBMITTED', T0 + 1));
      assert.equal((await store.workflows.deleteInstance('ORDER', 'A'))?.state, 'SUBMITTED');
      assert.equal(await store.workflows.getInstance('ORDER', 'A'), undefined);
      assert.deepEqual(await store.workflows.instanceHistory('ORDER', 'A'), []);
      assert.equal(await store.workflows.deleteInstance('ORDER', 'A'), undefined);
    });

    it('prunes final instances that entered their state before the cut-off, with their history, in batches', async () => {
      const store = await open();
      const day = 24 * 60 * 60 * 1000;
      for (let n = 0; n < 5; n++) {
        const old = instance(`OLD${n}`);
        await store.workflows.writeInstance(create(old));
        await store.workflows.writeInstance(move(old, n % 2 ? 'CONFIRMED' : 'CANCELLED', T0 + n));
      }
      const recent = instance('RECENT');
      await store.workflows.writeInstance(create(recent));
      await store.workflows.writeInstance(move(recent, 'CONFIRMED', T0 + 40 * day));
      const active = instance('ACTIVE');
      await store.workflows.writeInstance(create(active));
      await store.workflows.writeInstance(move(active, 'SUBMITTED', T0));
      await store.workflows.writeInstance(
        create(instance('ELSEWHERE', { workflow: 'INVOICE', state: 'CONFIRMED' })),
      );
      const finals = ['CONFIRMED', 'CANCELLED'];
      const cutoff = T0 + 30 * day;
      assert.equal(await store.workflows.pruneInstances('ORDER', finals, cutoff, 3), 3, 'a batch at most');
      assert.equal(await store.workflows.pruneInstances('ORDER', finals, cutoff, 3), 2);
      assert.equal(await store.workflows.pruneInstances('ORDER', finals, cutoff, 3), 0);
      assert.equal(
        await store.workflows.pruneInstances('ORDER', [], cutoff, 3),
        0,
        'no final state: nothing',
      );
      assert.deepEqual(await store.workflows.countInstances('ORDER'), { CONFIRMED: 1, SUBMITTED: 1 });
      assert.equal(await store.workflows.getInstance('ORDER', 'OLD1'), undefined);
      assert.deepEqual(await store.workflows.instanceHistory('ORDER', 'OLD1'), [], 'history pruned too');
      assert.equal(
        (await store.workflows.instanceHistory('ORDER', 'ACTIVE')).length,
        2,
        'active history kept',
      );
      assert.equal(
        (await store.workflows.getInstance('INVOICE', 'ELSEWHERE'))?.state,
        'CONFIRMED',
        'other workflows untouched',
      );
    });

    it('keeps instances across a reopen (another process, a restart)', async () => {
      const first = await open();
      await first.workflows.writeInstance(create(instance('A', { dueAt: T0 })));
      await first.close();
      const second = await open();
      assert.equal((await second.workflows.getInstance('ORDER', 'A'))?.dueAt, T0);
    });

    if (engine.name === 'postgres') {
      it('never gives the same due instance to two processes taking them at once', async () => {
        const [a, b] = [await open(), await open()];
        const n = 300;
        await Promise.all(
          Array.from({ length: n }, (_, i) =>
            a.workflows.writeInstance(create(instance(`P${i}`, { state: 'SUBMITTED', dueAt: T0 + i }))),
          ),
        );
        const fired: string[] = [];
        const take = async (store: Store) => {
          for (;;) {
            const got = await store.workflows.takeDueTimeouts(['ORDER'], T0 + n, 25, (i) => {
              return { change: move(i, 'FAILED', T0 + n, { dueAt: undefined }) };
            });
            if (got.length === 0) return;
            fired.push(...got.map((c) => c.instance.key));
          }
        };
        await Promise.all([take(a), take(b), take(a), take(b)]);
        assert.equal(fired.length, n);
        assert.equal(new Set(fired).size, n, 'each fired once');
        assert.deepEqual(await a.workflows.countInstances('ORDER'), { FAILED: n });
      });
    }
  });
}

for (const d of SQLITE_DRIVERS) {
  describe(
    driverTitle('Store schema (workflow tables, version 3) on an existing version 1 SQLite file', d),
    () => {
      before(function () {
        if (d.unavailable) this.skip();
      });

      it('adds the workflow tables and keeps what was there', async () => {
        const file = join(mkdtempSync(join(tmpdir(), 'imis-wf-migrate-')), 'imis.db');
        const db = openFile(file, d.driver);
        db.exec(`CREATE TABLE imis_schema (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`);
        db.exec(MIGRATIONS[0].sqlite);
        db.exec('INSERT INTO imis_schema VALUES (1, 0)');
        db.exec(`INSERT INTO imis_node_state VALUES ('cron-1', 'cron', '{"enabled":false}', 0)`);
        db.close();
        const store = new SqliteStore({ file, driver: d.driver });
        assert.deepEqual(await store.nodeState.get('cron-1', 'cron'), { enabled: false });
        await store.workflows.writeInstance(create(instance('A')));
        assert.equal((await store.workflows.getInstance('ORDER', 'A'))?.state, 'NEW');
        await store.close();
        const check = openFile(file, d.driver);
        assert.deepEqual(
          sqlOn(check, 'SELECT version FROM imis_schema ORDER BY version'),
          MIGRATIONS.map((m) => ({ version: m.version })),
        );
        assert.ok(MIGRATIONS.some((m) => m.version === 3 && /imis_wf_instances/.test(m.sqlite)));
        check.close();
      });
    },
  );
}

after(() => server?.stop());
