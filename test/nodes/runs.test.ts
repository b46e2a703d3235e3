import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Emulator } from '../../src/emulator/server.js';
import { checkInFlow } from '../support/flows.js';
import { useEmulatedRed } from '../support/emulated.js';
import type { RunRecord } from '../../src/runs/tracker.js';
import { settledRun } from '../support/runs.js';
import type { RunAnswer, RunStarted, RunSummary } from '../support/runs.js';
import { helper, packageNodes, startHelper, stopHelper, waitFor } from '../support/red.js';

/** The Runs sidebar's admin API: runs per flow, each run's steps, and Re-run of a failed run. */
describe('Runs and Re-run', function () {
  let emulator: Emulator;
  let base: string;
  let dataDir: string;
  const token = randomBytes(24).toString('base64url');
  useEmulatedRed((env) => ({ emulator, base, dataDir } = env));

  const load = async () => {
    const { flow, credentials } = checkInFlow(emulator.url, token, ['out']);
    await helper.load(packageNodes(), [...flow, { id: 'out', z: 'tab', type: 'helper' }], credentials);
    helper.getNode('out').on('input', () => undefined); // a sink that completes its messages, as real nodes do
  };
  const post = (body: unknown) =>
    fetch(`${base}/imis/hook/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const runs = async (): Promise<RunSummary[]> =>
    (await helper.request().get<RunSummary[]>('/imis/runs').query({ flow: 'tab' }).expect(200)).body;

  it("lists a successful run green and a failed run red, with each step and iMIS's error", async () => {
    await load();
    const ok = (await (await post({ memberId: '12345' })).json()).id;
    const bad = (await (await post({ memberId: '99999' })).json()).id;
    await waitFor(() => emulator.state.activities.length === 1, 5000, 'the good insert');
    await settledRun(ok);
    await settledRun(bad);
    const list = await runs();
    const byId = Object.fromEntries(list.map((r) => [r.id, r]));
    assert.equal(byId[ok].status, 'ok');
    assert.equal(byId[bad].status, 'failed');
    const detail: RunRecord = (await helper.request().get<RunAnswer>(`/imis/runs/${bad}`).expect(200)).body;
    assert.equal(detail.trigger.name, 'check-in');
    assert.deepEqual(detail.input, { memberId: '99999' });
    const step = detail.steps.find((s) => s.id === 'insert');
    assert.equal(step?.outcome, 'failed');
    assert.match(String(step?.error), /99999/);
  });

  it('re-runs a failed run with the same input, from the trigger', async () => {
    await load();
    // iMIS refuses the first insert (say, a transient constraint); the re-run goes through.
    emulator.state.injectFault({
      method: 'POST',
      pathPrefix: '/api/Activity',
      status: 400,
      times: 1,
      body: { Message: 'transient' },
    });
    const failed = (await (await post({ memberId: '12345' })).json()).id;
    const run = await settledRun(failed);
    assert.equal(run.status, 'failed');
    const rerun = (await helper.request().post<RunStarted>(`/imis/runs/${failed}/rerun`).expect(200)).body;
    assert.ok(rerun.id && rerun.id !== failed);
    assert.equal(emulator.state.activities.length, 0);
    await waitFor(() => emulator.state.activities.length === 1, 5000, 'the re-run insert');
    const again = (await helper.request().get<RunAnswer>(`/imis/runs/${rerun.id}`).expect(200)).body;
    assert.equal(again.rerunOf, failed);
  });

  it('keeps the runs across a restart', async () => {
    await load();
    const id = (await (await post({ memberId: '12345' })).json()).id;
    await waitFor(() => emulator.state.activities.length === 1, 5000, 'the insert');
    await settledRun(id);
    await stopHelper();
    await startHelper(dataDir);
    await load();
    const run = (await helper.request().get<RunAnswer>(`/imis/runs/${id}`).expect(200)).body;
    assert.equal(run.status, 'ok');
  });
});
