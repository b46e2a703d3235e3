import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import { helper, nextMessage, packageNodes, received, waitFor } from '../support/red.js';
import type { CaughtError } from '../support/red.js';

describe('Webhook in → Insert Panel Record, against the emulator', function () {
  let emulator: Emulator;
  let base: string;
  const token = randomBytes(24).toString('base64url');
  useEmulatedRed((env) => ({ emulator, base } = env));

  async function load(panel: Record<string, unknown>) {
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'hook', z: 'tab', type: 'imis-webhook-in', wires: [['panel']] },
        { id: 'panel', z: 'tab', type: 'imis-insert-panel', server: 'srv', ...panel, wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
        { id: 'srv', type: 'imis-server', baseUrl: emulator.url },
      ],
      { hook: { token }, srv: { username: 'MANAGER', password: 'manager' } },
    );
  }
  const post = (body: unknown) =>
    fetch(`${base}/imis/hook/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  const attendance = {
    panel: 'ABC_EventAttendance',
    partyId: '{{ input.memberId }}',
    fields: {
      EventCode: '{{ input.eventCode }}',
      SessionCode: '{{ input.sessionCode }}',
      CheckInTime: '{{ input.checkInTime }}',
    },
  };

  it('inserts one row per call into a multi-instance panel, with typed columns and the next Ordinal', async () => {
    await load(attendance);
    const got = received<{ panelRecord: Record<string, unknown> }>('out');
    const payload = {
      memberId: '101',
      eventCode: 'CONF2026',
      sessionCode: 'KEYNOTE',
      checkInTime: '2026-05-27T09:15:00',
    };
    assert.equal((await post(payload)).status, 200);
    assert.equal((await post({ ...payload, sessionCode: 'LUNCH' })).status, 200);
    await waitFor(() => got.length === 2, 5000, 'two rows');
    const rows = emulator.state.panelRows('ABC_EventAttendance', '101');
    assert.deepEqual(rows.map((r) => r.SessionCode).sort(), ['KEYNOTE', 'LUNCH']);
    assert.match(String(rows[0].CheckInTime), /^2026-05-27T09:15:00/);
    assert.deepEqual(got.map((m) => m.panelRecord.Ordinal).sort(), [1, 2]);
  });

  it("fails the run with iMIS's message for an unknown member, and writes nothing", async () => {
    await load(attendance);
    const caught = nextMessage<CaughtError>('caught');
    assert.equal(
      (
        await post({
          memberId: '99999',
          eventCode: 'X',
          sessionCode: 'Y',
          checkInTime: '2026-05-27T09:15:00',
        })
      ).status,
      200,
    );
    const msg = await caught;
    assert.match(msg.error.message, /99999/);
    assert.deepEqual(emulator.state.panelRows('ABC_EventAttendance', '99999'), []);
  });

  it('fails the run naming the column when a value cannot be converted to its type', async () => {
    await load({
      panel: 'Name_CEU',
      partyId: '{{ input.memberId }}',
      fields: { CEU_Hours: '{{ input.hours }}' },
    });
    const caught = nextMessage<CaughtError>('caught');
    await post({ memberId: '23179', hours: 'ten' });
    const msg = await caught;
    assert.match(msg.error.message, /CEU_Hours/);
  });
});
