import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/server.js';
import type { RunRecord } from '../../src/runs/tracker.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { checkInFlow } from '../support/flows.js';
import { freshDataDir, helper, packageNodes, startHelper, stopHelper, waitFor } from '../support/red.js';

// Recent enough for the default retention (runs older than it are pruned at start-up).
const BASE = Date.now() - 2 * 24 * 60 * 60 * 1000;

function storedRun(n: number, over: Partial<RunRecord> = {}): RunRecord {
  const startedAt = new Date(BASE + n * 60_000).toISOString();
  return {
    id: randomUUID(),
    flowId: 'tab',
    trigger: { id: 'hook', type: 'imis-webhook-in', name: 'check-in' },
    status: 'ok',
    startedAt,
    finishedAt: new Date(BASE + n * 60_000 + 250 + n).toISOString(),
    steps: [{ id: 'insert', type: 'imis-insert-activity', name: 'stepname-only', startedAt, outcome: 'ok' }],
    input: { memberId: String(10_000 + n) },
    businessKey: `M${10_000 + n}`,
    ...over,
  };
}

/**
 * The Runs dashboard's admin API over a store holding earlier runs: paging through all of them,
 * filters by status, counts, search by business key and by text, the re-run chain, bulk re-run of
 * the failed runs a filter selects, and the comms event of each run that settles.
 */
describe('Runs dashboard API', function () {
  let emulator: Emulator;
  let dataDir: string;
  const token = randomBytes(24).toString('base64url');
  const ok = Array.from({ length: 240 }, (_, n) => storedRun(n));
  // Three runs that failed on a transient error for the same member: bulk re-run material.
  const failed = [250, 251, 252].map((n) =>
    storedRun(n, {
      status: 'failed',
      error: 'iMIS answered 503: transient outage',
      input: { memberId: '12345', note: `needle-${n}` },
      businessKey: 'M12345',
    }),
  );
  const unfinished = storedRun(253, { status: 'unfinished', finishedAt: undefined });
  // Failed in another flow, by a trigger no longer deployed.
  const elsewhere = storedRun(254, {
    flowId: 'tab2',
    trigger: { id: 'gone', type: 'imis-webhook-in' },
    status: 'failed',
    error: 'other',
  });
  const all = [...ok, ...failed, unfinished, elsewhere];

  before(async () => {
    emulator = await startEmulator({ port: 0 });
  });
  after(() => emulator.close());
  beforeEach(async () => {
    emulator.state.reset();
    dataDir = freshDataDir();
    const store = new SqliteStore({ file: join(dataDir, 'imis.db') });
    for (const run of all) await store.finishRun(run);
    await store.close();
    await startHelper(dataDir);
    const { flow, credentials } = checkInFlow(emulator.url, token);
    await helper.load(packageNodes(), flow, credentials);
  });
  afterEach(stopHelper);

  const get = async (path: string, query: Record<string, string | number> = {}) =>
    helper.request().get(path).query(query);
  const ids = (list: { id: string }[]) => list.map((r) => r.id);
  const newestFirst = (runs: RunRecord[]) => ids([...runs].reverse());

  it('pages through every stored run, newest first, each with its duration', async () => {
    const seen: any[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const res = await get('/imis/runs', { limit: 100, ...(after ? { after } : {}) });
      assert.equal(res.status, 200);
      seen.push(...res.body);
      after = res.headers['x-next-page'];
      pages++;
    } while (after);
    assert.equal(pages, 3);
    assert.deepEqual(ids(seen), newestFirst(all));
    const first = seen.find((r) => r.id === ok[7].id);
    assert.equal(first.durationMs, 257);
    assert.equal(seen.find((r) => r.id === unfinished.id).durationMs, undefined);
  });

  it('filters by status (succeeded, failed, unfinished) and refuses an unknown one', async () => {
    const succeeded = (await get('/imis/runs', { status: 'succeeded', limit: 1000 })).body;
    assert.equal(succeeded.length, 240);
    assert.ok(succeeded.every((r: any) => r.status === 'ok'));
    assert.deepEqual(
      ids((await get('/imis/runs', { status: 'failed' })).body),
      newestFirst([...failed, elsewhere]),
    );
    assert.deepEqual(ids((await get('/imis/runs', { status: 'unfinished' })).body), [unfinished.id]);
    const bad = await get('/imis/runs', { status: 'green' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /Unknown status "green"/);
    assert.equal((await get('/imis/runs', { since: 'yesterday-ish' })).status, 400);
  });

  it('counts the runs of each status for the filter', async () => {
    assert.deepEqual((await get('/imis/runs/counts', { flow: 'tab' })).body, {
      succeeded: 240,
      failed: 3,
      running: 0,
      unfinished: 1,
      capped: false,
    });
    // The status filter itself does not narrow the counts; the other filters do.
    assert.equal((await get('/imis/runs/counts', { status: 'succeeded' })).body.failed, 4);
    assert.deepEqual((await get('/imis/runs/counts', { key: 'M12345' })).body, {
      succeeded: 0,
      failed: 3,
      running: 0,
      unfinished: 0,
      capped: false,
    });
  });

  it('searches by business key and by text in the input or the error, not in step names', async () => {
    assert.deepEqual(ids((await get('/imis/runs', { key: 'M12345' })).body), newestFirst(failed));
    assert.deepEqual(ids((await get('/imis/runs', { q: 'NEEDLE-251' })).body), [failed[1].id]);
    assert.deepEqual(ids((await get('/imis/runs', { q: 'transient outage' })).body), newestFirst(failed));
    assert.deepEqual((await get('/imis/runs', { q: 'stepname-only' })).body, []);
    // LIKE's wildcards are taken literally.
    assert.deepEqual((await get('/imis/runs', { q: 'needle_25%' })).body, []);
    assert.deepEqual(ids((await get('/imis/runs', { q: '10007', flow: 'tab' })).body), [ok[7].id]);
  });

  it('re-runs every failed run the filter selects, once, each linked to its original', async () => {
    const events: any[] = [];
    const listener = (event: any) => event.topic === 'imis/runs' && events.push(event.data);
    helper._events.on('comms', listener);
    try {
      const refused = await helper.request().post('/imis/runs/rerun').send({ flow: 'tab' });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error, /failed runs only/);
      const dry = await helper
        .request()
        .post('/imis/runs/rerun')
        .send({ flow: 'tab', status: 'failed', dryRun: true });
      assert.deepEqual(dry.body, { count: 3 });
      assert.equal(emulator.state.activities.length, 0, 'a dry run re-runs nothing');

      const res = await helper.request().post('/imis/runs/rerun').send({ flow: 'tab', status: 'failed' });
      assert.equal(res.status, 200);
      assert.equal(res.body.count, 3);
      assert.deepEqual(res.body.skipped, []);
      assert.deepEqual(
        res.body.started.map((s: any) => s.rerunOf),
        failed.map((r) => r.id),
      );
      await waitFor(() => emulator.state.activities.length === 3, 5000, 'three re-run inserts');
      const started = res.body.started.map((s: any) => s.id);
      await waitFor(
        () => started.every((id: string) => events.some((e) => e.id === id)),
        5000,
        'comms events',
      );
      for (const id of started) {
        const event = events.find((e) => e.id === id);
        assert.equal(event.status, 'ok');
        assert.equal(event.flowId, 'tab');
      }

      for (const [i, original] of failed.entries()) {
        const detail = (await get(`/imis/runs/${original.id}`)).body;
        assert.deepEqual(detail.reruns, [started[i]]);
        const rerun = (await get(`/imis/runs/${started[i]}`)).body;
        assert.equal(rerun.rerunOf, original.id);
        assert.ok(rerun.durationMs >= 0);
      }
      // Already re-run: a second bulk re-run leaves them alone.
      const again = await helper
        .request()
        .post('/imis/runs/rerun?dryRun=true')
        .send({ flow: 'tab', status: 'failed' });
      assert.deepEqual(again.body, { count: 0 });
      // The failed run of a trigger no longer deployed is reported, not re-run.
      const gone = await helper.request().post('/imis/runs/rerun').send({ status: 'failed' });
      assert.deepEqual(gone.body, {
        count: 1,
        started: [],
        skipped: [{ id: elsewhere.id, error: 'The node that started this run is not deployed any more' }],
      });
    } finally {
      helper._events.removeListener('comms', listener);
    }
  });

  it('serves the full-page view and the dashboard script it shares with the sidebar', async () => {
    const page = await get('/imis/runs-view');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /text\/html/);
    assert.match(page.text, /runs-view\/dashboard\.js/);
    assert.match(page.text, /"count-failed":"__n__ failed"/);
    const script = await get('/imis/runs-view/dashboard.js');
    assert.equal(script.status, 200);
    assert.match(script.headers['content-type'], /javascript/);
    assert.match(script.text, /window\.imisRunsDashboard = /);
  });
});
