import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Papa from 'papaparse';
import sinon from 'sinon';
import { useRed } from '../support/emulated.js';
import { helper, loggedText, nextMessage, packageNodes, waitFor } from '../support/red.js';

const newToken = () => randomBytes(24).toString('base64url');

describe('Export Data to URL', function () {
  let base: string;
  let token: string;

  useRed((env) => ({ base } = env));
  beforeEach(() => {
    token = newToken();
  });

  const flow = (config: Record<string, unknown> = {}) => [
    { id: 'tab', type: 'tab' },
    { id: 'export', z: 'tab', type: 'imis-export', ...config, wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  const load = (config: Record<string, unknown> = {}, t = token) =>
    helper.load(packageNodes(), flow(config), { export: { token: t } });
  const publish = (payload: unknown) => {
    const out = nextMessage<{ publicUrl: string }>('out');
    helper.getNode('export').receive({ payload });
    return out;
  };
  const link = (t = token) => `${base}/imis/export/${t}`;

  it('answers 404 with a clear message before the first run', async () => {
    await load();
    const res = await fetch(link());
    assert.equal(res.status, 404);
    assert.match((await res.json()).message, /Nothing published at this link yet/);
  });

  it('publishes JSON at the public link and puts the link in msg.publicUrl', async () => {
    await load();
    const msg = await publish([{ ID: '101', Name: 'Ada' }]);
    assert.match(msg.publicUrl, new RegExp(`/imis/export/${token}$`));
    const res = await fetch(link());
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), [{ ID: '101', Name: 'Ada' }]);
  });

  it('publishes CSV with a header from the union of keys, and revalidates with ETag (304)', async () => {
    await load({ format: 'csv' });
    await publish([
      { ID: '1', Name: 'Ann, "the" first' },
      { ID: '2', City: 'Zürich' },
    ]);
    const res = await fetch(link());
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    const text = await res.text();
    const parsed = Papa.parse<Record<string, string>>(text, { header: true });
    assert.deepEqual(parsed.meta.fields, ['ID', 'Name', 'City']);
    assert.equal(parsed.data[0].Name, 'Ann, "the" first');
    assert.equal(parsed.data[1].City, 'Zürich');
    const etag = res.headers.get('etag') ?? '';
    assert.ok(etag);
    assert.ok(res.headers.get('last-modified'));
    const again = await fetch(link(), { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
  });

  it('replaces the data on every run, and a reader never sees half of it', async () => {
    await load();
    const small = Array.from({ length: 10 }, (_, i) => ({ i }));
    const large = Array.from({ length: 20000 }, (_, i) => ({ i, text: 'x'.repeat(20) }));
    await publish(small);
    const reads: Promise<number | 'cut'>[] = [];
    for (let round = 0; round < 10; round++) {
      await publish(round % 2 ? small : large);
      // A body is sent in parts as they are read from the store; the one a publish replaces stays
      // readable, and a download whose body two publishes replaced meanwhile is cut (fewer bytes
      // than its Content-Length: the client fails), never completed with another body's bytes.
      for (let k = 0; k < 5; k++) {
        reads.push(
          fetch(link()).then(
            async (r) => (await r.json()).length,
            () => 'cut',
          ),
        );
      }
    }
    const lengths = await Promise.all(reads);
    assert.ok(
      lengths.every((n) => n === 10 || n === 20000 || n === 'cut'),
      `saw ${[...new Set(lengths)]}`,
    );
    assert.ok(lengths.includes(20000), `saw ${[...new Set(lengths)]}`);
  });

  it('sends a large body in parts with its length, the same bytes as published', async () => {
    await load({ format: 'csv' });
    const rows = Array.from({ length: 5500 }, (_, i) => ({ id: i, name: `Member ${i}`, city: 'Zürich' }));
    await publish(rows);
    const res = await fetch(link());
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(res.headers.get('content-length'), String(bytes.length));
    assert.equal(bytes.toString('utf8'), Papa.unparse(rows, { newline: '\r\n' }));
    const head = await fetch(link(), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(bytes.length));
  });

  it('fails the run with a clear error when the source is not an array', async () => {
    await load();
    const node = helper.getNode('export');
    node.receive({ payload: { not: 'rows' } });
    await waitFor(
      () => node.error.args.some((a: unknown[]) => /must be an array/.test(loggedText(a[0]))),
      2000,
      'the error saying the source must be an array',
    );
  });

  it('keeps the data and the link across a restart', async () => {
    await load();
    await publish([{ a: 1 }]);
    await helper.unload();
    await load();
    assert.deepEqual(await (await fetch(link())).json(), [{ a: 1 }]);
  });

  it('answers 404 on the old link once the link is regenerated and deployed', async () => {
    await load();
    await publish([{ a: 1 }]);
    const old = token;
    token = newToken();
    await helper.setFlows(flow(), 'full', { export: { token } });
    assert.equal((await fetch(link(old))).status, 404);
    assert.equal((await fetch(link(token))).status, 200);
  });

  it('stops serving a link that expired, says until when in the status, and serves links of old flows forever', async () => {
    // Only Date is faked: Node-RED's own timers keep running.
    const clock = sinon.useFakeTimers({ now: new Date('2026-05-01T08:00:00Z'), toFake: ['Date'] });
    try {
      await load({ expiry: '3d', renew: true });
      const statuses: string[] = [];
      helper.getNode('export').on('call:status', (call: { args: [{ text?: string }] }) => {
        statuses.push(String(call.args[0].text));
      });
      await publish([{ ID: '1' }]);
      assert.match(statuses.at(-1) ?? '', /link until/);
      clock.tick(3 * 24 * 3600 * 1000 - 1000);
      assert.equal((await fetch(link())).status, 200, 'alive just before');
      clock.tick(1000);
      const res = await fetch(link());
      assert.equal(res.status, 404, '404 at the expiry');
      assert.match((await res.json()).message, /expired/);
    } finally {
      clock.restore();
    }
    // A flow saved before expiry existed (cfgVersion 1, no expiry field) keeps its link forever.
    await helper.unload();
    await load({ cfgVersion: 1, source: 'payload', format: 'json', outputProp: 'publicUrl' });
    await publish([{ ID: '2' }]);
    const stored = await fetch(link());
    assert.equal(stored.status, 200);
  });
});
