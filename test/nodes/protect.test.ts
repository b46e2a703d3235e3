import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { useRed } from '../support/emulated.js';
import type { TestAnswer } from '../../src/core/protect/test-payload.js';
import type { RefusedCall } from '../../src/runs/refused.js';
import {
  callsOn,
  DENY_HEADER,
  helper,
  httpNodeApp,
  lastStatus,
  packageNodes,
  quietWindow,
  received,
  startHelper,
  stopHelper,
  storeBytes,
  waitFor,
} from '../support/red.js';
import type { TestMessage } from '../support/red.js';
import { runsSettled } from '../support/runs.js';
import type { ApiError, RunAnswer, RunSummary } from '../support/runs.js';

/** What Send test payload answers (protect.ts): the webhook's answer, and whether it was signed. */
type SentTest = TestAnswer & { signed: boolean };

/** A message an endpoint starts a run with, its request's headers kept (metadataProp `req`). */
type RunMessage = TestMessage<WithRequest>;
type WithRequest = { req: { headers: Record<string, string> } };

/**
 * Webhook in and change notification in with their optional protections, over real sockets on
 * 127.0.0.1: every refusal is answered before any run starts, counted in the status and logged
 * without the secret.
 */

const token = randomBytes(24).toString('base64url');
const SIGNING = 'whsec_' + randomBytes(16).toString('hex');
const API_KEY = randomBytes(18).toString('base64url');
const JSON_TYPE = { 'Content-Type': 'application/json' };

const githubSignature = (body: string, secret = SIGNING) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const stripeSignature = (body: string, seconds: number, secret = SIGNING) =>
  `t=${seconds},v1=${createHmac('sha256', secret).update(`${seconds}.${body}`).digest('hex')}`;

/**
 * Deploys the endpoint node `id` of `type` (URL token `token`) wired to a helper node; answers the
 * messages the helper receives, in order: one per run started.
 */
async function loadEndpoint(
  type: string,
  id: string,
  config: Record<string, unknown>,
  credentials: Record<string, string>,
): Promise<RunMessage[]> {
  await helper.load(
    packageNodes(),
    [
      { id: 'tab', type: 'tab' },
      { id, z: 'tab', type, ...config, wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ],
    { [id]: { token, ...credentials } },
  );
  return received<WithRequest>('out');
}

describe('Endpoint protection on Webhook in', function () {
  let base: string;
  let dataDir: string;
  let runs: RunMessage[];
  const warnings = () => callsOn('hook', 'warn').map((args) => String(args[0]));

  useRed((env) => ({ base, dataDir } = env));

  const load = async (hook: Record<string, unknown>, credentials: Record<string, string> = {}) => {
    runs = await loadEndpoint('imis-webhook-in', 'hook', hook, credentials);
  };
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/imis/hook/${token}`, { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body });
  /** Deliberate window: lets a run that was (wrongly) started reach the helper node, to see none did. */
  const settle = () => quietWindow(50);
  const statusText = () => lastStatus('hook');

  async function refused(res: Response, status: number, message: RegExp) {
    assert.equal(res.status, status);
    const body = await res.json();
    assert.equal(body.error, true);
    assert.match(body.message, message);
    await settle();
    assert.equal(runs.length, 0, 'no run started');
    return body;
  }

  describe('shared secret header', () => {
    beforeEach(() => load({ secretHeader: 'X-Hook-Auth' }, { headerSecret: API_KEY }));

    it('accepts the right value and starts the run', async () => {
      const res = await post('{"n":1}', { 'X-Hook-Auth': API_KEY });
      assert.equal(res.status, 200);
      await waitFor(() => runs.length === 1, 2000, 'the run');
      assert.deepEqual(runs[0].payload, { n: 1 });
    });

    it('answers 401 to a wrong or a missing value, starts nothing, and counts and logs each', async () => {
      await refused(
        await post('{"n":1}', { 'X-Hook-Auth': API_KEY.slice(1) }),
        401,
        /Invalid X-Hook-Auth header/,
      );
      await refused(await post('{"n":1}'), 401, /Missing X-Hook-Auth header/);
      await waitFor(() => /2 rejected/.test(statusText()), 2000, 'the status count');
      assert.equal(warnings().length, 2);
      assert.match(
        warnings()[0],
        /^Rejected a request from .*127\.0\.0\.1 \(401\): Invalid X-Hook-Auth header$/,
      );
      assert.ok(!warnings().join().includes(API_KEY.slice(1)), 'the log holds no secret, nor the guess');
    });

    it('never stores the value of its header, whatever its name', async () => {
      await helper.unload();
      await load({ secretHeader: 'X-Hook-Auth', metadataProp: 'req' }, { headerSecret: API_KEY });
      const res = await post('{"n":2}', { 'X-Hook-Auth': API_KEY });
      const { id } = await res.json();
      await waitFor(() => runs.length === 1, 2000, 'the run');
      assert.equal(runs[0].req.headers['x-hook-auth'], API_KEY, 'the flow gets the header');
      await waitFor(() => storeBytes(dataDir).includes(id), 3000, 'the stored run');
      assert.ok(!storeBytes(dataDir).includes(API_KEY), 'the store holds no secret');
    });
  });

  describe('GitHub signature', () => {
    beforeEach(() => load({ signature: 'github' }, { signatureSecret: SIGNING }));
    const body = '{"action":"opened","number":7}';

    it('accepts the body signed with the secret', async () => {
      const res = await post(body, { 'X-Hub-Signature-256': githubSignature(body) });
      assert.equal(res.status, 200);
      await waitFor(() => runs.length === 1, 2000, 'the run');
    });

    it('answers 401 to a wrong, a missing and a malformed signature, and starts nothing', async () => {
      await refused(
        await post(body, { 'X-Hub-Signature-256': githubSignature(body, 'not the secret') }),
        401,
        /Invalid signature/,
      );
      await refused(
        await post(body.replace('7', '8'), { 'X-Hub-Signature-256': githubSignature(body) }),
        401,
        /Invalid signature/,
      );
      await refused(await post(body), 401, /Missing signature header X-Hub-Signature-256/);
      await refused(await post(body, { 'X-Hub-Signature-256': 'sha256=xyz' }), 401, /Malformed signature/);
      assert.ok(!warnings().join().includes(SIGNING));
    });

    it('checks the bytes as sent: the same JSON re-spaced does not match', async () => {
      await refused(
        await post('{"action": "opened", "number": 7}', { 'X-Hub-Signature-256': githubSignature(body) }),
        401,
        /Invalid signature/,
      );
    });

    it('answers an invalid signature with 401 before a JSON error (the body is judged before it is parsed)', async () => {
      await refused(
        await post('{not json', { 'X-Hub-Signature-256': githubSignature('{}') }),
        401,
        /Invalid/,
      );
      const res = await post('{not json', { 'X-Hub-Signature-256': githubSignature('{not json') });
      assert.equal(res.status, 400, 'signed but invalid JSON: the usual 400');
    });

    it('verifies an empty request (no body) against the empty string', async () => {
      const res = await fetch(`${base}/imis/hook/${token}`, {
        method: 'POST',
        headers: { 'X-Hub-Signature-256': githubSignature('') },
      });
      assert.equal(res.status, 200);
      await waitFor(() => runs.length === 1, 2000, 'the run');
      runs.length = 0;
      await refused(
        await fetch(`${base}/imis/hook/${token}`, {
          method: 'POST',
          headers: { 'X-Hub-Signature-256': githubSignature('x') },
        }),
        401,
        /Invalid signature/,
      );
      // A JSON Content-Type without a body is no body either: checked the same.
      await refused(
        await fetch(`${base}/imis/hook/${token}`, {
          method: 'POST',
          headers: { ...JSON_TYPE, 'X-Hub-Signature-256': githubSignature('x') },
        }),
        401,
        /Invalid signature/,
      );
    });

    it('checks the bytes once their Content-Encoding is undone, before they are decoded', async () => {
      const utf16 = Buffer.from('\ufeff{"name":"Zoë"}', 'utf16le');
      const zipped = gzipSync(utf16);
      const headers = { 'Content-Type': 'application/json; charset=utf-16le', 'Content-Encoding': 'gzip' };
      const sign = (bytes: Buffer) => `sha256=${createHmac('sha256', SIGNING).update(bytes).digest('hex')}`;
      await refused(
        await fetch(`${base}/imis/hook/${token}`, {
          method: 'POST',
          headers: { ...headers, 'X-Hub-Signature-256': sign(zipped) },
          body: zipped,
        }),
        401,
        /Invalid signature/,
      );
      const res = await fetch(`${base}/imis/hook/${token}`, {
        method: 'POST',
        headers: { ...headers, 'X-Hub-Signature-256': sign(utf16) },
        body: zipped,
      });
      assert.equal(res.status, 200);
      await waitFor(() => runs.length === 1, 2000, 'the run');
      assert.deepEqual(runs[0].payload, { name: 'Zoë' });
    });
  });

  describe('Stripe signature with its timestamp', () => {
    beforeEach(() => load({ signature: 'stripe', toleranceSec: 300 }, { signatureSecret: SIGNING }));
    const body = '{"id":"evt_1","type":"invoice.paid"}';
    const now = () => Math.floor(Date.now() / 1000);

    it('accepts a fresh, signed timestamp', async () => {
      const res = await post(body, { 'Stripe-Signature': stripeSignature(body, now()) });
      assert.equal(res.status, 200);
      await waitFor(() => runs.length === 1, 2000, 'the run');
    });

    it('answers 401 to a replay outside the window, even correctly signed', async () => {
      const old = now() - 301;
      await refused(await post(body, { 'Stripe-Signature': stripeSignature(body, old) }), 401, /300 s/);
    });
  });

  describe('Standard Webhooks signature, each delivery run once', () => {
    // A secret as Svix and others show it: whsec_ and the base64 of the key bytes.
    const key = randomBytes(24);
    const secret = `whsec_${key.toString('base64')}`;
    const body = '{"type":"contact.created","data":{"id":"1f81eb52"}}';
    const seconds = () => Math.floor(Date.now() / 1000);
    const standardHeaders = (id: string, at = seconds(), signedBody = body, signingKey = key) => ({
      'webhook-id': id,
      'webhook-timestamp': String(at),
      'webhook-signature': `v1,${createHmac('sha256', signingKey).update(`${id}.${at}.${signedBody}`).digest('base64')}`,
    });
    const runsOfTab = async (): Promise<RunSummary[]> =>
      (await helper.request().get<RunSummary[]>('/imis/runs?flow=tab').expect(200)).body;

    beforeEach(() =>
      load({ signature: 'standard-webhooks', metadataProp: 'req' }, { signatureSecret: secret }),
    );

    it('starts one run per webhook-id: a copy, re-sent or re-signed later, gets the first answer and starts none', async () => {
      const sent = standardHeaders('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W');
      const first = await post(body, sent);
      assert.equal(first.status, 200);
      const answer = await first.json();
      assert.deepEqual(Object.keys(answer), ['error', 'id', 'queueTime']);
      assert.equal(answer.error, false);
      await waitFor(() => runs.length === 1, 2000, 'the run');
      assert.equal(runs[0]._msgid, answer.id);

      const copy = await post(body, sent);
      assert.equal(copy.status, 200);
      assert.deepEqual(await copy.json(), answer, 'the same answer as the first call');
      // The sender's retry: a new attempt time, signed again, the same id.
      const retry = await post(body, standardHeaders('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', seconds() + 2));
      assert.deepEqual(await retry.json(), answer);
      await settle();
      assert.equal(runs.length, 1, 'no second run');
      await waitFor(() => /1 accepted, 2 duplicates answered/.test(statusText()), 2000, 'the status');
      assert.deepEqual(
        (await runsOfTab()).map((r) => r.id),
        [answer.id],
        'one run in the runs API',
      );

      // Another id is another delivery.
      assert.equal((await post(body, standardHeaders('msg_other'))).status, 200);
      await waitFor(() => runs.length === 2, 2000, 'the second delivery');
    });

    it('remembers the ids it accepted across a restart on the same data folder', async () => {
      const sent = standardHeaders('msg_before_restart');
      const answer = await (await post(body, sent)).json();
      await waitFor(() => runs.length === 1, 2000, 'the run');
      await stopHelper();
      base = await startHelper(dataDir);
      await load({ signature: 'standard-webhooks', metadataProp: 'req' }, { signatureSecret: secret });
      const copy = await post(body, sent);
      assert.equal(copy.status, 200);
      assert.deepEqual(await copy.json(), answer);
      await settle();
      assert.equal(runs.length, 0, 'no run after the restart');
      assert.deepEqual(
        (await runsOfTab()).map((r) => r.id),
        [answer.id],
      );
    });

    it("answers 401 with iHook's JSON to a wrong signature, a stale or future timestamp, a missing id, and runs nothing", async () => {
      const wrong = standardHeaders('msg_1', seconds(), body, randomBytes(24));
      const wrongBody = await refused(
        await post(body, wrong),
        401,
        /Invalid signature in header webhook-signature/,
      );
      assert.deepEqual(wrongBody, {
        error: true,
        message: 'Invalid signature in header webhook-signature: it does not match the body',
      });
      await refused(await post(body, standardHeaders('msg_2', seconds() - 301)), 401, /more than 300 s away/);
      await refused(await post(body, standardHeaders('msg_3', seconds() + 301)), 401, /more than 300 s away/);
      const { 'webhook-id': _id, ...noId } = standardHeaders('msg_4');
      await refused(await post(body, noId), 401, /^Missing message id header webhook-id$/);
      await refused(
        await post(body, { ...standardHeaders('msg_5'), 'webhook-timestamp': 'soon' }),
        401,
        /Malformed timestamp in header webhook-timestamp: send Unix seconds/,
      );
      // A refused id was not remembered: the genuine delivery under it runs.
      assert.equal((await post(body, standardHeaders('msg_1'))).status, 200);
      await waitFor(() => runs.length === 1, 2000, 'the genuine delivery');
      assert.ok(!warnings().join().includes(secret));
    });

    it('never stores the secret, and stores the signature header redacted', async () => {
      const sent = standardHeaders('msg_stored');
      const { id } = await (await post(body, sent)).json();
      await waitFor(() => runs.length === 1, 2000, 'the run');
      assert.equal(runs[0].req.headers['webhook-signature'], sent['webhook-signature'], 'the flow gets it');
      const run = (await helper.request().get<RunAnswer>(`/imis/runs/${id}`).expect(200)).body;
      const stored = JSON.stringify(run);
      assert.match(stored, /"webhook-signature":"\[redacted\]"/);
      assert.match(stored, /"webhook-id":"msg_stored"/);
      await waitFor(() => storeBytes(dataDir).includes(id), 3000, 'the stored run');
      const bytes = storeBytes(dataDir);
      for (const secretText of [secret, key.toString('base64'), sent['webhook-signature'].slice(3)])
        assert.ok(!bytes.includes(secretText), 'the store holds no secret and no signature');
    });

    it('signs the editor’s test payload under a new id each time, so each test runs', async () => {
      const test = () =>
        helper
          .request()
          .post<SentTest>('/imis/imis-webhook-in/hook/test')
          .send({ payload: '{"test": true}' })
          .expect(200);
      const [a, b] = [(await test()).body, (await test()).body];
      assert.equal(a.status, 200);
      assert.equal(a.signed, true);
      assert.notEqual(JSON.parse(a.body).id, JSON.parse(b.body).id);
      await waitFor(() => runs.length === 2, 2000, 'two test runs');
      assert.match(runs[0].req.headers['webhook-id'], /^msg_/);
    });
  });

  it('SHA-1 for older senders (custom scheme)', async () => {
    await load(
      { signature: 'custom', signatureHeader: 'X-Sig', signatureAlgorithm: 'sha1', signaturePrefix: 'sha1=' },
      { signatureSecret: SIGNING },
    );
    const body = '{"old":true}';
    const sha1 = `sha1=${createHmac('sha1', SIGNING).update(body).digest('hex')}`;
    assert.equal((await post(body, { 'X-Sig': sha1 })).status, 200);
    await waitFor(() => runs.length === 1, 2000, 'the run');
    runs.length = 0;
    await refused(await post(body, { 'X-Sig': githubSignature(body) }), 401, /Malformed/);
  });

  describe('address allowlist', () => {
    it('answers a listed IPv4 address, and 403 to an address outside', async () => {
      await load({ allowFrom: '127.0.0.0/8' });
      assert.equal((await post('{}')).status, 200);
      await helper.unload();
      await load({ allowFrom: '10.0.0.0/8, 2001:db8::/32' });
      await refused(await post('{}'), 403, /127\.0\.0\.1 is not allowed/);
    });

    it('ignores X-Forwarded-For when no proxy is trusted (the default)', async () => {
      await load({ allowFrom: '203.0.113.0/24, 2001:db8::/32' });
      await refused(await post('{}', { 'X-Forwarded-For': '203.0.113.5' }), 403, /127\.0\.0\.1/);
      await refused(await post('{}', { 'X-Forwarded-For': '2001:db8::5' }), 403, /127\.0\.0\.1/);
    });

    it("uses X-Forwarded-For from a trusted proxy (Node-RED's httpServerOptions 'trust proxy'), IPv4 and IPv6", async () => {
      // What Node-RED does with httpServerOptions: { 'trust proxy': 'loopback' } on the flows' app.
      await load({ allowFrom: '203.0.113.0/24, 2001:db8::/32' });
      httpNodeApp().set('trust proxy', 'loopback');
      assert.equal((await post('{}', { 'X-Forwarded-For': '203.0.113.5' })).status, 200);
      assert.equal((await post('{}', { 'X-Forwarded-For': '2001:db8::5' })).status, 200);
      await waitFor(() => runs.length === 2, 2000, 'two runs');
      runs.length = 0;
      await refused(await post('{}', { 'X-Forwarded-For': '198.51.100.1' }), 403, /198\.51\.100\.1 is not/);
      await refused(await post('{}', { 'X-Forwarded-For': '2001:db9::5' }), 403, /2001:db9::5 is not/);
      // The client is the nearest address the trusted proxies did not add: a forged first entry is ignored.
      await refused(
        await post('{}', { 'X-Forwarded-For': '203.0.113.5, 198.51.100.1' }),
        403,
        /198\.51\.100\.1 is not/,
      );
    });
  });

  describe('rate limit', () => {
    it('answers 429 with Retry-After past the limit, and starts nothing more', async () => {
      await load({ rateLimit: 3, ratePeriod: 'minute' });
      for (let i = 0; i < 3; i++) assert.equal((await post(`{"i":${i}}`)).status, 200);
      await waitFor(() => runs.length === 3, 2000, 'three runs');
      runs.length = 0;
      const res = await post('{"i":3}');
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 20, `Retry-After ${retryAfter}`);
      await refused(res, 429, /Too many requests: retry after \d+ s/);
      await waitFor(() => /1 rejected/.test(statusText()), 2000, 'the status count');
    });

    it('keeps Retry-After when the response body is omitted', async () => {
      await load({ rateLimit: 1, ratePeriod: 'hour', omitBody: true });
      assert.equal((await post('{}')).status, 200);
      const res = await post('{}');
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '3600');
    });
  });

  it('logs one line per reason at most every 10 s, then counts the ones in between', async () => {
    await load({ secretHeader: 'X-Hook-Auth' }, { headerSecret: API_KEY });
    for (let i = 0; i < 5; i++) assert.equal((await post('{}')).status, 401);
    assert.equal(warnings().length, 1);
    await waitFor(() => /5 rejected/.test(statusText()), 2000, 'the status count');
  });

  it('stops with an error when a protection cannot work, and its URL answers 401 as unknown', async () => {
    await load({ signature: 'github' });
    const errors = callsOn('hook', 'error').map((args) => String(args[0]));
    assert.match(errors.join('\n'), /Protection settings: A signature check is set but its secret is empty/);
    const res = await post('{}');
    assert.equal(res.status, 401);
    assert.match((await res.json()).message, /Invalid webhook URL/);
    assert.match(statusText(), /invalid protection settings/);
  });

  it('runs a Webhook in saved at config version 1 (before protections) unprotected, as before', async () => {
    await load({ return202: false, omitBody: false, metadataProp: '', maxBodyKb: 1024, cfgVersion: 1 });
    assert.equal((await post('{"v":1}')).status, 200);
    await waitFor(() => runs.length === 1, 2000, 'the run');
    assert.equal(callsOn('hook', 'error').length, 0);
  });

  it('keeps the default of iHook: no protection, the secret URL alone', async () => {
    await load({});
    const res = await post('{"plain":true}', { 'X-Forwarded-For': '203.0.113.5' });
    assert.equal(res.status, 200);
    await waitFor(() => runs.length === 1, 2000, 'the run');
  });

  describe('refused calls list (admin runs API)', () => {
    const list = (query = '') => helper.request().get<RefusedCall[]>(`/imis/refused${query}`);

    it('lists each refusal newest first: time, endpoint, status, reason and address, no secret and no body', async () => {
      await load(
        { secretHeader: 'X-Hook-Auth', rateLimit: 2, ratePeriod: 'hour' },
        { headerSecret: API_KEY },
      );
      const started = new Date().toISOString();
      assert.equal((await post('{"n":1}', { 'X-Hook-Auth': API_KEY })).status, 200);
      assert.equal((await post('{"body":"not kept"}', { 'X-Hook-Auth': 'guess-1' })).status, 401);
      assert.equal((await post('{"n":3}', { 'X-Hook-Auth': API_KEY })).status, 429);
      const refused = (await list().expect(200)).body;
      assert.deepEqual(
        refused.map((r) => [r.status, r.reason]),
        [
          [429, 'Too many requests: retry after 1800 s'],
          [401, 'Invalid X-Hook-Auth header'],
        ],
      );
      for (const r of refused) {
        assert.deepEqual(r.trigger, { id: 'hook', type: 'imis-webhook-in' });
        assert.equal(r.flowId, 'tab');
        assert.match(String(r.address), /127\.0\.0\.1$/);
        assert.ok(r.time >= started, r.time);
      }
      const text = JSON.stringify(refused);
      assert.ok(!text.includes(API_KEY) && !text.includes('guess-1') && !text.includes('not kept'));
      assert.equal((await list('?trigger=hook&limit=1').expect(200)).body.length, 1);
      assert.deepEqual((await list('?trigger=other').expect(200)).body, []);
      assert.deepEqual((await list('?flow=other-tab').expect(200)).body, []);
    });

    it("is behind the runs API's read permission", async () => {
      await load({});
      await list().set(DENY_HEADER, 'imis-runs.read').expect(403);
    });

    it('forgets the refusals of an endpoint removed from the flows', async () => {
      await load({ allowFrom: '10.0.0.0/8' });
      assert.equal((await post('{}')).status, 403);
      assert.equal((await list().expect(200)).body.length, 1);
      // A deploy that keeps the flow's other node and removes the endpoint.
      await helper.setFlows(
        [
          { id: 'tab', type: 'tab' },
          { id: 'out', z: 'tab', type: 'helper' },
        ],
        'nodes',
      );
      assert.deepEqual((await list().expect(200)).body, []);
    });
  });

  describe('Send test payload (admin endpoint)', () => {
    const test = <T = SentTest>(id: string, payload: unknown) =>
      helper.request().post<T>(`/imis/imis-webhook-in/${id}/test`).send({ payload });

    it('signs the payload and adds the shared secret as the deployed node requires, and shows the answer', async () => {
      await load(
        { signature: 'github', secretHeader: 'X-Hook-Auth', metadataProp: 'req' },
        { signatureSecret: SIGNING, headerSecret: API_KEY },
      );
      const answer = (await test('hook', '{"test": true}').expect(200)).body;
      assert.equal(answer.status, 200);
      assert.equal(answer.signed, true);
      const { id } = JSON.parse(answer.body);
      await waitFor(() => runs.length === 1, 2000, 'the test run');
      assert.equal(runs[0]._msgid, id);
      assert.deepEqual(runs[0].payload, { test: true });
      assert.equal(runs[0].req.headers['x-hub-signature-256'], githubSignature('{"test": true}'));
      assert.ok(!JSON.stringify(answer).includes(API_KEY), 'the editor never gets the secret');
    });

    it('shows refusals as they are (e.g. an allowlist without this machine) and unsigned answers', async () => {
      await load({ allowFrom: '10.0.0.0/8' });
      const answer = (await test('hook', '{}').expect(200)).body;
      assert.equal(answer.status, 403);
      assert.equal(answer.signed, false);
      assert.match(JSON.parse(answer.body).message, /not allowed/);
      const invalid = (await test('hook', '{oops').expect(200)).body;
      assert.equal(invalid.status, 403);
    });

    it("is behind the node type's write permission", async () => {
      await load({});
      await test('hook', '{}').set(DENY_HEADER, 'imis-webhook-in.write').expect(403);
      await settle();
      assert.equal(runs.length, 0, 'nothing was posted');
    });

    it('asks to deploy first when the node is not deployed, and wants a payload', async () => {
      await load({});
      const missing = await test<ApiError>('not-deployed', '{}').expect(404);
      assert.match(missing.body.error, /Deploy this node first/);
      const empty = await test<ApiError>('hook', undefined).expect(400);
      assert.match(empty.body.error, /No test payload/);
    });
  });
});

describe('Endpoint protection on change notification in', function () {
  let base: string;
  let runs: RunMessage[];
  useRed((env) => ({ base } = env));

  const load = async (config: Record<string, unknown>, credentials: Record<string, string> = {}) => {
    runs = await loadEndpoint('imis-change-in', 'in', config, credentials);
  };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/imis/notify/${token}`, {
      method: 'POST',
      headers: { ...JSON_TYPE, ...headers },
      body: JSON.stringify(body),
    });
  const events = () => [
    {
      id: randomUUID(),
      topic: 't',
      subject: 'Party/101',
      eventType: 'Party.Updated',
      eventTime: new Date().toISOString(),
      dataVersion: '1.0',
      data: { EntityTypeName: 'Party', Action: 'Updated', Identity: '101' },
    },
  ];

  it('answers 401 to a delivery without the secret header, the validation handshake included', async () => {
    await load({ secretHeader: 'X-Delivery-Key' }, { headerSecret: API_KEY });
    const handshake = [
      {
        id: randomUUID(),
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        subject: '',
        eventTime: new Date().toISOString(),
        dataVersion: '1',
        data: { validationCode: 'code-1' },
      },
    ];
    assert.equal((await post(handshake)).status, 401);
    const ok = await post(handshake, { 'X-Delivery-Key': API_KEY });
    assert.deepEqual(await ok.json(), { validationResponse: 'code-1' });

    const refused = await post(events());
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error, true);
    assert.equal((await post(events(), { 'X-Delivery-Key': API_KEY })).status, 200);
    await waitFor(() => runs.length === 1, 2000, 'one run');
    assert.equal((await runsSettled(1)).succeeded, 1, 'one run');
    assert.equal(runs.length, 1, 'only the delivery with the secret ran');
    await waitFor(() => /2 rejected/.test(lastStatus('in')), 2000, 'the refused count');
  });

  it('checks a signature and the allowlist as Webhook in does', async () => {
    await load({ signature: 'github', allowFrom: '127.0.0.1, ::1' }, { signatureSecret: SIGNING });
    const batch = events();
    const text = JSON.stringify(batch);
    assert.equal((await post(batch, { 'X-Hub-Signature-256': githubSignature(text) })).status, 200);
    assert.equal((await post(events(), { 'X-Hub-Signature-256': githubSignature(text) })).status, 401);
    await helper.unload();
    await load({ allowFrom: '192.0.2.0/24' });
    assert.equal((await post(events())).status, 403);
    // Deliberate window: the refused delivery must start no run.
    await quietWindow(50);
    assert.equal(runs.length, 0);
  });

  it('runs a node saved at config version 1 (before protections) unprotected, as before', async () => {
    await load({
      eventTypes: [],
      includeFullRecord: false,
      recordProp: 'record',
      dropDuplicates: true,
      cfgVersion: 1,
    });
    assert.equal((await post(events())).status, 200);
    await waitFor(() => runs.length === 1, 2000, 'the run');
  });

  it('stops with an error when a protection cannot work, and its URL answers 401 as unknown', async () => {
    await load({ allowFrom: '10.0.0.0/8, intranet' });
    const errors = callsOn('in', 'error').map((args) => String(args[0]));
    assert.match(errors.join('\n'), /Protection settings: Allowed addresses: "intranet" is not/);
    assert.equal((await post(events())).status, 401);
    assert.match(lastStatus('in'), /invalid protection settings/);
  });

  it('answers 429 with Retry-After past its rate limit', async () => {
    await load({ rateLimit: 1, ratePeriod: 'second' });
    assert.equal((await post(events())).status, 200);
    const res = await post(events());
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '1');
  });
});
