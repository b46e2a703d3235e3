import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  freshDataDir,
  helper,
  helperRuntime,
  packageNodes,
  startHelper,
  stopHelper,
  waitFor,
} from '../support/red.js';
import type { RunAnswer, RunStarted, RunSummary } from '../support/runs.js';

const token = randomBytes(24).toString('base64url');

/**
 * A finished run leaves the run tracker before its write to the store commits (group commit: a
 * turn of the event loop with SQLite, a round trip with PostgreSQL). The runs API must find it in
 * between too: a run that is neither "running" nor listed, or a 404 for it, made the Runs sidebar
 * and Re-run lose runs for that moment. Here the store's write is held until the test has looked.
 */
describe('Runs API while a finished run is being written', function () {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = freshDataDir();
    await startHelper(dataDir);
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'hook', z: 'tab', type: 'imis-webhook-in', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ],
      { hook: { token } },
    );
  });
  afterEach(stopHelper);

  it('lists the run and answers it by id, and Re-run finds it, until the store has it', async () => {
    const ctx = helperRuntime();
    const finishRun = ctx.store.runs.finish.bind(ctx.store.runs);
    let writing = 0;
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    ctx.store.runs.finish = async (run) => {
      writing++;
      await held;
      await finishRun(run);
      writing--;
    };
    helper.getNode('out').on('input', (_msg: unknown, _send: unknown, done: () => void) => done?.());
    const res = await fetch(`${helper.url()}/imis/hook/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"memberId":"101"}',
    });
    const { id } = await res.json();
    await waitFor(() => writing === 1, 2000, 'the write of the finished run');
    assert.equal(ctx.runs.get(id), undefined, 'the run has left the tracker');

    const one = await helper.request().get<RunAnswer>(`/imis/runs/${id}`).expect(200);
    assert.equal(one.body.status, 'ok');
    const list = await helper.request().get<RunSummary[]>('/imis/runs').query({ flow: 'tab' }).expect(200);
    assert.deepEqual(
      list.body.map((r) => [r.id, r.status]),
      [[id, 'ok']],
    );
    const filtered = await helper
      .request()
      .get<RunSummary[]>('/imis/runs')
      .query({ status: 'failed' })
      .expect(200);
    assert.deepEqual(filtered.body, [], 'filters apply to it');
    const rerun = await helper.request().post<RunStarted>(`/imis/runs/${id}/rerun`).expect(200);
    assert.ok(rerun.body.id);

    release();
    await waitFor(() => writing === 0, 3000, 'the writes');
    const stored = await helper.request().get<RunSummary[]>('/imis/runs').query({ flow: 'tab' }).expect(200);
    assert.deepEqual(stored.body.map((r) => r.id).sort(), [id, rerun.body.id].sort(), 'each run once');
  });
});
