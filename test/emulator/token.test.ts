import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { waitFor } from '../support/wait.js';
import { api, requestToken, tokenFor, type Refusal, type TokenError } from './helpers.js';

describe('emulator: POST /token (docs/imis-api.md §1)', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.close());

  it('issues an opaque bearer token with the OWIN fields and a 1199-second lifetime', async () => {
    const before = Date.now();
    const { status, body } = await requestToken(emulator, {
      grant_type: 'password',
      username: 'MANAGER',
      password: 'manager',
    });
    assert.equal(status, 200);
    assert.match(body.access_token, /^[A-Za-z0-9_-]{40,}$/);
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.expires_in, 1199);
    assert.equal(body.userName, 'MANAGER');
    const issued = Date.parse(body['.issued']);
    const expires = Date.parse(body['.expires']);
    assert.ok(issued >= before - 1000 && issued <= Date.now());
    assert.ok(Math.abs(expires - issued - 1199 * 1000) <= 1000);
    assert.match(body['.issued'], /GMT$/);
  });

  it('accepts the capitalised keys of the V2_1 collection on /Token', async () => {
    const { status, body } = await requestToken(
      emulator,
      { Grant_type: 'password', Username: 'manager', Password: 'manager' },
      '/Token',
    );
    assert.equal(status, 200);
    assert.equal(body.userName, 'MANAGER');
  });

  it('answers 400 invalid_grant for a wrong password', async () => {
    const { status, body } = await requestToken<TokenError>(emulator, {
      grant_type: 'password',
      username: 'MANAGER',
      password: 'Manager',
    });
    assert.equal(status, 400);
    assert.deepEqual(body, {
      error: 'invalid_grant',
      error_description: 'The user name or password is incorrect.',
    });
  });

  it('answers 400 unsupported_grant_type for any grant but password', async () => {
    const { status, body } = await requestToken<TokenError>(emulator, {
      grant_type: 'client_credentials',
      client_id: 'x',
      client_secret: 'y',
    });
    assert.equal(status, 400);
    assert.deepEqual(body, { error: 'unsupported_grant_type' });
  });

  it('knows the users and token lifetime it is configured with', async () => {
    const other = await startEmulator({
      users: [{ username: 'brianm', password: 'demo123' }],
      tokenTtlSeconds: 60,
    });
    try {
      const ok = await requestToken(other, {
        grant_type: 'password',
        username: 'brianm',
        password: 'demo123',
      });
      assert.equal(ok.body.expires_in, 60);
      const manager = await requestToken<TokenError>(other, {
        grant_type: 'password',
        username: 'MANAGER',
        password: 'manager',
      });
      assert.equal(manager.body.error, 'invalid_grant');
    } finally {
      await other.close();
    }
  });
});

describe('emulator: bearer tokens on /api (docs/imis-api.md §1.3)', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.close());

  it('answers 401 with a JSON message when no token is sent', async () => {
    const { status, body, headers } = await api<Refusal>(emulator, undefined, 'GET', '/api/Party/101');
    assert.equal(status, 401);
    assert.equal(body.Message, 'Authorization has been denied for this request.');
    assert.equal(headers.get('www-authenticate'), 'Bearer');
  });

  it('answers 401 to a token it never issued', async () => {
    const { status } = await api(emulator, 'not-a-real-token', 'GET', '/api/Party/101');
    assert.equal(status, 401);
  });

  it('answers 401 once expireTokens() is called, and a fresh token works again', async () => {
    const token = await tokenFor(emulator);
    assert.equal((await api(emulator, token, 'GET', '/api/Party/101')).status, 200);
    emulator.state.expireTokens();
    assert.equal((await api(emulator, token, 'GET', '/api/Party/101')).status, 401);
    assert.equal((await api(emulator, await tokenFor(emulator), 'GET', '/api/Party/101')).status, 200);
  });

  it('answers 401 when the token lifetime has passed', async () => {
    const shortLived = await startEmulator({ tokenTtlSeconds: 0.05 });
    try {
      const token = await tokenFor(shortLived);
      await waitFor(
        async () => (await api(shortLived, token, 'GET', '/api/Party/101')).status === 401,
        1000,
        'the token to expire (50 ms)',
      );
    } finally {
      await shortLived.close();
    }
  });

  it('answers 404 for an unknown entity and 405 for an unsupported method', async () => {
    const token = await tokenFor(emulator);
    const unknown = await api<Refusal>(emulator, token, 'GET', '/api/NoSuchThing');
    assert.equal(unknown.status, 404);
    assert.equal(typeof unknown.body.Message, 'string');
    const patch = await api(emulator, token, 'PATCH', '/api/Activity/16566', {});
    assert.equal(patch.status, 405);
    assert.equal(patch.headers.get('allow'), 'GET, PUT, DELETE');
  });
});
