// A trigger's Business key and Run values: rendered from its payload for each run, kept with the run
// (GET /imis/runs/<id>, found with ?key=), carried on msg.imis, changed by any node downstream; a
// template that does not compile stops the node (red status, an error naming the field), and one
// that fails when rendered fails that run on the trigger for a Catch node.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { SinonSpyCall } from 'sinon';
import { useEmulatedRed } from '../support/emulated.js';
import type { EmulatedRed } from '../support/emulated.js';
import { NODE_RED_PKG, helper, packageNodes, received, waitFor } from '../support/red.js';
import type { CaughtError, RunStartInfo } from '../support/red.js';
import { settledRun } from '../support/runs.js';
import type { ApiError, HookAnswer, RunStarted, RunSummary } from '../support/runs.js';

const redDir = dirname(require.resolve(`${NODE_RED_PKG}/package.json`));
const coreNodes = ['common/25-catch.js', 'function/15-change.js'].map((file) =>
  require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [redDir] })),
);

describe('Run business key and values from each trigger', function () {
  let env: EmulatedRed;
  useEmulatedRed((e) => (env = e));
  const token = randomBytes(24).toString('base64url');

  /** The iMIS server the flows' Insert Activity uses, and its credentials. */
  const server = () => ({ id: 'srv', type: 'imis-server', baseUrl: env.emulator.url, retries: 0 });
  const insert = (wires: string[]) => ({
    id: 'insert',
    z: 'tab',
    type: 'imis-insert-activity',
    server: 'srv',
    fields: { partyId: '{{ input.memberId }}', activityType: 'MEETING' },
    wires: [wires],
  });
  const credentials = { hook: { token }, srv: { username: 'MANAGER', password: 'manager' } };

  /** Loads `nodes` (on tab `tab`) with a helper sink `out` that records what reaches it. */
  const load = async (nodes: Record<string, unknown>[]) => {
    await helper.load(
      [...coreNodes, ...packageNodes()],
      [{ id: 'tab', type: 'tab' }, ...nodes, server(), { id: 'out', z: 'tab', type: 'helper' }],
      credentials,
    );
    return received<RunStartInfo>('out');
  };
  const post = async (body: unknown) => {
    const res = await fetch(`${env.base}/imis/hook/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as HookAnswer };
  };
  /** The run `id` (a webhook's answer) once it has ended, as the Runs API gives it. */
  const ended = (id: unknown) => settledRun(String(id));
  const runIdsFor = async (query: Record<string, string>) =>
    (await helper.request().get<RunSummary[]>('/imis/runs').query(query).expect(200)).body.map((r) => r.id);
  /** The messages of the errors node `id` reported (the helper spies on every node's error). */
  const errorsOf = (id: string): string[] => {
    const node = helper.getNode(id);
    return node.error
      .getCalls()
      .filter((call: SinonSpyCall) => call.thisValue === node)
      .map((call: SinonSpyCall) => String(call.args[0]?.message ?? call.args[0]));
  };
  const statusesOf = (id: string): { fill?: string; shape?: string; text?: string }[] => {
    const node = helper.getNode(id);
    return node.status
      .getCalls()
      .filter((call: SinonSpyCall) => call.thisValue === node)
      .map((call: SinonSpyCall) => call.args[0]);
  };

  const hook = (config: Record<string, unknown>, wires = ['insert']) => ({
    id: 'hook',
    z: 'tab',
    type: 'imis-webhook-in',
    name: 'check-in',
    ...config,
    wires: [wires],
  });

  it("keeps the webhook's business key and values with the run, and finds it by its key", async () => {
    const got = await load([
      hook({
        businessKey: '{{ input.memberId }}',
        runValues: [
          { name: 'eventCode', value: '{{ input.eventCode }}' },
          { name: 'missing', value: '{{ input.notThere }}' },
        ],
      }),
      insert(['out']),
    ]);
    const { status, body } = await post({ memberId: '12345', eventCode: 'ANNUAL26' });
    assert.equal(status, 200);
    const run = await ended(body.id);
    assert.equal(run.status, 'ok');
    assert.equal(run.businessKey, '12345');
    assert.deepEqual(run.values, { eventCode: 'ANNUAL26' }, 'an empty render is no value');
    assert.equal(got[0].imis.businessKey, '12345', 'msg.imis.businessKey');
    assert.deepEqual(got[0].imis.values, { eventCode: 'ANNUAL26' }, 'msg.imis.values');
    assert.equal(env.emulator.state.activities.length, 1);

    await ended((await post({ memberId: '67890', eventCode: 'OTHER' })).body.id);
    assert.deepEqual(await runIdsFor({ key: '12345' }), [body.id], 'the exact key');
  });

  // Needs the store's prefix search of business keys (RunRecord.businessKey: "searchable exactly
  // and by prefix"), built on its own branch.
  it('finds a run by a prefix of its business key', async () => {
    await load([hook({ businessKey: '{{ input.memberId }}' }), insert(['out'])]);
    const { body } = await post({ memberId: '12345' });
    await ended(body.id);
    await ended((await post({ memberId: '67890' })).body.id);
    assert.deepEqual(await runIdsFor({ key: '123' }), [body.id]);
  });

  it('takes the business key a change node downstream sets on msg.imis, and a value it adds', async () => {
    await load([
      hook({ businessKey: '{{ input.memberId }}' }, ['relabel']),
      {
        id: 'relabel',
        z: 'tab',
        type: 'change',
        rules: [
          { t: 'set', p: 'imis.businessKey', pt: 'msg', to: '"ORDER-" & payload.orderId', tot: 'jsonata' },
          { t: 'set', p: 'imis.values.stage', pt: 'msg', to: 'checked-in', tot: 'str' },
        ],
        wires: [['insert']],
      },
      insert(['out']),
    ]);
    const { body } = await post({ memberId: '12345', orderId: 'A-77' });
    const run = await ended(body.id);
    assert.equal(run.status, 'ok');
    assert.equal(run.businessKey, 'ORDER-A-77');
    assert.deepEqual(run.values, { stage: 'checked-in' });
    assert.deepEqual(await runIdsFor({ key: 'ORDER-A-77' }), [body.id]);
    assert.deepEqual(await runIdsFor({ key: '12345' }), [], 'the key the trigger gave is replaced');
  });

  it('labels a Manual run from its input (the dashboard’s input too)', async () => {
    await load([
      {
        id: 'manual',
        z: 'tab',
        type: 'imis-manual',
        input: '{"memberId": "12345"}',
        businessKey: 'member {{ input.memberId }}',
        runValues: [{ name: 'topic', value: '{{ msg.topic }}' }],
        wires: [['out']],
      },
    ]);
    const configured = (await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200))
      .body.id;
    const edited = (
      await helper
        .request()
        .post<RunStarted>('/imis/manual/manual')
        .send({ input: { memberId: '555' } })
        .expect(200)
    ).body.id;
    const first = await ended(configured);
    assert.equal(first.businessKey, 'member 12345');
    assert.deepEqual(first.values, { topic: 'manual' }, '`msg` is the message: its topic');
    assert.equal((await ended(edited)).businessKey, 'member 555');
  });

  it('labels a Cron run fired by its "trigger" control message', async () => {
    const got = await load([
      {
        id: 'cron',
        z: 'tab',
        type: 'imis-cron',
        name: 'nightly',
        expression: '0 0 3 * * ? *',
        timeZone: 'UTC',
        businessKey: 'nightly {{ input.trigger.cronExpression }}',
        runValues: [{ name: 'kind', value: 'scheduled' }],
        wires: [['out']],
      },
    ]);
    helper.getNode('cron').receive({ payload: 'trigger' });
    await waitFor(() => got.length === 1, 5000, 'the cron run');
    assert.equal(got[0].imis.businessKey, 'nightly 0 0 3 * * ? *');
    const run = await ended(got[0].imis.runId);
    assert.equal(run.businessKey, 'nightly 0 0 3 * * ? *');
    assert.deepEqual(run.values, { kind: 'scheduled' });
  });

  it('stops a node whose template does not compile: red status, an error naming the field, no crash', async () => {
    await load([
      hook({ businessKey: '{{ input.memberId ' }),
      {
        id: 'cron',
        z: 'tab',
        type: 'imis-cron',
        expression: '* * * * * ? *',
        runValues: [{ name: 'orderId', value: '{{ input | no_such_filter }}' }],
        wires: [['out']],
      },
      {
        id: 'manual',
        z: 'tab',
        type: 'imis-manual',
        runValues: [{ name: '', value: '{{ input.x }}' }],
        wires: [['out']],
      },
      insert(['out']),
    ]);
    assert.match(errorsOf('hook').join('\n'), /Run business key & values: .*"Business key"/);
    assert.match(errorsOf('cron').join('\n'), /Run business key & values: .*"Run value orderId"/);
    assert.match(errorsOf('manual').join('\n'), /has no name/);
    for (const id of ['hook', 'cron', 'manual'])
      assert.deepEqual(
        statusesOf(id).at(-1),
        { fill: 'red', shape: 'ring', text: 'invalid business key or values' },
        id,
      );
    // Node-RED goes on: the webhook's URL is not served, the manual node says why it cannot start.
    assert.equal((await post({ memberId: '12345' })).status, 401);
    const refused = await helper.request().post<ApiError>('/imis/manual/manual').send({}).expect(400);
    assert.match(refused.body.error, /business key or run values cannot work/);
    assert.equal((await helper.request().get<RunSummary[]>('/imis/runs').expect(200)).body.length, 0);
  });

  it('fails the run on the trigger, for a Catch node, when a template fails while rendered', async () => {
    await load([
      hook({ businessKey: "{{ input.memberId }}{% render 'no-such-snippet' %}" }),
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
      insert(['out']),
    ]);
    const caught = received<CaughtError>('caught');
    const { status, body } = await post({ memberId: '12345' });
    assert.equal(status, 200, 'accepted before the run starts');
    await waitFor(() => caught.length === 1, 5000, 'the Catch node');
    assert.equal(caught[0].error.source.id, 'hook');
    assert.match(caught[0].error.message, /Template for "Business key" failed/);
    const run = await ended(body.id);
    assert.equal(run.status, 'failed');
    assert.match(String(run.error), /Business key/);
    assert.equal(env.emulator.state.activities.length, 0, 'nothing ran further');
  });
});
