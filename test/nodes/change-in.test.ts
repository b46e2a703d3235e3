import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { SinonSpyCall } from 'sinon';
import { useRed } from '../support/emulated.js';
import type { NodeStatus } from 'node-red';
import { helper, packageNodes, quietWindow, received, storeBytes, waitFor } from '../support/red.js';

/** What change notification in starts a run with, as far as these tests read it. */
type ChangeMessage = {
  payload: { data: { Identity: string } };
  record: Record<string, unknown>;
  request: { host: string; headers: Record<string, string>; receivedAt: string };
};
import { runsSettled, settledRun } from '../support/runs.js';
import type { RunAnswer, RunStarted } from '../support/runs.js';

/** A change notification's run as GET /imis/runs/<id> answers it: its request headers and topic kept. */
type NotificationRun = RunAnswer & {
  inputExtra: { topic: string; request: { headers: Record<string, string> } };
};

const token = randomBytes(24).toString('base64url');

function event(eventType: string, data: Record<string, unknown> = {}, id: string = randomUUID()) {
  return {
    id,
    topic: '/subscriptions/x/providers/microsoft.eventgrid/domains/d/topics/tenant1',
    subject: `${eventType.split('.')[0]}/101`,
    eventType,
    eventTime: new Date().toISOString(),
    dataVersion: '1.0',
    metadataVersion: '1',
    data: {
      EntityTypeName: eventType.split('.')[0],
      Action: eventType.split('.')[1],
      Identity: '101',
      ...data,
    },
  };
}

describe('iMIS change notification in (Event Grid delivery over HTTP)', function () {
  let base: string;
  let dataDir: string;
  useRed((env) => ({ base, dataDir } = env));

  const load = (config: Record<string, unknown> = {}, extra: Record<string, unknown>[] = []) =>
    helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'in', z: 'tab', type: 'imis-change-in', ...config, wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
        ...extra,
      ],
      { in: { token } },
    );
  const post = (body: unknown, t = token) =>
    fetch(`${base}/imis/notify/${t}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const collect = () => received<ChangeMessage>('out');

  it('answers the Verify and Save validation event with its code and shows "verified"', async () => {
    await load();
    const statuses: NodeStatus[] = [];
    helper.getNode('in').on('call:status', (call: SinonSpyCall) => statuses.push(call.args[0]));
    const res = await post([
      {
        id: randomUUID(),
        topic: '/x',
        subject: '',
        data: {
          validationCode: '6E513A74-CE5E-46AA-B66B-48EB9F95A975',
          validationUrl: 'https://rp.example.invalid/validate?id=1',
        },
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: '2022-11-10T15:46:00Z',
        metadataVersion: '1',
        dataVersion: '2',
      },
    ]);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { validationResponse: '6E513A74-CE5E-46AA-B66B-48EB9F95A975' });
    await waitFor(() => statuses.some((s) => /verified/.test(String(s.text))), 2000, 'verified status');
  });

  it('starts one run per event, with topic Entity.Action and the event as payload', async () => {
    await load();
    const got = collect();
    const res = await post([event('Party.Updated'), event('Event.Created')]);
    assert.equal(res.status, 200);
    await waitFor(() => got.length === 2, 2000, 'two runs');
    assert.deepEqual(got.map((m) => m.topic).sort(), ['Event.Created', 'Party.Updated']);
    assert.notEqual(got[0]._msgid, got[1]._msgid);
    assert.equal(got.find((m) => m.topic === 'Party.Updated')?.payload.data.Identity, '101');
  });

  it('filters with Party.* (Event.* events do not start runs)', async () => {
    await load({ eventTypes: ['Party.*'] });
    const got = collect();
    const res = await post([event('Party.Updated'), event('Event.Created'), event('party.created')]);
    assert.deepEqual(await res.json(), { error: false, accepted: 2, duplicates: 0, filtered: 1 });
    await waitFor(() => got.length === 2, 2000, 'two runs');
    assert.equal((await runsSettled(2)).succeeded, 2, 'no third run');
    assert.deepEqual(got.map((m) => m.topic).sort(), ['Party.Updated', 'party.created']);
  });

  it('drops a duplicate delivery of the same event id and counts it', async () => {
    await load();
    const got = collect();
    const once = event('Party.Updated');
    await post([once]);
    const again = await post([once]);
    assert.equal(again.status, 200);
    assert.equal((await again.json()).duplicates, 1);
    assert.equal((await runsSettled(1)).succeeded, 1, 'one run');
    assert.equal(got.length, 1);
  });

  it('still drops a duplicate delivered after a restart (Event Grid retries may cross one)', async () => {
    await load();
    const once = event('Party.Updated');
    await post([once]);
    await helper.unload();
    await load();
    const got = collect();
    const again = await post([once]);
    assert.equal((await again.json()).duplicates, 1);
    // Deliberate window: the duplicate must not reach the flow.
    await quietWindow(50);
    assert.equal(got.length, 0);
  });

  it('re-runs a notification with its topic as well as its event', async () => {
    await load();
    const got = collect();
    await post([event('Party.Updated')]);
    await waitFor(() => got.length === 1, 2000, 'the run');
    await settledRun(got[0]._msgid);
    const rerun = (await helper.request().post<RunStarted>(`/imis/runs/${got[0]._msgid}/rerun`).expect(200))
      .body;
    await waitFor(() => got.length === 2, 2000, 'the re-run');
    assert.equal(got[1]._msgid, rerun.id);
    assert.equal(got[1].topic, 'Party.Updated');
    assert.deepEqual(got[1].payload, got[0].payload);
  });

  it('answers 400 to a malformed body and 401 to an unknown URL', async () => {
    await load();
    const malformed = await post({ hello: 'world' });
    assert.equal(malformed.status, 400);
    assert.match((await malformed.json()).message, /eventType/);
    assert.equal((await post('[{', token)).status, 400);
    assert.equal((await post([event('Party.Updated')], randomBytes(24).toString('base64url'))).status, 401);
  });

  it('keeps answering 200 when the flow behind it fails (the event was accepted)', async () => {
    await load({}, [
      {
        id: 'boom',
        z: 'tab',
        type: 'imis-insert-activity',
        server: 'nowhere',
        fields: { partyId: 'x', activityType: 'y' },
      },
    ]);
    helper.getNode('in').wires = [['boom']];
    const res = await post([event('Party.Updated')]);
    assert.equal(res.status, 200);
    const res2 = await post([event('Party.Updated')]);
    assert.equal(res2.status, 200);
  });

  it('carries the full record from the event when it has one (Include Full Record)', async () => {
    await load({ includeFullRecord: true });
    const got = collect();
    await post([
      event('Party.Updated', {
        Subject: {
          $type: 'Asi.Soa.Membership.DataContracts.PersonData, Asi.Contracts',
          PartyId: '101',
          Email: 'new@example.org',
        },
      }),
    ]);
    await waitFor(() => got.length === 1, 2000, 'the run');
    assert.deepEqual(got[0].record, { PartyId: '101', Email: 'new@example.org' });
  });

  it('puts request metadata under the Metadata Output Property', async () => {
    await load({ metadataProp: 'request' });
    const got = collect();
    await post([event('Party.Updated')]);
    await waitFor(() => got.length === 1, 2000, 'the run');
    assert.match(got[0].request.host, /^127\.0\.0\.1/);
    assert.equal(got[0].request.headers['content-type'], 'application/json');
    assert.ok(got[0].request.receivedAt);
  });

  it("stores no access key of the delivery (Event Grid's aeg-sas-key) with the run; the flow gets it", async () => {
    await load({ metadataProp: 'request' });
    const got = collect();
    const key = randomBytes(16).toString('hex');
    const res = await fetch(`${base}/imis/notify/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'aeg-sas-key': key, 'aeg-event-type': 'Notification' },
      body: JSON.stringify([event('Party.Updated')]),
    });
    assert.equal(res.status, 200);
    await waitFor(() => got.length === 1, 2000, 'the run');
    assert.equal(got[0].request.headers['aeg-sas-key'], key);
    const run = (await helper.request().get<NotificationRun>(`/imis/runs/${got[0]._msgid}`).expect(200)).body;
    assert.equal(run.inputExtra.request.headers['aeg-sas-key'], '[redacted]');
    assert.equal(run.inputExtra.request.headers['aeg-event-type'], 'Notification');
    assert.equal(run.inputExtra.topic, 'Party.Updated');
    assert.ok(!storeBytes(dataDir).includes(key), 'the store holds no key');
  });
});
