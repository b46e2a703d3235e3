// An insert under a de-duplication key that reached iMIS but whose record the store never kept (the
// process was killed between iMIS's answer and the commit, or the answer was lost): with a key
// field, the next try finds the record in iMIS instead of inserting it again.
import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/server.js';
import type { Store } from '../../src/store/index.js';
import { useEmulatedRed } from '../support/emulated.js';
import {
  callsOn,
  helper,
  helperRuntime,
  loggedText,
  packageNodes,
  quietWindow,
  received,
} from '../support/red.js';
import { settledRun } from '../support/runs.js';
import type { RunStarted } from '../support/runs.js';

/** What the insert passes on: whether its key was found, and the record (found or made). */
type Deduplicated = {
  dedup: { key: string; skipped: boolean };
  activity: { SEQN: unknown };
  panelRecord: Record<string, unknown>;
};

describe('De-duplication key kept in the record: an insert interrupted before its record was kept', function () {
  let emulator: Emulator;
  useEmulatedRed((env) => ({ emulator } = env));

  const store = (): Store => helperRuntime().store;

  /** The store fails to settle the next key: as if Node-RED was killed right after iMIS answered. */
  const killBeforeSettling = () => {
    const s = store().dedup;
    const settle = s.put.bind(s);
    s.put = async () => {
      s.put = settle;
      throw new Error('killed before the record was kept');
    };
  };

  const load = (action: object) =>
    helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab', label: 'dedup' },
        {
          id: 'manual',
          z: 'tab',
          type: 'imis-manual',
          input: '{"memberId":"12345","eventCode":"CONF","sessionCode":"S1"}',
          wires: [['action']],
        },
        { id: 'action', z: 'tab', wires: [['out']], server: 'srv', ...action },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'srv', type: 'imis-server', baseUrl: emulator.url, retries: 1 },
      ],
      { srv: { username: 'MANAGER', password: 'manager' } },
    );

  const finished = (id: string) => settledRun(id);
  const start = async () =>
    finished((await helper.request().post<RunStarted>('/imis/manual/manual').send({}).expect(200)).body.id);
  const rerun = async (id: string) =>
    finished((await helper.request().post<RunStarted>(`/imis/runs/${id}/rerun`).expect(200)).body.id);

  const activity = (dedupField: string) => ({
    type: 'imis-insert-activity',
    fields: { partyId: '{{ input.memberId }}', activityType: 'MEETING', productCode: 'CONF' },
    dedupKey: '{{ input.memberId }}-{{ input.sessionCode }}',
    dedupField,
  });

  it('Insert Activity: writes the key into the chosen field, and on the re-run finds that activity instead of inserting', async () => {
    await load(activity('otherCode'));
    const out = received<Deduplicated>('out');
    killBeforeSettling();
    const first = await start();
    assert.equal(first.status, 'failed', 'the store did not keep the record');
    const made = emulator.state.activitiesFor('12345');
    assert.equal(made.length, 1, 'iMIS made the activity');
    assert.equal(made[0].OTHER_CODE, '12345-S1', 'with the key in Other Code');
    assert.equal((await store().dedup.get('action', '12345-S1'))?.settled, false, 'the key was left open');

    const again = await rerun(first.id);
    assert.equal(again.status, 'ok');
    assert.equal(emulator.state.activitiesFor('12345').length, 1, 'not inserted a second time');
    assert.deepEqual(out[0].dedup, { key: '12345-S1', skipped: true });
    assert.equal(out[0].activity.SEQN, made[0].SEQN, 'the activity found in iMIS is passed on');
    assert.deepEqual(await store().dedup.get('action', '12345-S1'), {
      settled: true,
      result: out[0].activity,
    });

    await start();
    assert.equal(emulator.state.activitiesFor('12345').length, 1, 'now skipped from the store');
  });

  it('Insert Activity: an open key that iMIS has no record of is inserted, once', async () => {
    await load(activity('otherCode'));
    await store().dedup.open('action', '12345-S1'); // killed after opening, before the request left
    const run = await start();
    assert.equal(run.status, 'ok');
    assert.equal(emulator.state.activitiesFor('12345').length, 1);
    assert.equal((await store().dedup.get('action', '12345-S1'))?.settled, true);
  });

  it('Insert Activity without a key field: the interrupted key is inserted again, with a warning saying so', async () => {
    await load(activity(''));
    killBeforeSettling();
    const first = await start();
    assert.equal(first.status, 'failed');
    const earlier = callsOn('action', 'warn').length;
    assert.equal((await rerun(first.id)).status, 'ok');
    const warnings = callsOn('action', 'warn')
      .slice(earlier)
      .map(([text]) => String(text));
    assert.equal(emulator.state.activitiesFor('12345').length, 2, 'at-least-once without a key field');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /12345-S1.*interrupted.*may now be there twice/);
  });

  it('Insert Activity refuses to deploy with a key field that cannot hold text, and inserts nothing', async () => {
    await load(activity('amount'));
    assert.ok(callsOn('action', 'status').some(([s]) => s.fill === 'red' && s.text === 'invalid template'));
    assert.match(loggedText(callsOn('action', 'error')[0]?.[0]), /cannot be kept in "amount"/);
    helper.getNode('manual').receive({});
    // Deliberate window: the node that refused to deploy must insert nothing.
    await quietWindow(100);
    assert.equal(emulator.state.activitiesFor('12345').length, 0);
  });

  it('Insert Panel Record: keeps the key in the chosen column and finds the row on the re-run', async () => {
    await load({
      type: 'imis-insert-panel',
      panel: 'ABC_EventAttendance',
      partyId: '{{ input.memberId }}',
      fields: { EventCode: '{{ input.eventCode }}', SessionCode: '{{ input.sessionCode }}' },
      dedupKey: '{{ input.memberId }}-{{ input.sessionCode }}',
      dedupField: 'Notes',
    });
    const out = received<Deduplicated>('out');
    killBeforeSettling();
    const first = await start();
    assert.equal(first.status, 'failed');
    const rows = () =>
      (emulator.state.panels.get('ABC_EventAttendance') ?? []).filter((r) => r.ID === '12345');
    assert.equal(rows().length, 1);
    assert.equal(rows()[0].Notes, '12345-S1');
    assert.equal((await rerun(first.id)).status, 'ok');
    assert.equal(rows().length, 1, 'not inserted a second time');
    assert.deepEqual(out[0].dedup, { key: '12345-S1', skipped: true });
    assert.equal(out[0].panelRecord.Notes, '12345-S1');
  });
});
