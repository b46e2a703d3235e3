import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { waitFor } from '../support/red.js';
import { requirePostgres, startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';

let server: TestPostgres | undefined;

describe('Store messages between the processes sharing a PostgreSQL store', function () {
  this.timeout(30_000);
  let url: string;
  const opened: PostgresStore[] = [];
  const open = async () => {
    const store = await PostgresStore.open({ url });
    opened.push(store);
    return store;
  };

  before(async function () {
    const bin = requirePostgres(this);
    if (bin && !server) server = await startPostgres(bin);
  });
  beforeEach(() => {
    if (!server) throw new Error('no PostgreSQL server');
    url = server.createDatabase(`m_${randomUUID().replace(/-/g, '')}`);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
  });

  it("delivers one process's messages to the others, in the order sent, and not back to itself", async () => {
    const [a, b, c] = [await open(), await open(), await open()];
    const got: Record<string, string[]> = { a: [], b: [], c: [] };
    await a.messages.subscribe('imis_test', (m) => got.a.push(m));
    await b.messages.subscribe('imis_test', (m) => got.b.push(m));
    const stopC = await c.messages.subscribe('imis_test', (m) => got.c.push(m));
    await b.messages.subscribe('imis_other', (m) => got.b.push(`other:${m}`));
    await Promise.all(Array.from({ length: 50 }, (_, i) => a.messages.publish('imis_test', `m${i}`)));
    await a.messages.publish('imis_other', 'x');
    const sent = Array.from({ length: 50 }, (_, i) => `m${i}`);
    await waitFor(() => got.b.length === 51 && got.c.length === 50, 5000, 'the messages');
    assert.deepEqual(got.b, [...sent, 'other:x']);
    assert.deepEqual(got.c, sent);
    assert.deepEqual(got.a, [], 'not to the sender');

    stopC();
    await b.messages.publish('imis_test', 'after');
    await waitFor(() => got.a.length === 1, 5000, 'the reply');
    assert.deepEqual(got.a, ['after']);
    assert.deepEqual(got.c.length, 50, 'a stopped subscription hears nothing more');
  });

  it('refuses a message PostgreSQL cannot carry, and a channel name it cannot listen to', async () => {
    const a = await open();
    await assert.rejects(a.messages.publish('imis_test', 'x'.repeat(8000)), /too long for PostgreSQL/);
    await assert.rejects(
      a.messages.subscribe('Bad channel; DROP', () => undefined),
      /Not a channel name/,
    );
    await a.messages.publish('imis_test', 'still fine');
  });

  it('listens again after losing its connection, and says so', async () => {
    const [a, b] = [await open(), await open()];
    const got: string[] = [];
    const errors: Error[] = [];
    await b.messages.subscribe(
      'imis_test',
      (m) => got.push(m),
      (err) => errors.push(err),
    );
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows } = await admin.query(
        `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%'`,
      );
      assert.equal(rows.length, 1, 'one listening connection');
    } finally {
      await admin.end();
    }
    await waitFor(() => errors.length > 0, 5000, 'the lost connection reported');
    // Listening again within a second or so: keep sending until a message comes through.
    for (let i = 0; i < 40 && got.length === 0; i++) {
      await a.messages.publish('imis_test', `after-${i}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(got.length > 0, 'messages are received again');
  });
});

describe('Store messages with the SQLite store (one process)', () => {
  it('has no other process to tell: publishing resolves, subscribing hears nothing', async () => {
    const store = new SqliteStore({ file: ':memory:' });
    const got: string[] = [];
    const stop = await store.messages.subscribe('imis_test', (m) => got.push(m));
    await store.messages.publish('imis_test', 'x');
    stop();
    assert.deepEqual(got, []);
    await store.close();
  });
});

after(() => server?.stop());
