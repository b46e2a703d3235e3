import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { SqliteStore } from '../../src/store/sqlite.js';
import { useRed } from '../support/emulated.js';
import {
  helper,
  nextMessage as next,
  packageNodes,
  quietWindow,
  received,
  storeBytes,
  waitFor,
} from '../support/red.js';
import type { RunStartInfo } from '../support/red.js';
import { settledRun } from '../support/runs.js';
import type { HookRefusal, RunAnswer } from '../support/runs.js';

/** A webhook's run as GET /imis/runs/<id> answers it: its request's headers kept. */
type HookRun = RunAnswer & { inputExtra: { request: { meta: { headers: Record<string, string> } } } };

/** What Webhook in starts a run with, as far as these tests read it. */
type HookMessage = RunStartInfo & {
  request: { meta: { headers: Record<string, string>; host: string; remoteAddress: string } };
  schemaError: { violations: { path: string }[] };
};

const token = randomBytes(24).toString('base64url');

/** `text` in UTF-32LE (Node's Buffer has no such encoding). */
function utf32le(text: string): Buffer<ArrayBuffer> {
  const points = [...text].map((c) => c.codePointAt(0) ?? 0);
  const bytes = Buffer.alloc(points.length * 4);
  points.forEach((p, i) => bytes.writeUInt32LE(p, i * 4));
  return bytes;
}

function flow(hook: Record<string, unknown> = {}, validate?: Record<string, unknown>) {
  const nodes: Record<string, unknown>[] = [
    { id: 'tab', type: 'tab' },
    { id: 'hook', z: 'tab', type: 'imis-webhook-in', ...hook, wires: [[validate ? 'validate' : 'out']] },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  if (validate)
    nodes.push(
      { id: 'validate', z: 'tab', type: 'imis-schema-validate', ...validate, wires: [['out'], ['bad']] },
      { id: 'bad', z: 'tab', type: 'helper' },
    );
  return nodes;
}

describe('Webhook in', function () {
  let base: string;
  let dataDir: string;
  useRed((env) => ({ base, dataDir } = env));

  const load = (hook: Record<string, unknown> = {}, validate?: Record<string, unknown>) =>
    helper.load(packageNodes(), flow(hook, validate), { hook: { token } });
  const url = (t = token) => `${base}/imis/hook/${t}`;
  const post = (
    body: string | undefined,
    headers: Record<string, string> = { 'Content-Type': 'application/json' },
  ) => fetch(url(), { method: 'POST', headers, body });
  const nextMessage = (id = 'out') => next<HookMessage>(id);

  it('sends the posted object as msg.payload with the run id the caller got', async () => {
    await load();
    const got = nextMessage();
    const res = await post('{"a":1,"b":{"c":"x"}}');
    const body = await res.json();
    const msg = await got;
    assert.deepEqual(msg.payload, { a: 1, b: { c: 'x' } });
    assert.equal(msg.imis.runId, body.id);
    assert.equal(msg.imis.queueTime, body.queueTime);
  });

  it('accepts text/json with a charset, and no body at all (payload {})', async () => {
    await load();
    let got = nextMessage();
    assert.equal((await post('{"x":true}', { 'Content-Type': 'text/json; charset=utf-8' })).status, 200);
    assert.deepEqual((await got).payload, { x: true });
    got = nextMessage();
    assert.equal((await post(undefined, {})).status, 200);
    assert.deepEqual((await got).payload, {});
  });

  it('reads a body compressed (gzip, x-gzip, deflate, br) or in UTF-16/32, and refuses other charsets', async () => {
    await load();
    const text = '{"name":"Zoë 🎉"}';
    const sent: [Record<string, string>, Buffer<ArrayBuffer>][] = [
      [{ 'Content-Encoding': 'gzip' }, gzipSync(text)],
      [{ 'Content-Encoding': 'x-gzip' }, gzipSync(text)],
      [{ 'Content-Encoding': 'deflate' }, deflateSync(text)],
      [{ 'Content-Encoding': 'br' }, brotliCompressSync(text)],
      [{ 'Content-Type': 'application/json; charset=utf-16' }, Buffer.from(`\ufeff${text}`, 'utf16le')],
      [{ 'Content-Type': 'application/json; charset=UTF-16LE' }, Buffer.from(text, 'utf16le')],
      [{ 'Content-Type': 'application/json; charset=utf-32le' }, utf32le(text)],
    ];
    for (const [headers, body] of sent) {
      const got = nextMessage();
      const res = await fetch(url(), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body,
      });
      assert.equal(res.status, 200, JSON.stringify(headers));
      assert.deepEqual((await got).payload, { name: 'Zoë 🎉' }, JSON.stringify(headers));
    }
    const latin1 = await post('{}', { 'Content-Type': 'application/json; charset=iso-8859-1' });
    assert.equal(latin1.status, 415);
    assert.match((await latin1.json()).message, /"ISO-8859-1"/);
    const unknown = await post('{}', { 'Content-Type': 'application/json; charset=utf-9' });
    assert.equal(unknown.status, 415);
  });

  it('answers 413 to a compressed body that inflates past the size limit', async () => {
    await load({ maxBodyKb: 1 });
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ data: ' '.repeat(100_000) })),
    });
    assert.equal(res.status, 413);
  });

  it('answers 400 for invalid JSON, a JSON array and a non-JSON content type', async () => {
    await load();
    const invalid = await post('{"a":');
    assert.equal(invalid.status, 400);
    assert.match((await invalid.json()).message, /^Invalid JSON body/);
    const array = await post('[1,2]');
    assert.equal(array.status, 400);
    assert.match((await array.json()).message, /must be a JSON object/);
    const scalar = await post('"hello"');
    assert.equal(scalar.status, 400);
    assert.equal((await scalar.json()).error, true, 'a JSON answer, not an HTML error page');
    const form = await post('a=1', { 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 400);
    assert.match((await form.json()).message, /Content-Type/);
  });

  it('answers 413 past the size limit and 405 to a GET', async () => {
    await load({ maxBodyKb: 1 });
    const big = await post(JSON.stringify({ data: 'x'.repeat(2048) }));
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error, true);
    const get = await fetch(url());
    assert.equal(get.status, 405);
  });

  it('answers 202 when asked to, and no body with Omit Response Body', async () => {
    await load({ return202: true, omitBody: true });
    const res = await post('{}');
    assert.equal(res.status, 202);
    assert.equal(await res.text(), '');
  });

  it('puts host, headers, remote address and time under the Metadata Output Property', async () => {
    await load({ metadataProp: 'request.meta' });
    const got = nextMessage();
    await post('{}', { 'Content-Type': 'application/json', 'X-Source': 'check-in-app' });
    const msg = await got;
    assert.equal(msg.request.meta.headers['x-source'], 'check-in-app');
    assert.match(msg.request.meta.host, /^127\.0\.0\.1:\d+$/);
    assert.match(msg.request.meta.remoteAddress, /127\.0\.0\.1/);
    assert.ok(!JSON.stringify(msg.request.meta).includes(token), 'the token is masked');
  });

  it("gives the flow the caller's secret headers but stores them nowhere (store, Runs API)", async () => {
    helper.settings({ imisDataDir: dataDir, imisRedactHeaders: ['X-Tenant-Key'] });
    await load({ metadataProp: 'request.meta' });
    const got = nextMessage();
    const secret = randomBytes(12).toString('hex');
    const sent: Record<string, string> = {
      Authorization: `Basic ${secret}`,
      'Proxy-Authorization': `Bearer ${secret}`,
      Cookie: `session=${secret}`,
      'X-Api-Key': secret,
      'X-Hub-Signature-256': `sha256=${secret}`,
      'Stripe-Signature': `t=1,v1=${secret}`,
      'X-Shopify-Hmac-Sha256': secret,
      'Aeg-Sas-Key': secret,
      'X-Acme-Signature': secret,
      'X-Tenant-Key': secret,
    };
    const res = await post('{"n":1}', { 'Content-Type': 'application/json', 'X-Source': 'kiosk', ...sent });
    const { id } = await res.json();
    const msg = await got;
    for (const name of Object.keys(sent))
      assert.ok(msg.request.meta.headers[name.toLowerCase()].includes(secret), `the flow gets ${name}`);

    await waitFor(() => storeBytes(dataDir).includes(id), 3000, 'the stored run');
    const run = (await helper.request().get<HookRun>(`/imis/runs/${id}`).expect(200)).body;
    const stored = run.inputExtra.request.meta.headers;
    for (const name of Object.keys(sent)) assert.equal(stored[name.toLowerCase()], '[redacted]', name);
    assert.equal(stored['x-source'], 'kiosk', 'other headers are kept');
    assert.ok(!storeBytes(dataDir).includes(secret), 'the store holds no secret');
  });

  it('answers before the flow finishes (the response never waits for the run)', async () => {
    await load();
    let delivered = false;
    helper.getNode('out').on('input', () => (delivered = true));
    const res = await post('{}');
    assert.equal(res.status, 200);
    assert.equal(delivered, false);
    await waitFor(() => delivered, 2000, 'delivery');
  });

  it('uses a schema node wired after it: 400 with the violations, and nothing runs', async () => {
    const schema = JSON.stringify({
      type: 'object',
      required: ['memberId'],
      properties: { n: { type: 'integer' } },
    });
    await load({}, { schema });
    let ran = false;
    helper.getNode('out').on('input', () => (ran = true));
    const res = await post('{"n":"x"}');
    assert.equal(res.status, 400);
    const body = (await res.json()) as HookRefusal;
    assert.deepEqual(body.errors?.map((e) => e.path).sort(), ['/memberId', '/n']);
    // Deliberate window: the refused payload must not reach the flow.
    await quietWindow(100);
    assert.equal(ran, false);
  });

  it('lets a schema node in "second output" mode route the invalid payload instead', async () => {
    const schema = JSON.stringify({ type: 'object', required: ['memberId'] });
    await load({}, { schema, onInvalid: 'output', outputs: 2 });
    const got = nextMessage('bad');
    const res = await post('{}');
    assert.equal(res.status, 200);
    const msg = await got;
    assert.equal(msg.schemaError.violations[0].path, '/memberId');
  });

  it('runs again, after a restart, what it accepted but never finished', async () => {
    await helper.unload();
    const store = new SqliteStore({ file: join(dataDir, 'imis.db') });
    await store.inputs.importInputs([
      {
        id: 'left-over-run-1',
        source: 'hook',
        payload: { memberId: '7' },
        acceptedAt: new Date().toISOString(),
      },
    ]);
    await store.close();
    await load();
    const replayed = received('out');
    await waitFor(() => replayed.length === 1, 3000, 'the replayed run');
    assert.equal(replayed[0]._msgid, 'left-over-run-1');
    assert.deepEqual(replayed[0].payload, { memberId: '7' });
  });

  it('settles a finished run in the store, so a restart does not run it again', async () => {
    await load();
    helper.getNode('out').on('input', () => undefined);
    const { id } = await (await post('{"n":1}')).json();
    await settledRun(id);
    await helper.unload();
    const store = new SqliteStore({ file: join(dataDir, 'imis.db') });
    assert.deepEqual(await store.inputs.claimPending('hook'), [], `run ${id} is not pending any more`);
    assert.equal((await store.runs.get(id))?.status, 'ok');
    await store.close();
  });

  it('never lets the flow configuration carry the token (what the editor and exports get)', async () => {
    await load();
    const flows = JSON.stringify(helper._redNodes.getFlows());
    assert.ok(!flows.includes(token));
  });
});
