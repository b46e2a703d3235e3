import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/server.js';
import { insertActivity } from '../../src/imis/activity.js';
import { ImisClient } from '../../src/imis/client.js';
import { ImisError } from '../../src/imis/errors.js';
import { getPanel, insertPanelRow, listPanels } from '../../src/imis/panels.js';
import { getParty } from '../../src/imis/party.js';
import { waitFor } from '../support/wait.js';
import { emulatorAndClient } from './helpers.js';

const TODAY = '2026-05-27T00:00:00';

describe('iMIS client against the emulator', function () {
  let emulator: Emulator;
  let client: ImisClient;

  emulatorAndClient((shared) => ({ emulator, client } = shared), {
    baseUrl: (url) => `${url}/`,
    retryBaseMs: 10,
    retryMaxMs: 100,
  });

  it('inserts an activity that iMIS stores with typed values and a new SEQN', async function () {
    const before = emulator.state.activities.length;
    const created = await insertActivity(
      client,
      {
        partyId: '22708',
        activityType: 'MEETING',
        description: 'Annual meeting attendance',
        quantity: '1',
        amount: '25.50',
        recurringRequest: 'false',
        uf6: '2026-06-01',
        note: '',
      },
      { today: TODAY },
    );
    assert.equal(emulator.state.activities.length, before + 1);
    assert.ok(created.seqn !== null && created.seqn > 16565);
    assert.equal(created.record.SEQN, created.seqn);
    const stored = emulator.state.activities.at(-1);
    assert.equal(stored?.PartyId, '22708');
    assert.equal(stored?.ACTIVITY_TYPE, 'MEETING');
    assert.equal(stored?.TRANSACTION_DATE, TODAY);
    assert.equal(stored?.AMOUNT, 25.5);
    assert.equal(stored?.RECURRING_REQUEST, false);
    assert.equal(stored?.UF_6, '2026-06-01T00:00:00');
  });

  it('fails with iMIS’s message for an unknown member, inserting nothing', async function () {
    const before = emulator.state.activities.length;
    await assert.rejects(
      insertActivity(client, { partyId: '99999', activityType: 'MEETING' }, { today: TODAY }),
      (err) => {
        assert.ok(err instanceof ImisError);
        assert.equal(err.kind, 'rejected');
        assert.ok(err.imisMessages.length > 0);
        assert.equal(err.message, `iMIS rejected POST /api/Activity: ${err.imisMessages.join('; ')}`);
        return true;
      },
    );
    assert.equal(emulator.state.activities.length, before);
  });

  it('signs in again transparently when iMIS has expired its tokens', async function () {
    await getParty(client, '101');
    emulator.state.expireTokens();
    const party = await getParty(client, '101');
    assert.equal(party.PartyId, '101');
  });

  it('inserts once through 503s, and does not send a timed-out POST twice', async function () {
    const before = emulator.state.activities.length;
    emulator.state.injectFault({ pathPrefix: '/api/Activity', status: 503, times: 2 });
    await insertActivity(client, { partyId: '101', activityType: 'MEETING' }, { today: TODAY });
    assert.equal(emulator.state.activities.length, before + 1);

    emulator.state.injectFault({ pathPrefix: '/api/Activity', status: 0, times: 1, delayMs: 300 });
    const slow = new ImisClient({
      baseUrl: emulator.url,
      username: 'MANAGER',
      password: 'manager',
      timeoutMs: 100,
    });
    await assert.rejects(
      insertActivity(slow, { partyId: '101', activityType: 'MEETING' }, { today: TODAY }),
      {
        kind: 'timeout',
      },
    );
    // iMIS processes the one request it got after its delay (300 ms); a retry, sent at once and not
    // delayed, would have been processed before it.
    await waitFor(() => emulator.state.activities.length >= before + 2, 2000, 'the slow insert processed');
    assert.equal(emulator.state.activities.length, before + 2);
  });

  it('lists the panel sources with their columns, leaving out standard objects', async function () {
    const panels = await listPanels(client);
    const names = panels.map((p) => p.name);
    assert.ok(names.includes('Name_CEU') && names.includes('ABC_EventAttendance'));
    assert.ok(!names.includes('Activity'));
    const attendance = panels.find((p) => p.name === 'ABC_EventAttendance');
    assert.deepEqual(
      attendance?.properties.map((p) => p.name),
      ['ID', 'Ordinal', 'EventCode', 'SessionCode', 'CheckInTime', 'Notes'],
    );
  });

  it('inserts panel rows for Panel Designer sources and legacy tables', async function () {
    const attendance = await getPanel(client, 'ABC_EventAttendance');
    const row = await insertPanelRow(client, attendance, '12345', {
      EventCode: 'ANN26',
      CheckInTime: '2026-05-27T09:15',
      Notes: '',
    });
    assert.equal(row.ordinal, 1);
    assert.deepEqual(emulator.state.panelRows('ABC_EventAttendance', '12345'), [
      { ID: '12345', Ordinal: 1, EventCode: 'ANN26', CheckInTime: '2026-05-27T09:15:00' },
    ]);

    const ceu = await insertPanelRow(client, await getPanel(client, 'Name_CEU'), '23179', {
      CEU_Hours: '1.5',
    });
    assert.equal(ceu.ordinal, 3);
    assert.equal(ceu.record.CEU_Hours, 1.5);
    assert.equal(emulator.state.panelRows('Name_CEU', '23179').length, 3);
  });
});
