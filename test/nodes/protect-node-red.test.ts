import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { NODE_RED_PKG, startNodeRed } from '../editor/red-process.js';
import type { RedProcess } from '../editor/red-process.js';

/**
 * The allowlist behind a reverse proxy in a real Node-RED (child processes on 127.0.0.1): the
 * client's address comes from X-Forwarded-For only when settings.js trusts the proxy
 * (`httpServerOptions: { 'trust proxy': ... }`, which Node-RED applies to its Express apps).
 */
describe(`Endpoint allowlist and trusted proxies in Node-RED (${NODE_RED_PKG})`, function () {
  this.timeout(90_000);
  const token = randomBytes(24).toString('base64url');
  const signing = randomBytes(16).toString('hex');
  const flows = [
    { id: 'tab', type: 'tab', label: 'protect' },
    {
      id: 'hook',
      z: 'tab',
      type: 'imis-webhook-in',
      allowFrom: '203.0.113.0/24, 2001:db8::/32',
      signature: 'github',
      wires: [[]],
    },
  ];
  const credentials = { hook: { token, signatureSecret: signing } };
  let plain: RedProcess;
  let proxied: RedProcess;

  before(async () => {
    [plain, proxied] = await Promise.all([
      startNodeRed({ flows, credentials }),
      startNodeRed({ flows, credentials, settings: { httpServerOptions: { 'trust proxy': 'loopback' } } }),
    ]);
  });
  after(() => Promise.all([plain?.close(), proxied?.close()]));

  const body = '{"from":"proxy"}';
  const post = (red: RedProcess, forwardedFor?: string) =>
    fetch(`${red.url}/imis/hook/${token}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Hub-Signature-256': `sha256=${createHmac('sha256', signing).update(body).digest('hex')}`,
        ...(forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {}),
      },
      body,
    });

  it('ignores X-Forwarded-For with the default settings: the peer (127.0.0.1) is refused with 403', async () => {
    for (const forwarded of ['203.0.113.5', '2001:db8::5', undefined]) {
      const res = await post(plain, forwarded);
      assert.equal(res.status, 403, String(forwarded));
      assert.match((await res.json()).message, /127\.0\.0\.1 is not allowed/);
    }
  });

  it('takes the client from X-Forwarded-For when the proxy is trusted, IPv4 and IPv6', async () => {
    assert.equal((await post(proxied, '203.0.113.5')).status, 200);
    assert.equal((await post(proxied, '2001:db8::5')).status, 200);
    const outside = await post(proxied, '198.51.100.7');
    assert.equal(outside.status, 403);
    assert.match((await outside.json()).message, /198\.51\.100\.7 is not allowed/);
    assert.equal((await post(proxied)).status, 403, 'no header: the proxy itself is the client');
  });

  it('logs each refusal with its reason and the address, never the secret', async () => {
    assert.match(
      plain.output(),
      /\[warn\] \[imis-webhook-in:hook\] Rejected a request from [:f]*127\.0\.0\.1 \(403\)/,
    );
    assert.ok(!plain.output().includes(signing), 'never the secret');
  });
});
