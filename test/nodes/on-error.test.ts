import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SinonSpyCall } from 'sinon';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import { helper, packageNodes, received } from '../support/red.js';
import type { CaughtError } from '../support/red.js';
import { settledRun } from '../support/runs.js';

/**
 * iWorkflow's failure handling per action, on Insert Activity with a member iMIS does not know:
 * fail the run (default), continue with msg.error, or end the run as succeeded.
 */
describe('Failure policy of an action node (Insert Activity, unknown member)', function () {
  let emulator: Emulator;
  let base: string;
  let token: string;
  useEmulatedRed((env) => ({ emulator, base } = env));
  beforeEach(() => {
    token = randomBytes(24).toString('base64url');
  });

  const load = (onError?: string) => {
    const insert: Record<string, unknown> = {
      id: 'insert',
      z: 'tab',
      type: 'imis-insert-activity',
      server: 'srv',
      fields: { partyId: '{{ input.memberId }}', activityType: 'MEETING', productCode: 'CONF' },
      wires: [['after']],
    };
    if (onError !== undefined) insert.onError = onError;
    return helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'hook', z: 'tab', type: 'imis-webhook-in', wires: [['insert']] },
        insert,
        { id: 'after', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
        { id: 'srv', type: 'imis-server', baseUrl: emulator.url, retries: 1 },
      ],
      { hook: { token }, srv: { username: 'MANAGER', password: 'manager' } },
    );
  };

  /** Posts one check-in of `memberId`; resolves with the finished run (from the runs admin API). */
  const runFor = async (memberId: string) => {
    const res = await fetch(`${base}/imis/hook/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ memberId }),
    });
    assert.equal(res.status, 200);
    const { id } = await res.json();
    return settledRun(id, 8000);
  };

  /** What reaches `name`: a Catch node's messages, or the ones that went on with msg.error set (or not). */
  const seen = (name: string) => received<CaughtError>(name);

  it('fails the run by default: the Catch node gets the error, nothing goes on', async () => {
    await load();
    const after = seen('after');
    const caught = seen('caught');
    const run = await runFor('99999');
    assert.equal(run.status, 'failed');
    assert.match(String(run.error), /99999/);
    assert.equal(caught.length, 1);
    assert.equal(after.length, 0);
    const step = run.steps.find((s) => s.id === 'insert');
    assert.equal(step?.outcome, 'failed');
  });

  it('continues: the message goes on with msg.error, the run succeeds and its step says it continued', async () => {
    await load('continue');
    const after = seen('after');
    const caught = seen('caught');
    const run = await runFor('99999');
    assert.equal(run.status, 'ok');
    assert.match(String(run.handledError), /99999/);
    const step = run.steps.find((s) => s.id === 'insert');
    assert.equal(step?.outcome, 'continued');
    assert.match(String(step?.error), /99999/);
    assert.equal(after.length, 1);
    assert.match(after[0].error.message, /99999/);
    assert.equal(after[0].error.source.id, 'insert');
    assert.equal(caught.length, 0, 'no Catch: the error was handled');
    assert.equal(emulator.state.activities.length, 0);
  });

  it('ends the run as succeeded: nothing goes on, no Catch, the step keeps the error', async () => {
    await load('succeed');
    const after = seen('after');
    const caught = seen('caught');
    const statuses: string[] = [];
    helper
      .getNode('insert')
      .on('call:status', (call: SinonSpyCall) => statuses.push(String(call.args[0].text)));
    const run = await runFor('99999');
    assert.equal(run.status, 'ok');
    const step = run.steps.find((s) => s.id === 'insert');
    assert.equal(step?.outcome, 'ended');
    assert.match(String(step?.error), /99999/);
    assert.equal(after.length + caught.length, 0);
    assert.match(statuses.at(-1) ?? '', /run ended as succeeded/);
  });

  it('changes nothing for a member iMIS knows, whatever the policy', async () => {
    await load('succeed');
    const after = seen('after');
    const run = await runFor('12345');
    assert.equal(run.status, 'ok');
    assert.equal(run.handledError, undefined);
    assert.equal(after.length, 1);
    assert.equal(after[0].error, undefined);
    assert.equal(emulator.state.activitiesFor('12345').length, 1);
  });
});
