import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NODE_RED_PKG, PACKAGE_ROOT, startNodeRed } from '../editor/red-process.js';
import type { RedProcess } from '../editor/red-process.js';
import type { RunRecord } from '../../src/runs/tracker.js';
import { quietWindow, storeBytes, waitFor } from '../support/red.js';
import type { RunSummary } from '../support/runs.js';

/**
 * The webhook and change notification endpoints in a real Node-RED (a child process, as users run
 * it), where the editor's own body parsers sit in front of the flows when both share a root path.
 * Run for Node-RED's defaults and for other layouts, on the Node-RED version the suite runs with.
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A raw HTTP request: `chunks` are written as given (no Content-Length header = chunked). */
function send(url: string, headers: Record<string, string>, chunks: (string | Buffer)[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString() }),
      );
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const JSON_TYPE = { 'Content-Type': 'application/json' };
const STACK_FRAME = /\n\s*at |\bat [\w$.<> ]*\(?[^()\s]*:\d+:\d+\)?/;

const layouts: { name: string; settings: Record<string, unknown>; admin: string; flows: string }[] = [
  { name: "Node-RED's default settings (editor and flows both at /)", settings: {}, admin: '', flows: '' },
  {
    name: 'a separate admin root (/admin)',
    settings: { httpAdminRoot: '/admin' },
    admin: '/admin',
    flows: '',
  },
  {
    name: 'the flows below the editor (httpNodeRoot /api)',
    settings: { httpNodeRoot: '/api' },
    admin: '',
    flows: '/api',
  },
];

for (const layout of layouts) {
  describe(`Webhook and notification endpoints in Node-RED (${NODE_RED_PKG}) with ${layout.name}`, function () {
    this.timeout(60_000);
    const hookToken = randomBytes(24).toString('base64url');
    const notifyToken = randomBytes(24).toString('base64url');
    let red: RedProcess;
    let hook: string;
    let notify: string;

    before(async () => {
      red = await startNodeRed({
        settings: layout.settings,
        flows: [
          { id: 'tab', type: 'tab', label: 'endpoints' },
          {
            id: 'hook',
            z: 'tab',
            type: 'imis-webhook-in',
            maxBodyKb: 1,
            metadataProp: 'request',
            wires: [[]],
          },
          { id: 'notify', z: 'tab', type: 'imis-change-in', metadataProp: 'request', wires: [[]] },
        ],
        credentials: { hook: { token: hookToken }, notify: { token: notifyToken } },
      });
      hook = `${red.url}${layout.flows}/imis/hook/${hookToken}`;
      notify = `${red.url}${layout.flows}/imis/notify/${notifyToken}`;
    });
    after(async () => {
      await red?.close();
    });

    /** iHook's JSON answer with `status`, and nothing a server should never show. */
    const assertHookError = (answer: Answer, status: number, what: string) => {
      assert.equal(answer.status, status, `${what}: status (${answer.text.slice(0, 200)})`);
      assert.match(String(answer.headers['content-type']), /^application\/json/, `${what}: a JSON answer`);
      const body = JSON.parse(answer.text);
      assert.equal(body.error, true, what);
      assert.equal(typeof body.message, 'string', what);
      assert.doesNotMatch(answer.text, STACK_FRAME, `${what}: no stack trace`);
      assert.ok(!answer.text.includes('node_modules'), `${what}: no module path`);
      assert.ok(
        !answer.text.includes(PACKAGE_ROOT) && !answer.text.includes(red.userDir),
        `${what}: no path`,
      );
      assert.doesNotMatch(answer.text, /\/[\w.-]+\/[\w.-]+\.(js|ts|mjs)\b/, `${what}: no file path`);
      return body;
    };
    /** Run `id` as the runs API answers it once finished (a finished run is listed once committed). */
    const finishedRun = (id: string): Promise<RunRecord> =>
      waitFor(
        async () => {
          const run = (await (await fetch(`${red.url}${layout.admin}/imis/runs/${id}`)).json()) as RunRecord;
          return run.status !== 'running' && run;
        },
        5000,
        `run ${id} to finish`,
      );
    const runs = async (): Promise<RunSummary[]> => {
      const res = await fetch(`${red.url}${layout.admin}/imis/runs?flow=tab`);
      assert.equal(res.status, 200);
      return res.json();
    };

    it('answers each body that is not a JSON object with JSON 400 on both endpoints', async () => {
      for (const body of ['not json', '{', '"str"', '42', 'null']) {
        assertHookError(await send(hook, JSON_TYPE, [body]), 400, `webhook, body ${body}`);
        assertHookError(await send(notify, JSON_TYPE, [body]), 400, `notification, body ${body}`);
      }
    });

    it('answers an unsupported charset with JSON 415', async () => {
      for (const url of [hook, notify]) {
        const answer = await send(url, { 'Content-Type': 'application/json; charset=latin9' }, ['{}']);
        assert.match(assertHookError(answer, 415, 'charset').message, /charset "LATIN9"/);
      }
    });

    it('answers a body that is not what its Content-Encoding says with JSON 400, an unknown encoding with 415', async () => {
      for (const url of [hook, notify]) {
        const mismatch = await send(url, { ...JSON_TYPE, 'Content-Encoding': 'gzip' }, ['{"a":1}']);
        assert.match(assertHookError(mismatch, 400, 'gzip header, plain body').message, /gzip/);
        const unknown = await send(url, { ...JSON_TYPE, 'Content-Encoding': 'x-squeeze' }, ['{}']);
        assert.match(assertHookError(unknown, 415, 'unknown encoding').message, /x-squeeze/);
      }
    });

    it('reads a gzip-encoded JSON body', async () => {
      const answer = await send(hook, { ...JSON_TYPE, 'Content-Encoding': 'gzip' }, [
        gzipSync('{"zipped":true}'),
      ]);
      assert.equal(answer.status, 200, answer.text);
      // Its run is stored before the next test counts runs (a finished run is listed once committed).
      const { id } = JSON.parse(answer.text);
      const run = await finishedRun(id);
      assert.deepEqual(run.input, { zipped: true });
    });

    it('answers 413 to a chunked body over the limit, and starts no run', async () => {
      const before = (await runs()).length;
      const big = JSON.stringify({ data: 'x'.repeat(4096) });
      const chunks = [big.slice(0, 1000), big.slice(1000, 3000), big.slice(3000)];
      const answer = await send(hook, { ...JSON_TYPE, 'Transfer-Encoding': 'chunked' }, chunks);
      assertHookError(answer, 413, 'chunked, over 1 KB');
      // Deliberate window: no run may start from the refused body.
      await quietWindow(100);
      assert.equal((await runs()).length, before, 'no run started');
    });

    it('answers 413 to a body over the limit by its Content-Length', async () => {
      const big = JSON.stringify({ data: 'x'.repeat(4096) });
      const answer = await send(hook, { ...JSON_TYPE, 'Content-Length': String(Buffer.byteLength(big)) }, [
        big,
      ]);
      assertHookError(answer, 413, 'Content-Length over 1 KB');
    });

    it('answers 413 to a notification bigger than 5 MB sent chunked (the editor parser reads at most 5 MB)', async () => {
      const chunk = 'x'.repeat(1024 * 1024);
      const chunks = ['[{"id":"1","eventType":"Party.Updated","data":"', ...Array(6).fill(chunk), '"}]'];
      const answer = await send(notify, { ...JSON_TYPE, 'Transfer-Encoding': 'chunked' }, chunks);
      assertHookError(answer, 413, 'chunked, over 5 MB');
    });

    it('answers a token with a malformed % escape with JSON 401', async () => {
      const answer = await send(`${red.url}${layout.flows}/imis/hook/%E0%A4%A`, JSON_TYPE, ['{}']);
      assertHookError(answer, 401, 'malformed escape');
    });

    it('accepts a JSON object, and stores no secret header of the caller (Metadata Output Property)', async () => {
      const secret = randomUUID();
      const answer = await send(
        hook,
        {
          ...JSON_TYPE,
          Authorization: `Bearer ${secret}`,
          Cookie: `session=${secret}`,
          'X-Hub-Signature-256': `sha256=${secret}`,
          'X-Source': 'kiosk',
        },
        ['{"memberId":"101"}'],
      );
      assert.equal(answer.status, 200, answer.text);
      const { id } = JSON.parse(answer.text);
      const run = await finishedRun(id);
      assert.equal(run.status, 'ok');
      const { headers } = run.inputExtra?.request as { headers: Record<string, string> };
      assert.equal(headers.authorization, '[redacted]');
      assert.equal(headers.cookie, '[redacted]');
      assert.equal(headers['x-hub-signature-256'], '[redacted]');
      assert.equal(headers['x-source'], 'kiosk');
      const dataDir = join(red.userDir, 'imis-data');
      const stored = storeBytes(dataDir);
      assert.ok(stored.includes(id), 'the store holds the accepted call');
      assert.ok(!stored.includes(secret), 'the store holds no secret');
      if (process.platform !== 'win32') {
        assert.equal(statSync(dataDir).mode & 0o777, 0o700, 'imis-data is private');
        assert.equal(statSync(join(dataDir, 'imis.db')).mode & 0o777, 0o600, 'the store is private');
      }
    });
  });
}
