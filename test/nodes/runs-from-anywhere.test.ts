// Runs that do not start at a Webhook in: the Manual trigger (its button's admin route, with the
// node's input or an edited one), any other node's message reaching a node of this package (here
// Node-RED's inject), re-runs of both, and the Run failed node that alerts on red runs.
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { RUN_ENTRY_TYPES } from '../../src/nodes/lib/run-hooks.js';
import type { Emulator } from '../../src/emulator/server.js';
import type { failureMessage } from '../../src/runs/failure.js';
import { useEmulatedRed } from '../support/emulated.js';
import {
  NODE_RED_PKG,
  freshDataDir,
  helper,
  nextMessage,
  packageNodes,
  received,
  startHelper,
  quietWindow,
  stopHelper,
  waitFor,
} from '../support/red.js';
import { settledRun } from '../support/runs.js';
import type { ApiError, RunAnswer, RunStarted, RunSummary } from '../support/runs.js';

/** What a Run failed node sends; `input` is named only to check that it is left out. */
type Alert = ReturnType<typeof failureMessage> & { payload: { input?: unknown } };

const redDir = dirname(require.resolve(`${NODE_RED_PKG}/package.json`));
const inject = require(require.resolve('@node-red/nodes/core/common/20-inject.js', { paths: [redDir] }));
const change = require(require.resolve('@node-red/nodes/core/function/15-change.js', { paths: [redDir] }));

describe('Runs from the Manual trigger and from any node, and the Run failed node', function () {
  let emulator: Emulator;
  useEmulatedRed((env) => ({ emulator } = env));

  const insert = (id: string, wires: string[] = []) => ({
    id,
    z: 'tab',
    type: 'imis-insert-activity',
    server: 'srv',
    fields: { partyId: '{{ input.memberId }}', activityType: 'MEETING', productCode: 'CONF' },
    wires: [wires],
  });
  /** A Manual trigger (`manual` its config) wired into Insert Activity (`over`), then to `next`. */
  const manualInsert = (manual: object, over: object = {}, next: string[] = ['out']) => [
    { id: 'manual', z: 'tab', type: 'imis-manual', wires: [['insert']], ...manual },
    { ...insert('insert', next), ...over },
  ];
  const outNode = { id: 'out', z: 'tab', type: 'helper' };
  const load = (nodes: object[]) =>
    helper.load(
      [inject, ...packageNodes()],
      [
        { id: 'tab', type: 'tab', label: 'runs' },
        { id: 'other', type: 'tab', label: 'other' },
        ...nodes,
        { id: 'srv', type: 'imis-server', baseUrl: emulator.url, retries: 1 },
      ],
      { srv: { username: 'MANAGER', password: 'manager' } },
    );

  /** The run `id` once finished. */
  const finished = (id: string) => settledRun(id, 8000);

  describe('Manual trigger', () => {
    beforeEach(() => load([...manualInsert({ name: 'by hand', input: '{"memberId":"12345"}' }), outNode]));

    it("starts a run with the node's input from its button (admin route), recorded like a webhook's", async () => {
      const out = received('out');
      const { body } = await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200);
      const run = await finished(body.id);
      assert.equal(run.status, 'ok');
      assert.equal(run.trigger.type, 'imis-manual');
      assert.equal(run.trigger.name, 'by hand');
      assert.deepEqual(run.input, { memberId: '12345' });
      assert.deepEqual(
        run.steps.map((s) => s.id),
        ['insert', 'out'],
      );
      assert.equal(out[0].topic, 'by hand');
      assert.equal(emulator.state.activitiesFor('12345').length, 1);
    });

    it('runs with input edited for this run (the dashboard), and re-runs it with that input', async () => {
      const { body } = await helper
        .request()
        .post<RunStarted>('/imis/manual/manual')
        .send({ input: { memberId: '99999' } })
        .expect(200);
      const run = await finished(body.id);
      assert.equal(run.status, 'failed', 'unknown member');
      assert.deepEqual(run.input, { memberId: '99999' });
      const rerun = (await helper.request().post<RunStarted>(`/imis/runs/${run.id}/rerun`).expect(200)).body;
      const again = await finished(rerun.id);
      assert.equal(again.rerunOf, run.id);
      assert.deepEqual(again.input, { memberId: '99999' });
    });

    it('answers 404 for an id that is not a deployed Manual trigger', async () => {
      const res = await helper.request().post<ApiError>('/imis/manual/insert').send({}).expect(404);
      assert.match(res.body.error, /No Manual trigger/);
    });
  });

  describe('any node', () => {
    it('starts runs at every node type of the package with an input, but the cron (its control input)', () => {
      const pkg = require('../../../package.json');
      const noInput = [
        'imis-server',
        'imis-workflow',
        'imis-webhook-in',
        'imis-change-in',
        'imis-manual',
        'imis-run-failed',
        'imis-workflow-in',
        'imis-cron',
      ];
      const expected = Object.keys(pkg['node-red'].nodes).filter((type) => !noInput.includes(type));
      assert.deepEqual([...RUN_ENTRY_TYPES].sort(), expected.sort());
    });

    it('records a run from an inject into an action, named after the inject, with the secret headers redacted', async () => {
      await load([
        {
          id: 'inj',
          z: 'tab',
          type: 'inject',
          name: 'nightly',
          props: [
            { p: 'payload' },
            { p: 'topic', vt: 'str' },
            { p: 'headers', v: '{"Authorization":"Bearer s3cret","X-Trace":"t1"}', vt: 'json' },
          ],
          payload: '{"memberId":"12345"}',
          payloadType: 'json',
          topic: 'sync',
          wires: [['insert']],
        },
        insert('insert', ['out']),
        { id: 'out', z: 'tab', type: 'helper' },
      ]);
      const out = nextMessage<{ headers: Record<string, string> }>('out');
      helper.getNode('inj').receive({});
      const msg = await out;
      const run = await finished(msg._msgid);
      assert.equal(run.status, 'ok');
      assert.deepEqual(run.trigger, { id: 'inj', type: 'inject', name: 'nightly' });
      assert.equal(run.flowId, 'tab');
      assert.deepEqual(run.input, { memberId: '12345' });
      const extra = run.inputExtra as { topic: string; headers: Record<string, string> };
      assert.equal(extra.topic, 'sync');
      assert.equal(extra.headers.Authorization, '[redacted]');
      assert.equal(extra.headers['X-Trace'], 't1');
      assert.equal(msg.headers.Authorization, 'Bearer s3cret', 'the flow keeps it');
      assert.deepEqual(run.entry, { id: 'insert', type: 'imis-insert-activity' });

      // Re-run: the input goes again to the node of this package it first reached.
      const rerun = (await helper.request().post<RunStarted>(`/imis/runs/${run.id}/rerun`).expect(200)).body;
      const again = await finished(rerun.id);
      assert.equal(again.status, 'ok');
      assert.equal(again.rerunOf, run.id);
      assert.equal(emulator.state.activitiesFor('12345').length, 2);
    });

    it('does not keep an input over imis.runs.maxInputBytes, and refuses to re-run it', async () => {
      await stopHelper();
      await startHelper(freshDataDir(), { imis: { runs: { maxInputBytes: 100 } } });
      await load([
        {
          id: 'inj',
          z: 'tab',
          type: 'inject',
          props: [{ p: 'payload' }],
          payload: JSON.stringify({ memberId: '12345', notes: 'x'.repeat(500) }),
          payloadType: 'json',
          wires: [['insert']],
        },
        insert('insert', ['out']),
        { id: 'out', z: 'tab', type: 'helper' },
      ]);
      const out = nextMessage<{ headers: Record<string, string> }>('out');
      helper.getNode('inj').receive({});
      const run = await finished((await out)._msgid);
      assert.equal(run.input, undefined);
      assert.ok((run.inputTruncated?.bytes ?? 0) > 500);
      const res = await helper.request().post<ApiError>(`/imis/runs/${run.id}/rerun`).expect(409);
      assert.match(res.body.error, /cannot be re-run/);
    });
  });

  describe('Run failed', () => {
    beforeEach(() =>
      load([
        ...manualInsert({ name: 'by hand', input: '{"memberId":"99999"}' }, {}, []),
        { id: 'alert-all', z: 'other', type: 'imis-run-failed', wires: [['alerts-all']] },
        { id: 'alerts-all', z: 'other', type: 'helper' },
        { id: 'alert-other', z: 'other', type: 'imis-run-failed', scope: 'flow', wires: [['alerts-other']] },
        { id: 'alerts-other', z: 'other', type: 'helper' },
        {
          id: 'alert-chosen',
          z: 'other',
          type: 'imis-run-failed',
          scope: 'flows',
          flows: ['tab'],
          wires: [['alerts-chosen']],
        },
        { id: 'alerts-chosen', z: 'other', type: 'helper' },
      ]),
    );

    it('fires once per failed run of the chosen flows, with the run, trigger, failed step and error', async () => {
      const seen = (id: string) => received<Alert>(id);
      const all = seen('alerts-all');
      const other = seen('alerts-other');
      const chosen = seen('alerts-chosen');
      const first = (await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200)).body
        .id;
      const second = (await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200))
        .body.id;
      const ok = (
        await helper
          .request()
          .post<RunStarted>('/imis/manual/manual')
          .send({ input: { memberId: '12345' } })
      ).body.id;
      await Promise.all([finished(first), finished(second), finished(ok)]);
      await waitFor(() => all.length >= 2 && chosen.length >= 2, 5000, 'two alerts');
      // Deliberate window: no third alert (for the good run, or a failed one twice) may follow.
      await quietWindow(100);
      assert.deepEqual(
        all.map((m) => m.payload.runId).sort(),
        [first, second].sort(),
        'once each, none for the good run',
      );
      assert.equal(chosen.length, 2);
      assert.equal(other.length, 0, 'its own flow had no failed run');
      const { payload, topic } = all[0];
      assert.equal(topic, 'run failed: by hand');
      assert.deepEqual(payload.trigger, { id: 'manual', type: 'imis-manual', name: 'by hand' });
      assert.equal(payload.step?.id, 'insert');
      assert.match(String(payload.error), /99999/);
      assert.equal(payload.flowId, 'tab');
      assert.equal(payload.input, undefined, 'no member data in the alert');
      assert.equal(payload.businessKey, undefined, 'no key was set');
      assert.equal(payload.values, undefined, 'no values were set');
    });
  });

  describe('Run failed, for a run with a business key and values', () => {
    it('passes the business key and the values the failed run was given', async () => {
      await helper.load(
        [change, ...packageNodes()],
        [
          { id: 'tab', type: 'tab' },
          { id: 'other', type: 'tab' },
          { id: 'manual', z: 'tab', type: 'imis-manual', input: '{"memberId":"99999"}', wires: [['label']] },
          {
            id: 'label',
            z: 'tab',
            type: 'change',
            rules: [
              { t: 'set', p: 'imis.businessKey', pt: 'msg', to: '"M" & payload.memberId', tot: 'jsonata' },
              { t: 'set', p: 'imis.values', pt: 'msg', to: '{"event": "CONF", "seats": 2}', tot: 'jsonata' },
            ],
            wires: [['insert']],
          },
          insert('insert'),
          { id: 'alert', z: 'other', type: 'imis-run-failed', wires: [['alerts']] },
          { id: 'alerts', z: 'other', type: 'helper' },
          { id: 'srv', type: 'imis-server', baseUrl: emulator.url, retries: 0 },
        ],
        { srv: { username: 'MANAGER', password: 'manager' } },
      );
      const alert = nextMessage<Alert>('alerts');
      const id = (await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200)).body
        .id;
      const { payload } = await alert;
      assert.equal(payload.runId, id);
      assert.equal(payload.businessKey, 'M99999');
      assert.deepEqual(payload.values, { event: 'CONF', seats: '2' });
    });
  });

  describe('de-duplication key on Insert Activity', () => {
    beforeEach(() =>
      load([
        ...manualInsert(
          { input: '{"memberId":"12345","sessionCode":"S1"}' },
          { dedupKey: '{{ input.memberId }}-{{ input.sessionCode }}' },
        ),
        outNode,
      ]),
    );

    it('skips the second insert of a key and a re-run, passing the first record on; another key inserts', async () => {
      const out = received<{ dedup: { key: string; skipped: boolean }; activity: { SEQN: unknown } }>('out');
      const start = async (input?: object) =>
        finished(
          (
            await helper
              .request()
              .post<RunStarted>('/imis/manual/manual')
              .send(input ? { input } : {})
              .expect(200)
          ).body.id,
        );
      const first = await start();
      await start();
      const rerun = (await helper.request().post<RunStarted>(`/imis/runs/${first.id}/rerun`).expect(200))
        .body;
      await finished(rerun.id);
      assert.equal(emulator.state.activitiesFor('12345').length, 1, 'one activity for three runs');
      assert.equal(out.length, 3);
      assert.deepEqual(
        out.map((m) => m.dedup),
        [
          { key: '12345-S1', skipped: false },
          { key: '12345-S1', skipped: true },
          { key: '12345-S1', skipped: true },
        ],
      );
      assert.equal(out[1].activity.SEQN, out[0].activity.SEQN, 'the earlier record');
      await start({ memberId: '12345', sessionCode: 'S2' });
      assert.equal(emulator.state.activitiesFor('12345').length, 2, 'another key inserts');
    });

    it('fails the message when the key renders empty, inserting nothing', async () => {
      await helper.unload();
      await load(manualInsert({ input: '{"memberId":"12345"}' }, { dedupKey: '{{ input.requestId }}' }, []));
      const run = await finished(
        (await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200)).body.id,
      );
      assert.equal(run.status, 'failed');
      assert.match(String(run.error), /de-duplication key is empty/);
      assert.equal(emulator.state.activitiesFor('12345').length, 0);
    });
  });

  describe('automatic retry of a trigger', () => {
    const fault = (times: number) =>
      emulator.state.injectFault({
        method: 'POST',
        pathPrefix: '/api/Activity',
        status: 503,
        times,
        retryAfter: '0',
      });
    const loadRetrying = (dedupKey: string) =>
      load(manualInsert({ input: '{"memberId":"12345"}', retries: 2, retryDelaySec: 1 }, { dedupKey }, []));
    const runsOf = async (): Promise<RunSummary[]> =>
      (await helper.request().get<RunSummary[]>('/imis/runs').query({ flow: 'tab' })).body;

    it('re-runs a run that failed on 503s with backoff until it succeeds, each linked to the one before', async function () {
      this.timeout(20_000);
      await loadRetrying('{{ input.memberId }}');
      fault(4); // two runs of two attempts each (the server's retries: 1)
      const first = (await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200)).body
        .id;
      const failed = await finished(first);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.transientError, true);
      await waitFor(() => emulator.state.activitiesFor('12345').length === 1, 10_000, 'the retried insert');
      const runs = await waitFor(
        async () => {
          const listed = await runsOf();
          return listed.filter((r) => r.status === 'ok').length === 1 && listed;
        },
        5000,
        'the successful retry to be listed',
      );
      const retry1 = runs.find((r) => r.rerunOf === first);
      const retry2 = runs.find((r) => retry1 && r.rerunOf === retry1.id);
      assert.ok(retry1 && retry2, 'two retries, each linked to the one before');
      assert.equal(retry1.retry, 1);
      assert.equal(retry1.status, 'failed');
      assert.equal(retry2.retry, 2);
      assert.equal(retry2.status, 'ok');
      const gap = Date.parse(retry2.startedAt) - Date.parse(retry1.startedAt);
      assert.ok(gap >= 1900, `the second retry waited twice as long (${gap} ms)`);
    });

    it('a re-run by hand takes the place of the automatic retry still waiting: one re-run, not two', async function () {
      this.timeout(20_000);
      await loadRetrying('{{ input.memberId }}');
      fault(2); // the first run's two attempts
      const first = await finished(
        (await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200)).body.id,
      );
      assert.equal(first.status, 'failed');
      assert.ok(first.retryAt, 'an automatic retry is planned');
      await helper.request().post<RunStarted>(`/imis/runs/${first.id}/rerun`).expect(200);
      await waitFor(() => emulator.state.activitiesFor('12345').length === 1, 5000, 'the re-run by hand');
      // Deliberate window, past the retry's time (1 s): the automatic one must not be made.
      await quietWindow(Date.parse(first.retryAt!) - Date.now() + 500);
      const reruns = (await runsOf()).filter((r) => r.rerunOf === first.id);
      assert.equal(reruns.length, 1, `one re-run: ${JSON.stringify(reruns)}`);
      assert.equal(reruns[0].retry, undefined, 'the one asked for');
    });

    it('never re-runs automatically through an insert without a de-duplication key, nor a non-transient failure', async function () {
      this.timeout(20_000);
      await loadRetrying('');
      fault(2);
      const first = await finished(
        (await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200)).body.id,
      );
      assert.equal(first.status, 'failed');
      assert.equal(first.transientError, true);
      await helper.unload();
      await loadRetrying('{{ input.memberId }}');
      const refused = await finished(
        (
          await helper
            .request()
            .post<RunStarted>('/imis/manual/manual')
            .send({ input: { memberId: '99999' } })
            .expect(200)
        ).body.id,
      );
      assert.equal(refused.transientError, false, 'iMIS refused the data: trying again cannot help');
      assert.equal(first.retryAt, undefined, 'no retry planned without a de-duplication key');
      assert.equal(refused.retryAt, undefined, 'no retry planned for a non-transient failure');
      // Deliberate window, past the retry delay (1 s) of the later run: no re-run may be made.
      await quietWindow(Date.parse(refused.finishedAt!) + 1500 - Date.now());
      const runs = await runsOf();
      assert.equal(runs.filter((r) => r.rerunOf).length, 0, 'no automatic re-run');
      assert.equal(emulator.state.activitiesFor('12345').length, 0);
    });
  });

  describe('what a finished run keeps of its payloads', () => {
    const flow = [
      ...manualInsert({ input: '{"memberId":"12345","notes":"private"}' }, { outputProp: 'payload' }),
      outNode,
    ];

    it('keeps a bounded preview of what each step received and sent', async () => {
      await stopHelper();
      await startHelper(freshDataDir(), { imis: { runs: { stepPreviewChars: 40 } } });
      await load(flow);
      const run = await finished(
        (await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200)).body.id,
      );
      const step = run.steps.find((s) => s.id === 'insert');
      const { received = '', sent = '' } = step ?? {};
      assert.match(received, /memberId: '12345'/);
      assert.ok(received.length <= 40);
      assert.match(sent, /SEQN/, 'the created activity it sent on');
      assert.ok(sent.length <= 40);
    });

    it('keeps no input and no preview with imis.runs.storePayloads false, and refuses to re-run', async () => {
      await stopHelper();
      await startHelper(freshDataDir(), { imis: { runs: { storePayloads: false } } });
      await load(flow);
      const run = await finished(
        (await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200)).body.id,
      );
      assert.equal(run.inputNotStored, true);
      assert.equal(run.input, undefined);
      assert.ok(run.steps.every((s) => s.received === undefined && s.sent === undefined));
      const res = await helper.request().post<ApiError>(`/imis/runs/${run.id}/rerun`).expect(409);
      assert.match(res.body.error, /storePayloads/);
      // Read back from the store itself, not from memory.
      await helper.unload();
      await load(flow);
      const stored = (await helper.request().get<RunAnswer>(`/imis/runs/${run.id}`).expect(200)).body;
      assert.equal(stored.input, undefined);
      assert.equal(stored.inputNotStored, true);
    });
  });
});
