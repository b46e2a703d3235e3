import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/server.js';
import { api, requestToken, sharedEmulator } from './helpers.js';

describe('emulator: fault injection and request log', () => {
  let emulator: Emulator;
  let token: string;
  sharedEmulator((shared) => ({ emulator, token } = shared));

  it('answers the injected status with Retry-After for the next `times` matching requests, then recovers', async () => {
    emulator.state.injectFault({ pathPrefix: '/api/Party', status: 429, times: 2, retryAfter: '1' });
    const first = await api(emulator, token, 'GET', '/api/Party/101');
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '1');
    assert.equal((await api(emulator, token, 'GET', '/api/party/101')).status, 429, 'prefix ignores case');
    assert.equal((await api(emulator, token, 'GET', '/api/Party/101')).status, 200);
  });

  it('matches the method when one is given, and sends the given body', async () => {
    emulator.state.injectFault({
      method: 'post',
      pathPrefix: '/api/Activity',
      status: 503,
      times: 1,
      body: { Message: 'down for maintenance' },
    });
    assert.equal((await api(emulator, token, 'GET', '/api/Activity')).status, 200);
    const failed = await api(emulator, token, 'POST', '/api/Activity', {});
    assert.equal(failed.status, 503);
    assert.deepEqual(failed.body, { Message: 'down for maintenance' });
  });

  it('can fail /token itself', async () => {
    emulator.state.injectFault({ pathPrefix: '/token', status: 500, times: 1 });
    const form = { grant_type: 'password', username: 'MANAGER', password: 'manager' };
    assert.equal((await requestToken(emulator, form)).status, 500);
    assert.equal((await requestToken(emulator, form)).status, 200);
  });

  it('delays a request and then handles it normally when status is 0', async () => {
    emulator.state.injectFault({ pathPrefix: '/api/Party', status: 0, times: 1, delayMs: 150 });
    const started = Date.now();
    const { status } = await api(emulator, token, 'GET', '/api/Party/101');
    assert.equal(status, 200);
    assert.ok(Date.now() - started >= 140, 'the answer waited for the delay');
  });

  it('drops the connection for a network-error fault', async () => {
    emulator.state.injectFault({ pathPrefix: '/api', status: 0, times: 1, dropConnection: true });
    await assert.rejects(api(emulator, token, 'GET', '/api/Party/101'));
    assert.equal((await api(emulator, token, 'GET', '/api/Party/101')).status, 200);
  });

  it('logs each request with method, path, query and the status answered', async () => {
    await api(emulator, token, 'GET', '/api/Activity?PartyId=eq:22708');
    await api(emulator, undefined, 'GET', '/api/Party/101');
    const [list, refused] = emulator.state.requests;
    assert.equal(list.method, 'GET');
    assert.equal(list.path, '/api/Activity');
    assert.equal(list.query, '?PartyId=eq:22708');
    assert.equal(list.status, 200);
    assert.equal(typeof list.at, 'number');
    assert.equal(refused.status, 401);
    emulator.state.reset();
    assert.equal(emulator.state.requests.length, 0);
  });
});
