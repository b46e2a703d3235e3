import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { freshDataDir, helper, packageNodes, startHelper, stopHelper } from '../support/red.js';

const token = randomBytes(24).toString('base64url');
const unknown = randomBytes(24).toString('base64url');

/**
 * While the runtime's flows start (after a restart or a deploy) no node answers a webhook URL yet:
 * the caller is told to retry (503, Retry-After), not that the URL is wrong (401), since an iHook
 * caller does not send a webhook again after a 4xx. The real start-up is covered by
 * test/system/crash.test.ts; here the runtime's own events stand for it.
 */
describe('Secret URLs while the flows start or stop', function () {
  let base: string;
  beforeEach(async () => {
    base = await startHelper(freshDataDir());
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'hook', z: 'tab', type: 'imis-webhook-in', wires: [['out']] },
        { id: 'notify', z: 'tab', type: 'imis-change-in', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ],
      { hook: { token }, notify: { token } },
    );
  });
  afterEach(async () => {
    helper._events.emit('flows:started', {});
    await stopHelper();
  });

  const post = (path: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });

  it('answers an unknown URL 401 once the flows have started', async () => {
    const res = await post(`/imis/hook/${unknown}`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('retry-after'), null);
  });

  it('answers 503 with Retry-After while the flows stop and start again, then 401 again', async () => {
    helper._events.emit('flows:stopping', {});
    for (const path of [`/imis/hook/${unknown}`, `/imis/notify/${unknown}`]) {
      const res = await post(path);
      assert.equal(res.status, 503, path);
      assert.equal(res.headers.get('retry-after'), '2');
      const body = await res.json();
      assert.equal(body.error, true);
      assert.match(body.message, /starting/);
    }
    // A node still deployed keeps answering meanwhile.
    assert.equal((await post(`/imis/hook/${token}`)).status, 200);
    helper._events.emit('flows:started', {});
    assert.equal((await post(`/imis/hook/${unknown}`)).status, 401);
  });
});
