import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import { NODE_RED_PKG, helper, packageNodes, waitFor } from '../support/red.js';

const EXAMPLE = join(__dirname, '../../../examples/order-lifecycle-workflow.json');
/** Node-RED's own split and change nodes, which the example uses (the helper does not load them). */
const redDir = dirname(require.resolve(`${NODE_RED_PKG}/package.json`));
const core = ['sequence/17-split.js', 'function/15-change.js'].map((file) =>
  require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [redDir] })),
);

describe('Example: order lifecycle workflow, against the emulator', function () {
  this.timeout(20_000);
  let emulator: Emulator;
  let base: string;
  useEmulatedRed((env) => ({ emulator, base } = env));

  it('submits an order posted to the webhook and confirms it when the poll finds its iMIS activity', async () => {
    // Debug nodes become the helper's (their messages are listened to).
    const flow = (JSON.parse(readFileSync(EXAMPLE, 'utf8')) as any[]).map((n) =>
      n.type === 'debug' ? { id: n.id, z: n.z, name: n.name, type: 'helper' } : n,
    );
    const server = flow.find((n) => n.type === 'imis-server');
    server.baseUrl = emulator.url;
    const hook = flow.find((n) => n.type === 'imis-webhook-in');
    const cron = flow.find((n) => n.type === 'imis-cron');
    const token = randomBytes(24).toString('base64url');
    await helper.load([...packageNodes(), ...core], flow, {
      [hook.id]: { token },
      [server.id]: { username: 'MANAGER', password: 'manager' },
    });
    const events: any[] = [];
    const eventsDebug = flow.find((n) => n.type === 'helper' && n.name === 'Workflow event');
    helper.getNode(eventsDebug.id).on('input', (msg: any) => events.push(msg.payload));

    const res = await fetch(`${base}/imis/hook/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ orderId: 'SO-1001', memberId: '12345' }),
    });
    assert.equal(res.status, 200);
    await waitFor(() => events.some((e) => e.to === 'SUBMITTED'), 5000, 'SO-1001 submitted');

    emulator.state.activities.push({
      PartyId: '12345',
      SEQN: 9001,
      ACTIVITY_TYPE: 'ORDERCONF',
      TRANSACTION_DATE: '2026-05-27T00:00:00',
      PRODUCT_CODE: 'SO-1001',
      AMOUNT: 0,
    });
    helper.getNode(cron.id).receive({ payload: 'trigger' });
    await waitFor(() => events.some((e) => e.to === 'CONFIRMED'), 5000, 'SO-1001 confirmed by the poll');
    const confirmed = events.find((e) => e.to === 'CONFIRMED');
    assert.deepEqual(
      [confirmed.key, confirmed.transition, confirmed.trigger, confirmed.final],
      ['SO-1001', 'CONFIRM', 'poll', true],
    );
    const instance = (
      await helper.request().get('/imis/workflows/ORDER_LIFECYCLE/instances/SO-1001').expect(200)
    ).body;
    assert.equal(instance.state, 'CONFIRMED');
  });
});
