import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SinonSpyCall } from 'sinon';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import { helper, packageNodes, quietWindow, received, waitFor } from '../support/red.js';
import { runsSettled } from '../support/runs.js';

/** Emulator-driven: iMIS registers the node's URL, verifies it, then delivers real changes. */
describe("iMIS change notification in, driven by the emulator's change notifications", function () {
  this.timeout(20000);
  let emulator: Emulator;
  let base: string;
  let token: string;
  useEmulatedRed((env) => ({ emulator, base } = env));
  beforeEach(() => {
    token = randomBytes(24).toString('base64url');
  });

  async function load(config: Record<string, unknown> = {}) {
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'notified', z: 'tab', type: 'imis-change-in', server: 'srv', ...config, wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'srv', type: 'imis-server', baseUrl: emulator.url },
      ],
      { notified: { token }, srv: { username: 'MANAGER', password: 'manager' } },
    );
    const got = received<{ payload: { eventType: string }; record: { PersonName: { FirstName: string } } }>(
      'out',
    );
    emulator.state.notifications.configure({
      endpointUrl: `${base}/imis/notify/${token}`,
      retryScale: 0.001,
    });
    const verified = await emulator.state.notifications.verify();
    assert.equal(verified.status, 'Verified', verified.message);
    return got;
  }

  async function updateParty(id: string, firstName: string) {
    const tokenRes = await fetch(`${emulator.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=MANAGER&password=manager',
    });
    const { access_token } = await tokenRes.json();
    const auth = { Authorization: `Bearer ${access_token}`, 'Content-Type': 'application/json' };
    const party = await (await fetch(`${emulator.url}/api/Party/${id}`, { headers: auth })).json();
    const res = await fetch(`${emulator.url}/api/Party/${id}`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ ...party, PersonName: { ...party.PersonName, FirstName: firstName } }),
    });
    assert.ok(res.ok, `PUT /api/Party/${id}: ${res.status}`);
  }

  it("is verified by iMIS's Verify and Save", async () => {
    await load();
    assert.equal(emulator.state.notifications.status, 'Verified');
  });

  it('turns a Party update in iMIS into a Party.Updated run, with the full record fetched', async () => {
    const got = await load({ eventTypes: ['Party.*'], includeFullRecord: true });
    await updateParty('101', 'Johanna');
    await waitFor(() => got.length === 1, 5000, 'the Party.Updated run');
    assert.equal(got[0].topic, 'Party.Updated');
    assert.equal(got[0].payload.eventType, 'Party.Updated');
    assert.equal(got[0].record.PersonName.FirstName, 'Johanna', 'the updated field, fetched from iMIS');
  });

  it("fails the run with iMIS's answer when the full record cannot be fetched, sending nothing", async () => {
    const got = await load({ eventTypes: ['Party.*'], includeFullRecord: true });
    const errors: string[] = [];
    helper
      .getNode('notified')
      .on('call:error', (c: SinonSpyCall) => errors.push(String(c.args[0]?.message ?? c.args[0])));
    emulator.state.notifications.publish('Party.Updated', '99999');
    await waitFor(() => errors.length === 1, 5000, 'the failed run');
    assert.match(errors[0], /^iMIS has no Party with ID 99999/);
    assert.equal(got.length, 0);
  });

  it('does not start runs for events outside the filter (Event.* vs a Party update)', async () => {
    const got = await load({ eventTypes: ['Event.*'] });
    await updateParty('101', 'Jo');
    await emulator.state.notifications.idle();
    // Deliberate window: the filtered event must not reach the flow.
    await quietWindow(50);
    assert.equal(got.length, 0);
  });

  it('drops the second copy of an event delivered twice (at-least-once delivery)', async () => {
    const got = await load();
    emulator.state.notifications.deliverTwice(1);
    emulator.state.notifications.publish('Party.Updated', '101');
    await emulator.state.notifications.idle();
    assert.equal((await runsSettled(1)).succeeded, 1, 'one run');
    assert.equal(got.length, 1);
    const deliveries = emulator.state.notifications.deliveries.filter((d) => d.eventType === 'Party.Updated');
    assert.equal(deliveries.length, 2);
    assert.ok(deliveries.every((d) => d.status === 200));
  });
});
