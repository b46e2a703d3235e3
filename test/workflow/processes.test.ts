import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PostgresStore } from '../../src/store/postgres.js';
import { WorkflowRuntime } from '../../src/workflow/index.js';
import type { WorkflowEvent } from '../../src/workflow/index.js';
import { quietWindow, waitFor } from '../support/wait.js';
import { requirePostgres, startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';
import { HOUR, orderLifecycle } from './fixtures.js';

const T0 = Date.parse('2026-03-02T09:00:00Z');
let server: TestPostgres | undefined;

/** What a listener got: kind, key, transition, trigger. */
const seen = (events: WorkflowEvent[]) => events.map((e) => [e.kind, e.key, e.transition, e.trigger]);

describe('Workflow events between two processes on one PostgreSQL store', function () {
  this.timeout(30_000);
  const clock = { now: T0 };
  let stores: PostgresStore[] = [];
  let runtimes: WorkflowRuntime[] = [];

  before(async function () {
    const bin = requirePostgres(this);
    if (bin && !server) server = await startPostgres(bin);
  });
  afterEach(async () => {
    for (const r of runtimes) r.stop();
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    stores = [];
    runtimes = [];
  });

  /** Two processes: a store and a runtime each, on one database, the order lifecycle deployed in both. */
  async function twoProcesses() {
    if (!server) throw new Error('no PostgreSQL server');
    const url = server.createDatabase(`p_${randomUUID().replace(/-/g, '')}`);
    stores = [await PostgresStore.open({ url }), await PostgresStore.open({ url })];
    runtimes = stores.map(
      (store) => new WorkflowRuntime(store, { now: () => clock.now, shared: true, maxSleepMs: 24 * HOUR }),
    );
    for (const runtime of runtimes) {
      runtime.register(orderLifecycle());
      await runtime.synced('ORDER');
      await runtime.start();
    }
    return runtimes;
  }

  it('hands a transition, a timeout and a deletion made in one process to the listeners in the other', async () => {
    clock.now = T0;
    const [a, b] = await twoProcesses();
    const got: Record<string, WorkflowEvent[]> = { a: [], b: [] };
    a.listen('ORDER', 'node-a', (e) => got.a.push(e));
    b.listen('ORDER', 'node-b', (e) => got.b.push(e));

    await a.fire('ORDER', { key: 'SO-1', trigger: 'webhook', runId: 'run-1' });
    await waitFor(() => got.b.length === 2, 5000, 'the creation and the transition in B');
    assert.deepEqual(seen(got.b), [
      ['created', 'SO-1', undefined, 'webhook'],
      ['transition', 'SO-1', 'SUBMIT', 'webhook'],
    ]);
    assert.deepEqual(
      [got.b[1].from, got.b[1].to, got.b[1].runId, got.b[1].instance.state],
      ['NEW', 'SUBMITTED', 'run-1', 'SUBMITTED'],
    );
    assert.deepEqual(b.instanceCounts('ORDER'), { SUBMITTED: 1 }, 'B counts it');

    // The timeout falls due; process A claims and fires it.
    clock.now = T0 + 49 * HOUR;
    await a.fireDue();
    await waitFor(() => got.b.length === 3, 5000, 'the timeout in B');
    assert.deepEqual(seen(got.b.slice(2)), [['transition', 'SO-1', 'EXPIRE', 'timeout']]);
    assert.equal(got.b[2].dueAt, T0 + 48 * HOUR);

    // The other way round: a person resets it in B; then A deletes it.
    await b.reset('ORDER', 'SO-1', 'SUBMITTED', 'ann');
    await waitFor(() => got.a.length === 4, 5000, 'the reset in A');
    assert.deepEqual(seen(got.a.slice(3)), [['reset', 'SO-1', undefined, 'reset']]);
    assert.equal(got.a[3].actor, 'ann');
    await a.remove('ORDER', 'SO-1');
    await waitFor(() => got.b.length === 5, 5000, 'the deletion in B');
    assert.equal(got.b[4].kind, 'deleted');
    assert.deepEqual(b.instanceCounts('ORDER'), {}, 'B counts it gone');
    assert.equal(got.a.length, 5, 'each process hears its own changes once');
  });

  it('runs each change once for a flow deployed in both processes: where the change was made', async () => {
    clock.now = T0;
    const [a, b] = await twoProcesses();
    const got: Record<string, string[]> = { a: [], b: [], onlyB: [] };
    // The same flow in both processes: one workflow events node, the same id.
    a.listen('ORDER', 'events-node', (e) => got.a.push(`${e.kind}:${e.key}`));
    b.listen('ORDER', 'events-node', (e) => got.b.push(`${e.kind}:${e.key}`));
    b.listen('ORDER', 'only-in-b', (e) => got.onlyB.push(`${e.kind}:${e.key}`));
    await a.fire('ORDER', { key: 'A-1', trigger: 'webhook' });
    await b.fire('ORDER', { key: 'B-1', trigger: 'webhook' });
    await waitFor(() => got.onlyB.length === 4, 5000, 'both changes in B');
    // Deliberate window: no change may be heard twice.
    await quietWindow(100);
    assert.deepEqual(got.a, ['created:A-1', 'transition:A-1']);
    assert.deepEqual(got.b, ['created:B-1', 'transition:B-1']);
    // A's change reaches B through the store, B's own at once: the two may come in either order,
    // each in its own order.
    const of = (key: string) => got.onlyB.filter((e) => e.endsWith(`:${key}`));
    assert.deepEqual(of('A-1'), ['created:A-1', 'transition:A-1']);
    assert.deepEqual(of('B-1'), ['created:B-1', 'transition:B-1']);
  });

  it('hears each change of the other process once, however often it was stopped and started', async () => {
    clock.now = T0;
    const [a, b] = await twoProcesses();
    b.stop();
    void b.start();
    b.stop();
    await b.start();
    const got: string[] = [];
    b.listen('ORDER', 'node-b', (e) => got.push(`${e.kind}:${e.key}`));
    await a.fire('ORDER', { key: 'SO-9', trigger: 'webhook' });
    await waitFor(() => got.length >= 2, 5000, 'the changes in B');
    // Deliberate window: no change may be heard twice.
    await quietWindow(100);
    assert.deepEqual(got, ['created:SO-9', 'transition:SO-9']);
  });
});

after(() => server?.stop());
