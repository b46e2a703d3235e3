import assert from 'node:assert/strict';
import sinon from 'sinon';
import {
  freshDataDir,
  helper,
  helperRuntime,
  packageNodes,
  startHelper,
  stopHelper,
  waitFor,
} from '../support/red.js';

/**
 * A process renews the lease of the inputs it accepted three times per lease, so that another
 * process sharing the store never takes the inputs of a live one (test/system/two-processes.test.ts
 * runs two Node-REDs on 1 s leases). With a 1 s lease, a heartbeat once a second let the lease
 * run out between two heartbeats.
 */
describe('Lease heartbeat', function () {
  afterEach(stopHelper);

  it('renews a 1 s lease at least three times a second', async () => {
    const dataDir = freshDataDir();
    await startHelper(dataDir);
    helper.settings({ imisDataDir: dataDir, imis: { store: { leaseSeconds: 1 } } });
    await helper.load(packageNodes(), [
      { id: 'tab', type: 'tab' },
      { id: 'hook', z: 'tab', type: 'imis-webhook-in', wires: [[]] },
    ]);
    const ctx = helperRuntime();
    assert.equal(ctx.leaseMs, 1000);
    const heartbeat = sinon.spy(ctx.store.inputs, 'heartbeat');
    try {
      await waitFor(() => heartbeat.callCount >= 3, 1150, 'three heartbeats in 1.15 s');
    } finally {
      heartbeat.restore();
    }
  });
});
