import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import { helper, packageNodes, quietWindow, waitFor } from '../support/red.js';
import type { CaughtError, RunStartInfo, TestMessage } from '../support/red.js';
import { runCounts, settledRun } from '../support/runs.js';
import type { HookRefusal } from '../support/runs.js';

const CHECK_IN_SCHEMA = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {
    memberId: { type: 'string' },
    eventCode: { type: 'string' },
    checkInTime: { type: 'string', format: 'date-time' },
    sessionCode: { type: 'string' },
  },
  required: ['memberId', 'eventCode', 'checkInTime'],
});

const checkInPayload = {
  memberId: '12345',
  eventCode: 'CONF2026',
  checkInTime: '2026-05-27T09:15:00',
  sessionCode: 'KEYNOTE',
};

function checkInFlow(emulatorUrl: string) {
  return [
    { id: 'tab', type: 'tab', label: 'check-in' },
    { id: 'hook', z: 'tab', type: 'imis-webhook-in', name: 'check-in', wires: [['validate']] },
    { id: 'validate', z: 'tab', type: 'imis-schema-validate', schema: CHECK_IN_SCHEMA, wires: [['insert']] },
    {
      id: 'insert',
      z: 'tab',
      type: 'imis-insert-activity',
      server: 'srv',
      fields: {
        partyId: '{{ input.memberId }}',
        activityType: 'MEETING',
        transactionDate: '{{ input.checkInTime }}',
        productCode: '{{ input.eventCode }}',
        description: 'Checked in to {{ input.sessionCode }}',
      },
      wires: [['inserted']],
    },
    { id: 'inserted', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    { id: 'srv', type: 'imis-server', baseUrl: emulatorUrl, retries: 1 },
  ];
}

function newToken(): string {
  return randomBytes(24).toString('base64url');
}

describe('Event check-in → JSON Schema Validation → Insert Activity (the iHook test plan of docs/idms.md §iHook runs, over HTTP)', function () {
  let emulator: Emulator;
  let base: string;
  let token: string;
  useEmulatedRed((env) => ({ emulator, base } = env));

  beforeEach(async () => {
    token = newToken();
    await helper.load(packageNodes(), checkInFlow(emulator.url), {
      hook: { token },
      srv: { username: 'MANAGER', password: 'manager' },
    });
  });

  const post = (body: unknown, t = token, contentType = 'application/json') =>
    fetch(`${base}/imis/hook/${t}`, {
      method: 'POST',
      headers: { 'Content-Type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it("answers 200 with iHook's body and inserts exactly one activity with the mapped fields", async () => {
    const res = await post(checkInPayload);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.error, false);
    assert.match(body.id, /^[A-Za-z0-9_-]{16,}$/);
    assert.ok(!Number.isNaN(Date.parse(body.queueTime)), 'queueTime is an ISO time');
    await waitFor(() => emulator.state.activitiesFor('12345').length === 1, 5000, 'the activity');
    const [activity] = emulator.state.activitiesFor('12345');
    assert.equal(activity.ACTIVITY_TYPE, 'MEETING');
    assert.equal(activity.PRODUCT_CODE, 'CONF2026');
    assert.equal(activity.DESCRIPTION, 'Checked in to KEYNOTE');
    assert.match(String(activity.TRANSACTION_DATE), /^2026-05-27T09:15:00/);
    assert.equal((await settledRun(body.id)).status, 'ok');
    assert.equal(emulator.state.activities.length, 1, 'no second record');
  });

  it('passes the created activity, with its SEQN, to the next node', async () => {
    const inserted = helper.getNode('inserted');
    const got = new Promise<TestMessage<RunStartInfo & { activity: { SEQN: number; PartyId: string } }>>(
      (resolve) => inserted.on('input', resolve),
    );
    await post(checkInPayload);
    const msg = await got;
    assert.equal(typeof msg.activity.SEQN, 'number');
    assert.equal(msg.activity.PartyId, '12345');
    assert.equal(msg._msgid, msg.imis.runId);
  });

  it('answers 400 naming memberId when it is missing, and writes nothing', async () => {
    const { memberId: _omit, ...payload } = checkInPayload;
    void _omit;
    const res = await post(payload);
    assert.equal(res.status, 400);
    const body = (await res.json()) as HookRefusal;
    assert.equal(body.error, true);
    assert.match(body.message, /memberId/);
    assert.ok(body.errors?.some((e) => e.path === '/memberId'));
    // Deliberate window: no run may write an activity after the refusal.
    await quietWindow(100);
    assert.equal(emulator.state.activities.length, 0);
  });

  it('answers 400 when checkInTime is not a date-time, and writes nothing', async () => {
    const res = await post({ ...checkInPayload, checkInTime: 'yesterday-ish' });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.match(body.message, /checkInTime/);
    assert.match(body.message, /date-time/);
    // Deliberate window: no run may write an activity after the refusal.
    await quietWindow(100);
    assert.equal(emulator.state.activities.length, 0);
  });

  it('inserts two activities for the same payload sent twice (no de-duplication)', async () => {
    assert.equal((await post(checkInPayload)).status, 200);
    assert.equal((await post(checkInPayload)).status, 200);
    await waitFor(() => emulator.state.activitiesFor('12345').length === 2, 5000, 'two activities');
    const seqns = emulator.state.activitiesFor('12345').map((a) => a.SEQN);
    assert.notEqual(seqns[0], seqns[1]);
  });

  it("queues an unknown member (200) and fails the run with iMIS's message, for a Catch node", async () => {
    const caught = helper.getNode('caught');
    const got = new Promise<TestMessage<CaughtError>>((resolve) => caught.on('input', resolve));
    const res = await post({ ...checkInPayload, memberId: '99999' });
    assert.equal(res.status, 200);
    const msg = await got;
    assert.match(msg.error.message, /99999/);
    assert.equal(msg.error.source.id, 'insert');
    assert.equal(emulator.state.activities.length, 0);
  });

  it('answers 401 for a wrong token', async () => {
    const res = await post(checkInPayload, newToken());
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: true, message: 'Invalid webhook URL or token' });
  });

  it('after Regenerate and deploy, answers 401 on the old URL and 200 on the new one', async () => {
    const old = token;
    token = newToken();
    await helper.setFlows(checkInFlow(emulator.url), 'full', {
      hook: { token },
      srv: { username: 'MANAGER', password: 'manager' },
    });
    assert.equal((await post(checkInPayload, old)).status, 401);
    assert.equal((await post(checkInPayload, token)).status, 200);
  });

  it('turns 500 concurrent valid posts into 500 activities, none lost and none doubled', async function () {
    this.timeout(60000);
    const responses = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        post({ ...checkInPayload, sessionCode: `S${i}` }).then((r) => r.status),
      ),
    );
    assert.deepEqual(new Set(responses), new Set([200]));
    await waitFor(async () => (await runCounts()).succeeded === 500, 45000, '500 runs succeeded');
    const sessions = emulator.state.activities.map((a) => a.DESCRIPTION);
    assert.equal(sessions.length, 500);
    assert.equal(new Set(sessions).size, 500);
  });
});
