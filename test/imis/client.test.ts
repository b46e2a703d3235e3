import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import sinon from 'sinon';
import { ImisClient } from '../../src/imis/client.js';
import type { ImisClientOptions } from '../../src/imis/client.js';
import { ImisError } from '../../src/imis/errors.js';
import { json, startStub, tokenAnswer, wait } from './stub.js';
import type { Handler, Stub } from './stub.js';

const FAST = { retryBaseMs: 10, retryMaxMs: 200 };

describe('ImisClient', function () {
  let stub: Stub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  /** A stub that issues tokens t1, t2... and hands every /api call to `api`. */
  async function site(api: Handler, opts: { expiresIn?: number; tokenDelayMs?: number } = {}): Promise<Stub> {
    let tokens = 0;
    stub = await startStub(async (hit, res, req) => {
      if (hit.path.endsWith('/token')) {
        if (opts.tokenDelayMs) await wait(opts.tokenDelayMs);
        tokenAnswer(res, ++tokens, opts.expiresIn);
        return;
      }
      await api(hit, res, req);
    });
    return stub;
  }

  const client = (s: Stub, opts: Partial<ImisClientOptions> = {}) =>
    new ImisClient({ baseUrl: s.url, username: 'MANAGER', password: 'manager', ...FAST, ...opts });

  async function rejection(promise: Promise<unknown>): Promise<ImisError> {
    try {
      await promise;
    } catch (err) {
      assert.ok(err instanceof ImisError, `expected an ImisError, got ${String(err)}`);
      return err;
    }
    assert.fail('expected the call to fail');
  }

  describe('signing in', function () {
    it('posts the password grant form-urlencoded to {baseUrl}/token, under a site path with trailing slashes', async function () {
      const s = await site((_hit, res) => json(res, 200, { ok: true }));
      const c = client(s, { baseUrl: `${s.url}/Asi.Scheduler_SDKDemo//` });
      assert.deepEqual(await c.request('GET', '/api/Party/101'), { ok: true });

      const [tokenHit, apiHit] = s.hits;
      assert.equal(tokenHit.method, 'POST');
      assert.equal(tokenHit.path, '/Asi.Scheduler_SDKDemo/token');
      assert.match(String(tokenHit.headers['content-type']), /^application\/x-www-form-urlencoded/);
      assert.deepEqual(Object.fromEntries(new URLSearchParams(tokenHit.body)), {
        grant_type: 'password',
        username: 'MANAGER',
        password: 'manager',
      });
      assert.equal(apiHit.path, '/Asi.Scheduler_SDKDemo/api/Party/101');
      assert.equal(apiHit.headers.authorization, 'Bearer t1');
    });

    it('fetches the token once for 20 concurrent calls', async function () {
      const s = await site((_hit, res) => json(res, 200, { ok: true }), { tokenDelayMs: 50 });
      const c = client(s, { maxInFlight: 20 });
      const answers = await Promise.all(Array.from({ length: 20 }, () => c.request('GET', '/api/Party')));
      assert.equal(answers.length, 20);
      assert.equal(s.count('/token'), 1);
      assert.equal(s.count('/api/Party'), 20);
    });

    it('reuses the token until shortly before it expires, then signs in again', async function () {
      const s = await site((_hit, res) => json(res, 200, {}), { expiresIn: 1 });
      const c = client(s, { refreshSkewSeconds: 0.5 });
      const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
      try {
        await c.request('GET', '/api/Party');
        await c.request('GET', '/api/Party');
        assert.equal(s.count('/token'), 1);
        clock.tick(600); // past expires_in − skew, still before expiry
        await c.request('GET', '/api/Party');
        assert.equal(s.count('/token'), 2);
        assert.equal(s.hits.at(-1)?.headers.authorization, 'Bearer t2');
      } finally {
        clock.restore();
      }
    });

    it('fails with kind auth and iMIS’s error_description on invalid_grant, without retrying', async function () {
      stub = await startStub((_hit, res) =>
        json(res, 400, {
          error: 'invalid_grant',
          error_description: 'The user name or password is incorrect.',
        }),
      );
      const err = await rejection(client(stub, { password: 'wrong' }).request('GET', '/api/Party'));
      assert.equal(err.kind, 'auth');
      assert.equal(err.status, 400);
      assert.deepEqual(err.imisMessages, ['The user name or password is incorrect.']);
      assert.match(err.message, /MANAGER.*The user name or password is incorrect\./);
      assert.equal(stub.hits.length, 1);
    });

    it('points at the base URL when the site has no /token', async function () {
      stub = await startStub((_hit, res) => json(res, 404, undefined));
      const err = await rejection(client(stub).token());
      assert.equal(err.kind, 'not-found');
      assert.match(err.message, /token endpoint.*base URL/);
    });

    it('tests a connection by signing in afresh and reports the user and token lifetime', async function () {
      const s = await site((_hit, res) => json(res, 200, {}));
      const c = client(s);
      assert.equal(await c.token(), 't1');
      assert.deepEqual(await c.testConnection(), { ok: true, userName: 'MANAGER', expiresIn: 1199 });
      assert.equal(s.count('/token'), 2);
      assert.equal(await c.token(), 't2');
    });
  });

  describe('on 401', function () {
    it('drops the token, signs in again and retries once', async function () {
      const s = await site((hit, res) =>
        hit.headers.authorization === 'Bearer t1'
          ? json(res, 401, { Message: 'expired' })
          : json(res, 200, { ok: 1 }),
      );
      assert.deepEqual(await client(s).request('GET', '/api/Party/1'), { ok: 1 });
      assert.equal(s.count('/token'), 2);
      assert.equal(s.count('/api/Party/1'), 2);
    });

    it('fails with kind auth when the fresh token is refused too', async function () {
      const s = await site((_hit, res) =>
        json(res, 401, { Message: 'Authorization has been denied for this request.' }),
      );
      const err = await rejection(client(s).request('POST', '/api/Activity', { data: {} }));
      assert.equal(err.kind, 'auth');
      assert.equal(err.status, 401);
      assert.match(err.message, /POST \/api\/Activity.*Authorization has been denied/);
      assert.equal(s.count('/token'), 2);
      assert.equal(s.count('/api/Activity'), 2);
    });
  });

  describe('retries', function () {
    it('waits for Retry-After (seconds) on 429, then succeeds', async function () {
      this.timeout(5000);
      let calls = 0;
      const s = await site((_hit, res) =>
        ++calls === 1 ? json(res, 429, {}, { 'Retry-After': '1' }) : json(res, 201, { created: true }),
      );
      const started = Date.now();
      assert.deepEqual(await client(s, { retryMaxMs: 5000 }).request('POST', '/api/Activity', { data: {} }), {
        created: true,
      });
      assert.ok(Date.now() - started >= 950, `waited only ${Date.now() - started} ms`);
      assert.equal(s.count('/api/Activity'), 2);
    });

    it('caps Retry-After at retryMaxMs', async function () {
      let calls = 0;
      const s = await site((_hit, res) =>
        ++calls === 1 ? json(res, 503, {}, { 'Retry-After': '120' }) : json(res, 200, {}),
      );
      const started = Date.now();
      await client(s, { retryMaxMs: 100 }).request('GET', '/api/Party');
      assert.ok(Date.now() - started < 1000);
    });

    it('retries a POST answered 503 and succeeds', async function () {
      let calls = 0;
      const s = await site((_hit, res) => (++calls <= 2 ? json(res, 503, {}) : json(res, 201, { SEQN: 7 })));
      assert.deepEqual(await client(s).request('POST', '/api/Activity', { data: {} }), { SEQN: 7 });
      assert.equal(s.count('/api/Activity'), 3);
    });

    it('retries a GET on 500 until the retries run out, then fails with kind http', async function () {
      const s = await site((_hit, res) => json(res, 500, { Message: 'An error has occurred.' }));
      const err = await rejection(client(s, { retries: 2 }).request('GET', '/api/Party'));
      assert.equal(err.kind, 'http');
      assert.equal(err.status, 500);
      assert.match(err.message, /500 Internal Server Error to GET \/api\/Party: An error has occurred\./);
      assert.equal(s.count('/api/Party'), 3);
    });

    it('does not repeat a POST answered 500, which may have inserted the record', async function () {
      const s = await site((_hit, res) => json(res, 500, {}));
      const err = await rejection(client(s).request('POST', '/api/Activity', { data: {} }));
      assert.equal(err.kind, 'http');
      assert.equal(s.count('/api/Activity'), 1);
    });

    it('never retries a 400 and keeps iMIS’s Errors.$values[].Message verbatim', async function () {
      const s = await site((_hit, res) =>
        json(res, 400, {
          $type: 'Asi.Soa.Core.DataContracts.ValidateResultsData, Asi.Contracts',
          IsValid: false,
          Errors: {
            $type:
              'System.Collections.Generic.List`1[[Asi.Soa.Core.DataContracts.ValidationResultData, Asi.Contracts]], mscorlib',
            $values: [{ Message: 'Party 99999 does not exist', PropertyName: 'PartyId' }],
          },
        }),
      );
      const err = await rejection(client(s).request('POST', '/api/Activity', { data: {} }));
      assert.equal(err.kind, 'rejected');
      assert.equal(err.status, 400);
      assert.equal(err.message, 'iMIS rejected POST /api/Activity: Party 99999 does not exist');
      assert.deepEqual(err.imisMessages, ['Party 99999 does not exist']);
      assert.equal(err.method, 'POST');
      assert.equal(err.path, '/api/Activity');
      assert.equal(s.count('/api/Activity'), 1);
    });

    it('never retries a 404 and reports kind not-found', async function () {
      const s = await site((_hit, res) => json(res, 404, undefined));
      const err = await rejection(client(s).request('GET', '/api/Party/nobody'));
      assert.equal(err.kind, 'not-found');
      assert.equal(s.count('/api/Party/nobody'), 1);
    });

    it('retries on connection refused, then fails with kind network', async function () {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));

      const c = new ImisClient({
        baseUrl: `http://127.0.0.1:${port}`,
        username: 'MANAGER',
        password: 'manager',
        retries: 2,
        retryBaseMs: 60,
      });
      const started = Date.now();
      const err = await rejection(c.request('POST', '/api/Activity', { data: {} }));
      assert.equal(err.kind, 'network');
      assert.equal(err.code, 'ECONNREFUSED');
      assert.match(err.message, /ECONNREFUSED.*3 attempts/);
      // Backoff of at least 30 + 60 ms (half of each exponential step) between the 3 attempts.
      assert.ok(Date.now() - started >= 85, `gave up after ${Date.now() - started} ms`);
    });

    it('retries a GET whose connection was reset, but never a POST', async function () {
      let calls = 0;
      const s = await site((hit, res, req) => {
        calls++;
        if (hit.method === 'POST' || calls === 1) req.socket.destroy();
        else json(res, 200, { ok: true });
      });
      const c = client(s);
      assert.deepEqual(await c.request('GET', '/api/Party'), { ok: true });
      assert.equal(s.count('/api/Party'), 2);

      const err = await rejection(c.request('POST', '/api/Activity', { data: {} }));
      assert.equal(err.kind, 'network');
      assert.equal(s.count('/api/Activity'), 1);
    });
  });

  describe('timeouts', function () {
    it('fails with kind timeout and never sends a timed-out POST again', async function () {
      const s = await site(async (_hit, res) => {
        await wait(400);
        json(res, 201, {});
      });
      const err = await rejection(
        client(s, { timeoutMs: 100 }).request('POST', '/api/Activity', { data: {} }),
      );
      assert.equal(err.kind, 'timeout');
      assert.match(err.message, /did not answer POST \/api\/Activity within 0\.1 s.*not sent again/);
      assert.equal(s.count('/api/Activity'), 1);
    });

    it('retries a timed-out GET', async function () {
      let calls = 0;
      const s = await site(async (_hit, res) => {
        if (++calls === 1) await wait(400);
        json(res, 200, { ok: true });
      });
      assert.deepEqual(await client(s, { timeoutMs: 100 }).request('GET', '/api/Party'), { ok: true });
      assert.equal(s.count('/api/Party'), 2);
    });
  });

  describe('limits', function () {
    it('never has more than maxInFlight requests open (2 of 10 calls)', async function () {
      const s = await site(async (_hit, res) => {
        await wait(30);
        json(res, 200, {});
      });
      const c = client(s, { maxInFlight: 2 });
      let seen = 0;
      const calls = Array.from({ length: 10 }, () => c.request('GET', '/api/Party'));
      const probe = setInterval(() => (seen = Math.max(seen, c.inFlight)), 5);
      await Promise.all(calls);
      clearInterval(probe);
      assert.equal(s.maxActive, 2);
      assert.equal(seen, 2);
      assert.equal(c.inFlight, 0);
      assert.equal(s.count('/api/Party'), 10);
    });
  });

  describe('requests', function () {
    it('sends JSON bodies and query parameters, repeating array keys', async function () {
      const s = await site((hit, res) => json(res, 200, { got: JSON.parse(hit.body || 'null') }));
      const c = client(s);
      const answer = await c.request('POST', 'api/Thing/_execute', {
        params: { QueryName: '$/Common/Queries/Last Name', parameter: ['eq:smith', 'x&y'], limit: 5 },
        data: { a: 1 },
      });
      assert.deepEqual(answer, { got: { a: 1 } });
      const hit = s.hits.at(-1);
      assert.equal(hit?.path, '/api/Thing/_execute');
      assert.equal(hit?.query.get('QueryName'), '$/Common/Queries/Last Name');
      assert.deepEqual(hit?.query.getAll('parameter'), ['eq:smith', 'x&y']);
      assert.equal(hit?.query.get('limit'), '5');
      assert.match(String(hit?.headers['content-type']), /^application\/json/);
    });

    it('refuses a base URL that is not an http(s) address with a clear error', async function () {
      const err = await rejection(new ImisClient({ baseUrl: '', username: 'a', password: 'b' }).token());
      assert.match(err.message, /base URL/);
    });
  });
});
