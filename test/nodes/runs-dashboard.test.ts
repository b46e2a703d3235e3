// The Runs dashboard's admin API over runs that flows made: a Manual trigger started with different
// inputs, a change node that sets each run's business key and values (msg.imis), a node that holds
// a message until the test lets it go (a run in flight), and Insert Activity against the emulator
// (iMIS failing when a test says so). Paging and filtering the stored runs alone is the store's
// concern (test/store/contract.test.ts).
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import { NODE_RED_PKG, helper, packageNodes, waitFor } from '../support/red.js';
import type { CommsEvent, TestMessage } from '../support/red.js';
import { settledRun } from '../support/runs.js';
import type { ApiError, RunAnswer, RunCountsAnswer, RunStarted, RunSummary } from '../support/runs.js';

/** A message at the gate: its input says whether to hold it. */
type GateMessage = TestMessage<{ payload: { hold?: boolean } }>;

const redDir = dirname(require.resolve(`${NODE_RED_PKG}/package.json`));
const change = require(require.resolve('@node-red/nodes/core/function/15-change.js', { paths: [redDir] }));

/** What POST /imis/runs/rerun answers (runs-api.ts): the runs it started and those it could not. */
interface BulkRerun {
  count: number;
  started: RunSummary[];
  skipped: { id: string; error: string }[];
}

/** A deployed Manual trigger as GET /imis/manual lists it (imis-manual.ts). */
interface ManualTrigger {
  id: string;
  flowId: string;
  name: string;
  input: string;
}

/** What a run of the test flow is given: the member to check in, its labels, whether to hold it. */
interface Input {
  memberId: string;
  key?: string;
  values?: Record<string, string>;
  hold?: boolean;
  note?: string;
}

describe('Runs dashboard API', function () {
  let emulator: Emulator;
  useEmulatedRed((env) => ({ emulator } = env));

  /** Messages the gate holds (runs in flight), each with what lets it go on. */
  let held: { msg: GateMessage; release: () => void }[] = [];

  const flows = (withOther = true) => [
    { id: 'tab', type: 'tab', label: 'check-in' },
    {
      id: 'man',
      z: 'tab',
      type: 'imis-manual',
      name: 'by hand',
      input: '{"memberId":"12345"}',
      wires: [['label']],
    },
    {
      id: 'label',
      z: 'tab',
      type: 'change',
      name: 'business key and values',
      rules: [
        { t: 'set', p: 'imis.businessKey', pt: 'msg', to: 'payload.key', tot: 'msg' },
        { t: 'set', p: 'imis.values', pt: 'msg', to: 'payload.values', tot: 'msg' },
      ],
      wires: [['gate']],
    },
    { id: 'gate', z: 'tab', type: 'helper', name: 'approval', wires: [['insert']] },
    {
      id: 'insert',
      z: 'tab',
      type: 'imis-insert-activity',
      name: 'attendance',
      server: 'srv',
      fields: { partyId: '{{ input.memberId }}', activityType: 'MEETING' },
      wires: [['out']],
    },
    { id: 'out', z: 'tab', type: 'helper' },
    ...(withOther
      ? [
          { id: 'tab2', type: 'tab', label: 'other' },
          {
            id: 'man2',
            z: 'tab2',
            type: 'imis-manual',
            name: 'elsewhere',
            input: '{}',
            wires: [['insert2']],
          },
          {
            id: 'insert2',
            z: 'tab2',
            type: 'imis-insert-activity',
            server: 'srv',
            fields: { partyId: '{{ input.memberId }}', activityType: 'MEETING' },
            wires: [[]],
          },
        ]
      : []),
    { id: 'srv', type: 'imis-server', baseUrl: emulator.url, retries: 0 },
  ];
  const credentials = { srv: { username: 'MANAGER', password: 'manager' } };

  /** The gate holds a message whose input says `hold`, and lets the others through; the sink completes. */
  const wire = () => {
    helper
      .getNode('gate')
      .on('input', (msg: GateMessage, send: (m: GateMessage) => void, done: () => void) => {
        const release = () => {
          send(msg);
          done();
        };
        if (msg.payload.hold) held.push({ msg, release });
        else release();
      });
    helper.getNode('out').on('input', () => undefined);
  };

  beforeEach(async () => {
    held = [];
    await helper.load([change, ...packageNodes()], flows(), credentials);
    wire();
  });

  /** GETs `path` with `query`; the answer read as `B`. */
  const get = <B = unknown>(path: string, query: Record<string, string | number> = {}) =>
    helper.request().get<B>(path).query(query);
  const ids = (list: { id: string }[]) => list.map((r) => r.id);
  const runOf = async (id: string) => {
    const res = await get<RunAnswer>(`/imis/runs/${id}`);
    return res.status === 200 ? res.body : undefined;
  };

  /** Starts a run of Manual trigger `node` with `input` (the dashboard's Run), and gives its id. */
  const start = async (input: Input | Record<string, unknown>, node = 'man'): Promise<string> =>
    (await helper.request().post<RunStarted>(`/imis/manual/${node}`).send({ input }).expect(200)).body.id;
  /** The run `id` once it has ended. */
  const finished = (id: string) => settledRun(id, 8000);
  /** Starts a run and waits for its end. */
  const ran = async (input: Input | Record<string, unknown>, node = 'man') =>
    (await finished(await start(input, node))).id;
  /** Starts a run that the gate holds, and waits until it does. */
  const holding = async (input: Input) => {
    const count = held.length;
    const id = await start({ ...input, hold: true });
    await waitFor(() => held.length > count, 5000, 'the gate to hold the message');
    return id;
  };
  const releaseAll = async (runIds: string[]) => {
    for (const h of held.splice(0)) h.release();
    for (const id of runIds) await finished(id);
  };

  it('answers ?limit=N with at most N runs, a run in flight among them, and a cursor that goes on after them', async () => {
    const done = [];
    for (let n = 1; n <= 3; n++) done.push(await ran({ memberId: '12345', note: `run ${n}` }));
    const running = await holding({ memberId: '12345', note: 'waiting' });

    const one = await get<RunSummary[]>('/imis/runs', { limit: 1 });
    assert.deepEqual(ids(one.body), [running]);
    assert.equal(one.body[0].status, 'running');
    assert.equal(one.body[0].durationMs, undefined);
    assert.ok(one.headers['x-next-page'], 'a next page');

    const two = await get<RunSummary[]>('/imis/runs', { limit: 2 });
    assert.deepEqual(ids(two.body), [running, done[2]]);
    assert.ok((two.body[1].durationMs ?? -1) >= 0);
    const rest = await get<RunSummary[]>('/imis/runs', { limit: 2, after: two.headers['x-next-page'] });
    assert.deepEqual(ids(rest.body), [done[1], done[0]]);
    assert.equal(rest.headers['x-next-page'], undefined, 'the last page');

    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs')).body), [running, ...[...done].reverse()]);

    // Page by page, one run each, while the run in flight ends (and is stored) in between: each
    // run is listed once, in order.
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const res = await get<RunSummary[]>('/imis/runs', { limit: 1, ...(after ? { after } : {}) });
      assert.ok(res.body.length <= 1);
      seen.push(...ids(res.body));
      after = res.headers['x-next-page'];
      if (seen.length === 1) await releaseAll([running]);
    } while (after);
    assert.deepEqual(seen, [running, ...[...done].reverse()]);
    assert.equal((await runOf(running))?.status, 'ok');
  });

  it('names the node holding a run in flight, in the list and in the run, and no longer once it ended', async () => {
    const id = await holding({ memberId: '12345' });
    const [item] = (await get<RunSummary[]>('/imis/runs', { status: 'running' })).body;
    assert.equal(item.id, id);
    assert.deepEqual(item.holding, [{ id: 'gate', type: 'helper', name: 'approval' }]);
    assert.deepEqual((await runOf(id))?.holding, [{ id: 'gate', type: 'helper', name: 'approval' }]);
    await releaseAll([id]);
    assert.equal((await runOf(id))?.holding, undefined);
  });

  it('lists each run with the business key and values its flow set', async () => {
    const id = await ran({ memberId: '12345', key: 'M-12345', values: { event: 'CONF', seat: 'A1' } });
    const [item] = (await get<RunSummary[]>('/imis/runs', { limit: 1 })).body;
    assert.equal(item.id, id);
    assert.equal(item.businessKey, 'M-12345');
    assert.deepEqual((await runOf(id))?.values, { event: 'CONF', seat: 'A1' });
  });

  it('filters by business key, exactly or by its start, and by values, each pair exactly (runs in flight)', async () => {
    const stored = await ran({ memberId: '12345', key: 'M-1001', values: { event: 'CONF' } });
    const conf = await holding({ memberId: '12345', key: 'M-1002', values: { event: 'CONF', seat: 'A1' } });
    const gala = await holding({ memberId: '12345', key: 'X-77', values: { event: 'GALA' } });

    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs', { key: 'M-1001' })).body), [stored]);
    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs', { key: 'M-1002' })).body), [conf]);
    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs', { key: 'M-100', status: 'running' })).body), [
      conf,
    ]);
    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs', { key: 'X', status: 'running' })).body), [
      gala,
    ]);
    assert.deepEqual(
      (await get<RunSummary[]>('/imis/runs', { key: '-77', status: 'running' })).body,
      [],
      'a prefix, not a part',
    );

    const running = (query: Record<string, string>) =>
      get<RunSummary[]>('/imis/runs', { status: 'running', ...query });
    assert.deepEqual(ids((await running({ 'value.event': 'CONF' })).body), [conf]);
    assert.deepEqual(ids((await running({ 'value.event': 'GALA' })).body), [gala]);
    assert.deepEqual(ids((await running({ 'value.event': 'CONF', 'value.seat': 'A1' })).body), [conf]);
    assert.deepEqual((await running({ 'value.event': 'CONF', 'value.seat': 'B2' })).body, []);
    assert.deepEqual((await running({ 'value.event': 'CON' })).body, [], 'values match exactly');
    assert.deepEqual(
      (await get<RunCountsAnswer>('/imis/runs/counts', { 'value.event': 'GALA', status: 'running' })).body
        .running,
      1,
    );

    const bad = await helper
      .request()
      .post<ApiError>('/imis/runs/rerun')
      .send({ status: 'failed', values: ['CONF'], dryRun: true });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /"values" is not an object/);
    await releaseAll([conf, gala]);
  });

  it('filters stored runs by business key prefix and by values, each pair exactly', async () => {
    const a = await ran({ memberId: '12345', key: 'M-1001', values: { event: 'CONF', seat: 'A1' } });
    const b = await ran({ memberId: '12345', key: 'M-1002', values: { event: 'CONF' } });
    const c = await ran({ memberId: '12345', key: 'X-1', values: { event: 'GALA' } });
    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs', { key: 'M-100' })).body), [b, a]);
    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs', { 'value.event': 'CONF' })).body), [b, a]);
    assert.deepEqual(
      ids((await get<RunSummary[]>('/imis/runs', { 'value.event': 'CONF', 'value.seat': 'A1' })).body),
      [a],
    );
    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs', { 'value.event': 'GALA' })).body), [c]);
  });

  it('filters by status, counts each status for the filter, and refuses an unknown status', async () => {
    const ok = [await ran({ memberId: '12345', key: 'M-1' }), await ran({ memberId: '12345', key: 'M-2' })];
    const failed = await ran({ memberId: '99999', key: 'M-99999' });
    const running = await holding({ memberId: '12345', key: 'M-3' });

    assert.deepEqual(
      ids((await get<RunSummary[]>('/imis/runs', { status: 'succeeded' })).body),
      [...ok].reverse(),
    );
    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs', { status: 'failed' })).body), [failed]);
    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs', { status: 'running' })).body), [running]);
    assert.deepEqual((await get<RunCountsAnswer>('/imis/runs/counts', { flow: 'tab' })).body, {
      succeeded: 2,
      failed: 1,
      running: 1,
      unfinished: 0,
      capped: false,
    });
    // The status filter itself does not narrow the counts; the other filters do.
    assert.equal((await get<RunCountsAnswer>('/imis/runs/counts', { status: 'succeeded' })).body.failed, 1);
    assert.deepEqual((await get<RunCountsAnswer>('/imis/runs/counts', { key: 'M-99999' })).body, {
      succeeded: 0,
      failed: 1,
      running: 0,
      unfinished: 0,
      capped: false,
    });
    const bad = await get<ApiError>('/imis/runs', { status: 'green' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /Unknown status "green"/);
    assert.equal((await get<RunSummary[]>('/imis/runs', { since: 'yesterday-ish' })).status, 400);
    await releaseAll([running]);
  });

  it('searches text in the input or the error, not in step names, its wildcards taken literally', async () => {
    const needles = [
      await ran({ memberId: '12345', note: 'needle-1' }),
      await ran({ memberId: '12345', note: 'needle-2' }),
    ];
    const unknown = await ran({ memberId: '99999' });
    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs', { q: 'NEEDLE-2' })).body), [needles[1]]);
    assert.deepEqual(
      ids((await get<RunSummary[]>('/imis/runs', { q: 'needle' })).body),
      [...needles].reverse(),
    );
    assert.deepEqual(ids((await get<RunSummary[]>('/imis/runs', { q: '99999' })).body), [unknown]);
    assert.deepEqual((await get<RunSummary[]>('/imis/runs', { q: 'attendance' })).body, [], 'a step name');
    assert.deepEqual((await get<RunSummary[]>('/imis/runs', { q: 'needle_%' })).body, []);
  });

  it('re-runs every failed run the filter selects, once, each linked to its original', async () => {
    // iMIS fails three check-ins for a while (a transient outage); another flow's run fails too.
    emulator.state.injectFault({
      method: 'POST',
      pathPrefix: '/api/Activity',
      status: 503,
      times: 3,
      body: { Message: 'Service unavailable' },
    });
    const failed = [];
    for (let n = 0; n < 3; n++) failed.push(await ran({ memberId: '12345', note: `outage ${n}` }));
    const elsewhere = await ran({ memberId: '99999' }, 'man2');
    for (const id of [...failed, elsewhere]) assert.equal((await runOf(id))?.status, 'failed');
    const before = emulator.state.activities.length;

    const events: RunSummary[] = [];
    const listener = (event: CommsEvent) =>
      event.topic === 'imis/runs' && events.push(event.data as RunSummary);
    helper._events.on('comms', listener);
    try {
      const refused = await helper.request().post<ApiError>('/imis/runs/rerun').send({ flow: 'tab' });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error, /failed runs only/);
      const dry = await helper
        .request()
        .post('/imis/runs/rerun')
        .send({ flow: 'tab', status: 'failed', dryRun: true });
      assert.deepEqual(dry.body, { count: 3 });
      assert.equal(emulator.state.activities.length, before, 'a dry run re-runs nothing');

      const res = await helper
        .request()
        .post<BulkRerun>('/imis/runs/rerun')
        .send({ flow: 'tab', status: 'failed' });
      const answer = res.body;
      assert.equal(res.status, 200);
      assert.equal(res.body.count, 3);
      assert.deepEqual(res.body.skipped, []);
      assert.deepEqual(
        answer.started.map((s) => s.rerunOf),
        failed,
      );
      await waitFor(() => emulator.state.activities.length === before + 3, 5000, 'three re-run inserts');
      const started = answer.started.map((s) => s.id);
      await waitFor(() => started.every((id) => events.some((e) => e.id === id)), 5000, 'comms events');
      for (const [i, original] of failed.entries()) {
        const event = events.find((e) => e.id === started[i]);
        assert.equal(event?.status, 'ok');
        assert.equal(event?.flowId, 'tab');
        assert.deepEqual((await runOf(original))?.reruns, [started[i]]);
        const rerun = await runOf(started[i]);
        assert.equal(rerun?.rerunOf, original);
        assert.ok((rerun?.durationMs ?? -1) >= 0);
      }
      // Already re-run: a second bulk re-run leaves them alone.
      const again = await helper
        .request()
        .post('/imis/runs/rerun?dryRun=true')
        .send({ flow: 'tab', status: 'failed' });
      assert.deepEqual(again.body, { count: 0 });

      // The failed run of a trigger no longer deployed is reported, not re-run.
      await helper.setFlows(flows(false), 'full', credentials);
      wire();
      const gone = await helper.request().post('/imis/runs/rerun').send({ status: 'failed' });
      assert.deepEqual(gone.body, {
        count: 1,
        started: [],
        skipped: [{ id: elsewhere, error: 'The node that started this run is not deployed any more' }],
      });
    } finally {
      helper._events.removeListener('comms', listener);
    }
  });

  it('lists the deployed Manual triggers with their configured input, of one flow or all', async () => {
    assert.deepEqual((await get<ManualTrigger[]>('/imis/manual', { flow: 'tab' })).body, [
      { id: 'man', flowId: 'tab', name: 'by hand', input: '{"memberId":"12345"}' },
    ]);
    assert.deepEqual(ids((await get<ManualTrigger[]>('/imis/manual')).body).sort(), ['man', 'man2']);
    assert.deepEqual((await get<ManualTrigger[]>('/imis/manual', { flow: 'nowhere' })).body, []);
  });

  it('serves the full-page view with its script and style (the dashboard the sidebar shows too)', async () => {
    const page = await get('/imis/runs-view');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /text\/html/);
    assert.match(page.text, /runs-view\/page\.js/);
    assert.match(page.text, /"count-failed":"__n__ failed"/);
    const script = await get('/imis/runs-view/page.js');
    assert.equal(script.status, 200);
    assert.match(script.headers['content-type'], /javascript/);
    assert.match(script.text, /imis-runs-dash/);
    const style = await get('/imis/runs-view/page.css');
    assert.equal(style.status, 200);
    assert.match(style.headers['content-type'], /css/);
    assert.match(style.text, /\.imis-runs-list/);
  });
});
