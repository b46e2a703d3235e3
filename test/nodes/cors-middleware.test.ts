import assert from 'node:assert/strict';
import type { Request, Response } from 'express';
import { randomBytes } from 'node:crypto';
import { freshDataDir, helper, packageNodes, startHelper, stopHelper, waitFor } from '../support/red.js';
import { runsSettled } from '../support/runs.js';

/**
 * Our routes under httpNodeRoot honour Node-RED's `httpNodeCors` and `httpNodeMiddleware` as HTTP
 * In routes do; without `httpNodeCors`, the webhooks keep iHook's open CORS.
 */
const hookToken = randomBytes(24).toString('base64url');
const notifyToken = randomBytes(24).toString('base64url');
const exportToken = randomBytes(24).toString('base64url');
const ORIGIN = 'https://app.example.org';

describe('Node-RED HTTP settings on our endpoints', function () {
  let base: string;
  let got: unknown[];
  afterEach(stopHelper);

  const start = async (settings: Record<string, unknown> = {}) => {
    base = await startHelper(freshDataDir(), settings);
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'hook', z: 'tab', type: 'imis-webhook-in', wires: [['out']] },
        { id: 'notify', z: 'tab', type: 'imis-change-in', wires: [['out']] },
        { id: 'export', z: 'tab', type: 'imis-export', wires: [[]] },
        { id: 'out', z: 'tab', type: 'helper' },
      ],
      { hook: { token: hookToken }, notify: { token: notifyToken }, export: { token: exportToken } },
    );
    got = [];
    helper.getNode('out').on('input', (msg: unknown) => got.push(msg));
  };
  const hook = (headers: Record<string, string> = {}) =>
    fetch(`${base}/imis/hook/${hookToken}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: ORIGIN, ...headers },
      body: '{"memberId":"1"}',
    });
  const preflight = (path: string) =>
    fetch(`${base}${path}`, {
      method: 'OPTIONS',
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
  const exported = (headers: Record<string, string> = {}) =>
    fetch(`${base}/imis/export/${exportToken}`, { headers: { Origin: ORIGIN, ...headers } });

  describe('without httpNodeCors', () => {
    beforeEach(() => start());

    it("answers a webhook's caller and preflight with iHook's open CORS", async () => {
      const res = await hook();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      for (const path of [`/imis/hook/${hookToken}`, `/imis/notify/${notifyToken}`]) {
        const pre = await preflight(path);
        assert.equal(pre.status, 204, path);
        assert.equal(pre.headers.get('access-control-allow-origin'), '*', path);
        assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/, path);
        assert.match(pre.headers.get('access-control-allow-headers') ?? '', /content-type/i, path);
      }
    });

    it('keeps an unknown URL answer open to browsers too (401 with CORS)', async () => {
      const res = await fetch(`${base}/imis/hook/${randomBytes(24).toString('base64url')}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: ORIGIN },
        body: '{}',
      });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
    });

    it('gives the export link no CORS headers, as HTTP In routes without the setting', async () => {
      const res = await exported();
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    });
  });

  describe('with httpNodeCors', () => {
    beforeEach(() => start({ httpNodeCors: { origin: ORIGIN, methods: 'GET,POST' } }));

    it('answers callers and preflights with the CORS the setting says, on every endpoint', async () => {
      const res = await hook();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
      for (const path of [`/imis/hook/${hookToken}`, `/imis/notify/${notifyToken}`]) {
        const pre = await preflight(path);
        assert.equal(pre.status, 204, path);
        assert.equal(pre.headers.get('access-control-allow-origin'), ORIGIN, path);
        assert.equal(pre.headers.get('access-control-allow-methods'), 'GET,POST', path);
      }
      assert.equal((await exported()).headers.get('access-control-allow-origin'), ORIGIN);
    });
  });

  describe('with httpNodeMiddleware', () => {
    const calls: string[] = [];
    /** Lets through only requests carrying the shared key, as an API gateway check would. */
    const gate = (req: Request, res: Response, next: () => void) => {
      calls.push(`gate ${req.method}`);
      if (req.headers['x-api-key'] !== 'let-me-in') return void res.status(403).json({ error: 'forbidden' });
      next();
    };
    const count = (_req: Request, _res: Response, next: () => void) => {
      calls.push('count');
      next();
    };

    it('runs the middleware before the webhook: what it refuses starts no run', async () => {
      await start({ httpNodeMiddleware: gate });
      const refused = await hook();
      assert.equal(refused.status, 403);
      const accepted = await hook({ 'X-Api-Key': 'let-me-in' });
      assert.equal(accepted.status, 200);
      await waitFor(() => got.length === 1, 2000, 'the run');
      assert.equal((await runsSettled(1)).succeeded, 1, 'one run');
      assert.equal(got.length, 1, 'only the call the middleware let through ran');
      assert.equal((await exported()).status, 403, 'the export link is behind it too');
    });

    it('runs a list of middleware in order', async () => {
      calls.length = 0;
      await start({ httpNodeMiddleware: [count, gate] });
      assert.equal((await hook({ 'X-Api-Key': 'let-me-in' })).status, 200);
      assert.deepEqual(calls, ['count', 'gate POST']);
    });
  });
});
