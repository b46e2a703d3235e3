import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import type { RefusedCall } from '../../src/runs/refused.js';
import type { RejectedAnnouncement } from '../../src/nodes/lib/rejection-feed.js';
import {
  callsOn,
  DENY_HEADER,
  freshDataDir,
  helper,
  lastStatus,
  packageNodes,
  received,
  startHelper,
  stopHelper,
  waitFor,
} from '../support/red.js';
import type { CommsEvent, TestMessage } from '../support/red.js';

/**
 * Rejected calls at Webhook in and change notification in, over real sockets on 127.0.0.1: every
 * call answered with an error before a run starts is counted in the node's status and listed by
 * the runs API (GET /imis/refused) with its time, status, reason and address, never with its body
 * or the URL's token; calls to unknown URLs are kept, few, under the endpoint type.
 */

const token = randomBytes(24).toString('base64url');
const SIGNING = 'whsec_' + randomBytes(16).toString('hex');
const JSON_TYPE = { 'Content-Type': 'application/json' };
/** In every bad body: it must never show up in what is kept or logged. */
const MARKER = 'distinctive-body-marker-4711';
/** Short enough for JSON.parse to quote the whole body it fails on (longer ones it cuts). */
const SHORT = 'q7Zx9';

/** What a rejected call keeps: nothing of the request but its address. */
const KEPT = ['time', 'trigger', 'flowId', 'status', 'reason', 'address'];

const githubSignature = (body: string, secret = SIGNING) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('Rejected calls at the hook endpoints (runs API)', function () {
  let base: string;
  let runs: TestMessage[];

  beforeEach(async () => {
    base = await startHelper(freshDataDir());
  });
  afterEach(stopHelper);

  async function load(nodes: Record<string, unknown>[], credentials: Record<string, Record<string, string>>) {
    await helper.load(
      packageNodes(),
      [{ id: 'tab', type: 'tab' }, ...nodes, { id: 'out', z: 'tab', type: 'helper' }],
      credentials,
    );
    runs = received('out');
  }
  const loadHook = (config: Record<string, unknown> = {}, credentials: Record<string, string> = {}) =>
    load([{ id: 'hook', z: 'tab', type: 'imis-webhook-in', name: 'Orders', ...config, wires: [['out']] }], {
      hook: { token, ...credentials },
    });
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body });
  const list = (query = '') => helper.request().get<RefusedCall[]>(`/imis/refused${query}`);

  /** The kept calls, checked for what every one must (not) carry. */
  async function kept(query = ''): Promise<RefusedCall[]> {
    const res = await list(query).expect(200);
    const text = JSON.stringify(res.body);
    assert.ok(!text.includes(MARKER) && !text.includes(SHORT), `no body content kept: ${text}`);
    assert.ok(!text.includes(token), 'no URL token kept');
    assert.ok(!text.includes(SIGNING), 'no secret kept');
    for (const call of res.body) {
      assert.match(String(call.address), /127\.0\.0\.1$/);
      assert.ok(!Number.isNaN(Date.parse(call.time)), call.time);
      for (const key of Object.keys(call)) assert.ok(KEPT.includes(key), `kept: ${key}`);
    }
    return res.body;
  }

  it('lists a 400 for invalid JSON and a 413 for a body too large at Webhook in, without the body, and counts them', async () => {
    await loadHook({ maxBodyKb: 1 });
    const invalid = await post(`/imis/hook/${token}`, `{"m": ${SHORT}}`);
    assert.equal(invalid.status, 400);
    // The caller's answer quotes JSON.parse, excerpt and all; the list does not.
    assert.match((await invalid.json()).message, new RegExp(`Invalid JSON body: .*${SHORT}`));
    const large = await post(`/imis/hook/${token}`, JSON.stringify({ note: MARKER.repeat(100) }));
    assert.equal(large.status, 413);
    assert.equal(runs.length, 0);

    const calls = await kept();
    assert.deepEqual(
      calls.map((c) => [c.status, c.reason]),
      [
        [413, 'Request body larger than 1024 bytes'],
        [400, "Invalid JSON body: Unexpected token 'q'"],
      ],
    );
    for (const call of calls) {
      assert.deepEqual(call.trigger, { id: 'hook', type: 'imis-webhook-in', name: 'Orders' });
      assert.equal(call.flowId, 'tab');
    }
    assert.equal((await list('?flow=tab')).headers['x-total-count'], '2');
    await waitFor(() => /2 rejected/.test(lastStatus('hook')), 2000, 'the rejected count in the status');
  });

  it('lists a 401 for a wrong signature like the other rejections, one log line per reason at most', async () => {
    await loadHook({ signature: 'github' }, { signatureSecret: SIGNING });
    const body = `{"secret": "${MARKER}"}`;
    for (let i = 0; i < 3; i++) {
      const res = await post(`/imis/hook/${token}`, body, {
        'X-Hub-Signature-256': githubSignature(body, 'not the secret'),
      });
      assert.equal(res.status, 401);
    }
    assert.equal(
      (await post(`/imis/hook/${token}`, '[1]', { 'X-Hub-Signature-256': githubSignature('[1]') })).status,
      400,
    );
    const calls = await kept('?trigger=hook');
    assert.deepEqual(
      calls.map((c) => c.status),
      [400, 401, 401, 401],
    );
    assert.match(calls[1].reason, /signature/i);
    assert.equal(calls[0].reason, 'Invalid JSON body: the body must be a JSON object');
    const warnings = callsOn('hook', 'warn').map((args) => String(args[0]));
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0], /^Rejected a request from .*127\.0\.0\.1 \(401\)/);
    assert.match(warnings[1], /^Rejected a request from .*127\.0\.0\.1 \(400\): Invalid JSON body/);
    assert.ok(!warnings.join('\n').includes(MARKER));
    await waitFor(() => /4 rejected/.test(lastStatus('hook')), 2000, 'the rejected count in the status');
  });

  it('lists a 400 at change notification in, and a 405 to a GET of its URL', async () => {
    await load([{ id: 'in', z: 'tab', type: 'imis-change-in', eventTypes: [], wires: [['out']] }], {
      in: { token },
    });
    const events = await post(`/imis/notify/${token}`, JSON.stringify([{ eventType: MARKER }]));
    assert.equal(events.status, 400);
    assert.equal((await events.json()).message, 'Event 0 has no id');
    const invalid = await post(`/imis/notify/${token}`, `[${SHORT}`);
    assert.equal(invalid.status, 400);
    assert.equal((await fetch(`${base}/imis/notify/${token}`)).status, 405);
    assert.equal(runs.length, 0);
    const calls = await kept('?flow=tab');
    assert.deepEqual(
      calls.map((c) => [c.status, c.reason.replace(/:.*/, '')]),
      [
        [405, 'Method GET not allowed'],
        [400, 'Invalid JSON body'],
        [400, 'Event 0 has no id'],
      ],
    );
    assert.ok(calls.every((c) => c.trigger.id === 'in' && c.trigger.type === 'imis-change-in'));
    await waitFor(() => /3 rejected/.test(lastStatus('in')), 2000, 'the rejected count in the status');
  });

  it('lists calls to an unknown URL under the endpoint type, without the token, and keeps few of them', async () => {
    await loadHook();
    const wrong = randomBytes(24).toString('base64url');
    const res = await post(`/imis/hook/${wrong}`, `{"x": "${MARKER}"}`);
    assert.equal(res.status, 401);
    const [call] = await kept();
    assert.deepEqual(call.trigger, { type: 'imis-webhook-in' });
    assert.equal(call.flowId, undefined);
    assert.deepEqual([call.status, call.reason], [401, 'Invalid webhook URL or token']);
    assert.ok(!JSON.stringify(call).includes(wrong), 'the token tried is not kept');
    // Not an endpoint of any flow.
    assert.deepEqual((await list('?flow=tab').expect(200)).body, []);

    // A caller spraying tokens: 1,000 calls keep a bounded list, and still count.
    const spray = Array.from(
      { length: 1000 },
      (_, i) => `guess${i}-${randomBytes(16).toString('base64url')}`,
    );
    for (let i = 0; i < spray.length; i += 50) {
      const answers = await Promise.all(spray.slice(i, i + 50).map((t) => post(`/imis/hook/${t}`, '{}')));
      assert.ok(answers.every((a) => a.status === 401));
    }
    const after = await list().expect(200);
    assert.ok(after.body.length <= 20, `kept ${after.body.length}`);
    assert.equal(after.headers['x-total-count'], '1001');
    const text = JSON.stringify(after.body);
    assert.ok(!spray.some((t) => text.includes(t)), 'no token tried is kept');
    // The endpoint's own list is not pushed out by them.
    assert.equal((await post(`/imis/hook/${token}`, 'not json')).status, 400);
    assert.equal((await list('?trigger=hook').expect(200)).body.length, 1);
  });

  it('announces rejected calls to the editors at most once a second, with their flows', async () => {
    await loadHook();
    const events: RejectedAnnouncement[] = [];
    const listener = (event: CommsEvent) =>
      event.topic === 'imis/rejected' && events.push(event.data as RejectedAnnouncement);
    helper._events.on('comms', listener);
    try {
      await Promise.all(Array.from({ length: 30 }, () => post(`/imis/hook/${token}`, '[')));
      await waitFor(() => events.length >= 1, 2000, 'the first announcement');
      assert.ok(events.length <= 2, `${events.length} announcements for 30 calls in a moment`);
      await new Promise((r) => setTimeout(r, 1200));
      assert.ok(events.length <= 2, `${events.length} announcements for 30 calls in a moment`);
      assert.deepEqual(events[0], { flowIds: ['tab'], triggerIds: ['hook'], unknown: false });
    } finally {
      helper._events.removeListener('comms', listener);
    }
  });

  it("is behind the runs API's read permission", async () => {
    await loadHook();
    await list().set(DENY_HEADER, 'imis-runs.read').expect(403);
  });
});
