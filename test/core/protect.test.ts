import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AddressAllowlist, AllowlistError } from '../../src/core/protect/allowlist.js';
import { PROTECTION_DEFAULTS, Protection, ProtectionConfigError } from '../../src/core/protect/index.js';
import type { ProtectionSecrets, ProtectionSettings, Refusal } from '../../src/core/protect/index.js';
import { TokenBucket } from '../../src/core/protect/rate-limit.js';
import { rejected } from '../../src/core/ihook.js';

const SECRET = 'It is a secret to everybody';
const BODY = Buffer.from('{"hello":"world","n":1}');
const NOW = Date.parse('2026-05-27T09:15:00Z');
const hmac = (alg: 'sha256' | 'sha1', data: string | Buffer, secret = SECRET) =>
  createHmac(alg, secret).update(data).digest();

function protection(
  settings: Partial<ProtectionSettings>,
  secrets: ProtectionSecrets = { signatureSecret: SECRET },
  now = () => NOW,
) {
  return new Protection({ ...PROTECTION_DEFAULTS, ...settings }, secrets, now);
}

/** Runs the checks a request goes through: headers first, then the body's bytes. */
function judge(
  p: Protection,
  headers: IncomingHttpHeaders,
  body = BODY,
  address = '127.0.0.1',
): Refusal | 'ok' {
  const admission = p.admit({ address, headers }, NOW);
  if (!admission.ok) return admission.refusal;
  return admission.verifyBody?.(body) ?? 'ok';
}

describe('Endpoint protection: signatures', () => {
  describe('GitHub (X-Hub-Signature-256: sha256=<hex>)', () => {
    const p = protection({ signature: 'github' });
    const good = `sha256=${hmac('sha256', BODY).toString('hex')}`;

    it('accepts the body signed with the secret', () => {
      assert.equal(judge(p, { 'x-hub-signature-256': good }), 'ok');
    });
    it('refuses a signature of another body, or made with another secret', () => {
      assert.deepEqual(judge(p, { 'x-hub-signature-256': good }, Buffer.from('{"hello":"World","n":1}')), {
        kind: 'signature-invalid',
        header: 'X-Hub-Signature-256',
      });
      const other = `sha256=${hmac('sha256', BODY, 'another secret').toString('hex')}`;
      assert.equal((judge(p, { 'x-hub-signature-256': other }) as Refusal).kind, 'signature-invalid');
    });
    it('refuses a request without the header before reading its body', () => {
      const admission = p.admit({ address: '127.0.0.1', headers: {} }, NOW);
      assert.deepEqual(admission, {
        ok: false,
        refusal: { kind: 'signature-missing', header: 'X-Hub-Signature-256' },
      });
    });
    it('refuses a malformed header: no prefix, not hex, wrong length', () => {
      const hex = hmac('sha256', BODY).toString('hex');
      for (const sent of [
        hex,
        `sha256=${hex.slice(2)}`,
        `sha256=${hex.replace(/[0-9a-f]$/, 'g')}`,
        'sha256=',
      ]) {
        assert.equal(
          (judge(p, { 'x-hub-signature-256': sent }) as Refusal).kind,
          'signature-malformed',
          sent,
        );
      }
    });
    it('checks the exact bytes: a re-serialised body with other whitespace does not match', () => {
      const spaced = Buffer.from('{"hello": "world", "n": 1}');
      assert.equal((judge(p, { 'x-hub-signature-256': good }, spaced) as Refusal).kind, 'signature-invalid');
    });
    it('refuses when the body bytes are not available', () => {
      const admission = p.admit({ headers: { 'x-hub-signature-256': good } }, NOW);
      assert.ok(admission.ok);
      assert.deepEqual(admission.verifyBody?.(undefined), { kind: 'unverifiable' });
    });
  });

  it('GitHub with SHA-1 for older senders (X-Hub-Signature: sha1=<hex>)', () => {
    const p = protection({ signature: 'github-sha1' });
    assert.equal(judge(p, { 'x-hub-signature': `sha1=${hmac('sha1', BODY).toString('hex')}` }), 'ok');
    // A SHA-256 digest in the SHA-1 header is the wrong length: malformed.
    assert.equal(
      (judge(p, { 'x-hub-signature': `sha1=${hmac('sha256', BODY).toString('hex')}` }) as Refusal).kind,
      'signature-malformed',
    );
    assert.equal((judge(p, {}) as Refusal).kind, 'signature-missing');
  });

  it('Shopify (X-Shopify-Hmac-Sha256: <base64>)', () => {
    const p = protection({ signature: 'shopify' });
    assert.equal(judge(p, { 'x-shopify-hmac-sha256': hmac('sha256', BODY).toString('base64') }), 'ok');
    const wrong = hmac('sha256', 'other').toString('base64');
    assert.equal((judge(p, { 'x-shopify-hmac-sha256': wrong }) as Refusal).kind, 'signature-invalid');
    assert.equal(
      (judge(p, { 'x-shopify-hmac-sha256': 'not base64!' }) as Refusal).kind,
      'signature-malformed',
    );
    assert.equal((judge(p, {}) as Refusal).kind, 'signature-missing');
  });

  describe('Stripe (Stripe-Signature: t=<time>,v1=<hex of "t.body">)', () => {
    const p = protection({ signature: 'stripe', toleranceSec: 300 });
    const t = String(NOW / 1000);
    const v1 = (time: string, secret = SECRET) =>
      hmac('sha256', Buffer.concat([Buffer.from(`${time}.`), BODY]), secret).toString('hex');

    it('accepts a fresh timestamp with its signature, also among signatures of other secrets', () => {
      assert.equal(judge(p, { 'stripe-signature': `t=${t},v1=${v1(t)}` }), 'ok');
      const rolled = `t=${t},v1=${v1(t, 'old secret')},v1=${v1(t)},v0=${'0'.repeat(64)}`;
      assert.equal(judge(p, { 'stripe-signature': rolled }), 'ok');
    });
    it('refuses a signature of another timestamp (the timestamp is signed)', () => {
      const other = String(NOW / 1000 - 10);
      assert.equal(
        (judge(p, { 'stripe-signature': `t=${t},v1=${v1(other)}` }) as Refusal).kind,
        'signature-invalid',
      );
    });
    it('refuses a replay outside the tolerance, in the past or the future, before reading the body', () => {
      for (const time of [NOW / 1000 - 301, NOW / 1000 + 301]) {
        const admission = p.admit(
          { headers: { 'stripe-signature': `t=${time},v1=${v1(String(time))}` } },
          NOW,
        );
        assert.deepEqual(admission, { ok: false, refusal: { kind: 'timestamp-outside', toleranceSec: 300 } });
      }
      const edge = String(NOW / 1000 - 300);
      assert.equal(judge(p, { 'stripe-signature': `t=${edge},v1=${v1(edge)}` }), 'ok');
    });
    it('refuses a header without t or without a v1 signature, and a missing header', () => {
      assert.equal((judge(p, { 'stripe-signature': `v1=${v1(t)}` }) as Refusal).kind, 'signature-malformed');
      assert.equal((judge(p, { 'stripe-signature': `t=${t}` }) as Refusal).kind, 'signature-malformed');
      assert.equal(
        (judge(p, { 'stripe-signature': `t=${t},v0=${v1(t)}` }) as Refusal).kind,
        'signature-malformed',
      );
      assert.equal(
        (judge(p, { 'stripe-signature': `t=soon,v1=${v1(t)}` }) as Refusal).kind,
        'timestamp-malformed',
      );
      assert.equal((judge(p, {}) as Refusal).kind, 'signature-missing');
    });
  });

  describe('custom scheme', () => {
    it('uses the header, algorithm, encoding and prefix it is given', () => {
      const p = protection({
        signature: 'custom',
        signatureHeader: 'X-Acme-Sig',
        signatureAlgorithm: 'sha1',
        signatureEncoding: 'base64',
        signaturePrefix: 'v1:',
      });
      assert.equal(judge(p, { 'x-acme-sig': `v1:${hmac('sha1', BODY).toString('base64')}` }), 'ok');
      assert.equal(
        (judge(p, { 'x-acme-sig': `v1:${hmac('sha1', BODY).toString('hex')}` }) as Refusal).kind,
        'signature-malformed',
      );
      assert.deepEqual(judge(p, {}), { kind: 'signature-missing', header: 'X-Acme-Sig' });
    });

    describe('with a timestamp header (signed as "<timestamp>.<body>")', () => {
      const p = protection({ signature: 'custom', timestampHeader: 'X-Timestamp', toleranceSec: 60 });
      const sign = (ts: string) =>
        hmac('sha256', Buffer.concat([Buffer.from(`${ts}.`), BODY])).toString('hex');

      it('accepts Unix seconds, milliseconds and ISO 8601 times within the window', () => {
        for (const ts of [String(NOW / 1000 - 59), String(NOW + 30_000), '2026-05-27T09:14:30Z']) {
          assert.equal(judge(p, { 'x-signature': sign(ts), 'x-timestamp': ts }), 'ok', ts);
        }
      });
      it('refuses a replay outside the window, a missing or malformed timestamp, and an unsigned one', () => {
        const old = String(NOW / 1000 - 61);
        assert.deepEqual(judge(p, { 'x-signature': sign(old), 'x-timestamp': old }), {
          kind: 'timestamp-outside',
          toleranceSec: 60,
        });
        assert.deepEqual(judge(p, { 'x-signature': sign('1') }), {
          kind: 'timestamp-missing',
          header: 'X-Timestamp',
        });
        assert.equal(
          (judge(p, { 'x-signature': sign('x'), 'x-timestamp': 'yesterday' }) as Refusal).kind,
          'timestamp-malformed',
        );
        const now = String(NOW / 1000);
        const bodyOnly = hmac('sha256', BODY).toString('hex');
        assert.equal(
          (judge(p, { 'x-signature': bodyOnly, 'x-timestamp': now }) as Refusal).kind,
          'signature-invalid',
        );
      });
    });
  });

  it('makes the headers each scheme checks (the editor test payload), which pass its own check', () => {
    const schemes: Partial<ProtectionSettings>[] = [
      { signature: 'github' },
      { signature: 'github-sha1' },
      { signature: 'stripe' },
      { signature: 'shopify' },
      { signature: 'custom', signatureEncoding: 'base64', signaturePrefix: 'x=', timestampHeader: 'X-Time' },
      { signature: 'none', secretHeader: 'X-Api-Key' },
    ];
    for (const scheme of schemes) {
      const p = protection(scheme, { signatureSecret: SECRET, headerSecret: 'k3y' });
      const headers = Object.fromEntries(
        Object.entries(p.senderHeaders(BODY, NOW)).map(([k, v]) => [k.toLowerCase(), v]),
      );
      assert.equal(judge(p, headers), 'ok', JSON.stringify(scheme));
      assert.equal(
        (judge(p, headers, Buffer.from('{}')) as Refusal | 'ok') === 'ok',
        scheme.signature === 'none',
      );
    }
    // Standard Webhooks: its own headers under a new message id each time, with a whsec_ secret.
    const p = protection(
      { signature: 'standard-webhooks' },
      { signatureSecret: 'whsec_c2VjcmV0LWtleS1ieXRlcy0xMjM0' },
    );
    const sent = p.senderHeaders(BODY, NOW);
    assert.deepEqual(Object.keys(sent), ['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    assert.match(sent['webhook-id'], /^msg_[A-Za-z0-9_-]{22}$/);
    assert.notEqual(p.senderHeaders(BODY, NOW)['webhook-id'], sent['webhook-id']);
    assert.equal(judge(p, sent), 'ok');
    assert.equal((judge(p, sent, Buffer.from('{}')) as Refusal).kind, 'signature-invalid');
  });
});

describe('Endpoint protection: shared secret header', () => {
  const p = protection({ secretHeader: 'X-Api-Key' }, { headerSecret: 's3cret-value' });

  it('accepts the configured value, the header name in any case', () => {
    assert.equal(judge(p, { 'x-api-key': 's3cret-value' }), 'ok');
  });
  it('refuses another value (longer, shorter, same length) and a missing or empty header', () => {
    for (const value of ['s3cret-value2', 's3cret', 's3cret-valuf', 'S3CRET-VALUE'])
      assert.deepEqual(judge(p, { 'x-api-key': value }), { kind: 'secret-invalid', header: 'X-Api-Key' });
    assert.deepEqual(judge(p, {}), { kind: 'secret-missing', header: 'X-Api-Key' });
    assert.deepEqual(judge(p, { 'x-api-key': '' }), { kind: 'secret-missing', header: 'X-Api-Key' });
  });
  it('never puts the secret in what the caller or the log is told', () => {
    const response = rejected({ kind: 'refused', refusal: judge(p, { 'x-api-key': 'guess' }) as Refusal });
    assert.equal(response.status, 401);
    assert.ok(!JSON.stringify(response).includes('s3cret'));
  });
});

describe('Endpoint protection: address allowlist', () => {
  const list = AddressAllowlist.parse('203.0.113.0/24, 198.51.100.7\n2001:db8::/32  ::1');

  it('allows IPv4 addresses in a range or listed, also in their IPv4-mapped IPv6 form', () => {
    for (const a of [
      '203.0.113.1',
      '203.0.113.254',
      '198.51.100.7',
      '::ffff:203.0.113.9',
      '::ffff:198.51.100.7',
    ])
      assert.equal(list.allows(a), true, a);
  });
  it('refuses IPv4 addresses outside', () => {
    for (const a of ['203.0.114.1', '198.51.100.8', '127.0.0.1', '::ffff:10.0.0.1'])
      assert.equal(list.allows(a), false, a);
  });
  it('allows and refuses IPv6 addresses (any notation, zone ignored)', () => {
    for (const a of ['2001:db8::1', '2001:0db8:0000::ffff', '2001:db8:ffff:ffff::1%eth0', '::1'])
      assert.equal(list.allows(a), true, a);
    for (const a of ['2001:db9::1', 'fe80::1', '::2']) assert.equal(list.allows(a), false, a);
  });
  it('refuses an unknown or unparsable address', () => {
    for (const a of [undefined, '', 'localhost', '203.0.113.1.5'])
      assert.equal(list.allows(a), false, String(a));
  });
  it('names the first entry that is not an address or a range', () => {
    for (const bad of [
      '203.0.113.0/33',
      '2001:db8::/129',
      'example.com',
      '10.0.0.0/8/1',
      '300.1.1.1',
      '10.0.0.0/x',
    ]) {
      assert.throws(
        () => AddressAllowlist.parse(`127.0.0.1, ${bad}`),
        (err: Error) => {
          assert.ok(err instanceof AllowlistError);
          assert.ok(err.message.includes(`"${bad}"`));
          return true;
        },
      );
    }
  });
  it('answers 403 naming the refused address', () => {
    const p = protection({ allowFrom: '10.0.0.0/8' });
    const refusal = judge(p, {}, BODY, '192.0.2.1') as Refusal;
    const response = rejected({ kind: 'refused', refusal });
    assert.equal(response.status, 403);
    assert.match(String(response.body?.message), /192\.0\.2\.1/);
  });
});

describe('Endpoint protection: rate limit (token bucket)', () => {
  it('lets a burst up to the limit through, then answers with the seconds until a token is back', () => {
    let now = 0;
    const bucket = new TokenBucket(3, 3 / 60, () => now);
    for (let i = 0; i < 3; i++) assert.deepEqual(bucket.take(), { ok: true });
    assert.deepEqual(bucket.take(), { ok: false, retryAfterSec: 20 });
    now = 15_000;
    assert.deepEqual(bucket.take(), { ok: false, retryAfterSec: 5 });
    now = 20_000;
    assert.deepEqual(bucket.take(), { ok: true });
    assert.equal(bucket.take().ok, false);
  });
  it('never holds more than its capacity after a long idle time, and a clock set back refills nothing', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 1, () => now);
    now = 3_600_000;
    assert.equal(bucket.take().ok, true);
    assert.equal(bucket.take().ok, true);
    assert.equal(bucket.take().ok, false);
    now = 1_000;
    assert.equal(bucket.take().ok, false);
  });
  it('answers 429 with Retry-After through the endpoint protection', () => {
    const p = protection({ rateLimit: 1, ratePeriod: 'hour' });
    assert.equal(judge(p, {}), 'ok');
    const refusal = judge(p, {}) as Refusal;
    assert.deepEqual(refusal, { kind: 'rate', retryAfterSec: 3600 });
    const response = rejected({ kind: 'refused', refusal });
    assert.equal(response.status, 429);
    assert.equal(response.headers?.['Retry-After'], '3600');
    assert.equal(response.body?.error, true);
  });
  it('spends no token on callers the allowlist refuses', () => {
    const p = protection({ rateLimit: 1, ratePeriod: 'hour', allowFrom: '127.0.0.1' });
    assert.equal((judge(p, {}, BODY, '192.0.2.1') as Refusal).kind, 'address');
    assert.equal(judge(p, {}, BODY, '127.0.0.1'), 'ok');
  });
});

describe('Endpoint protection: settings', () => {
  it('is off by default: every request passes, nothing is read', () => {
    const p = protection({}, {});
    assert.equal(p.active, false);
    assert.deepEqual(p.admit({ headers: {} }), { ok: true });
  });
  it('leaves a protection whose fields are missing (a hand-written flow) off', () => {
    const p = new Protection({ ratePeriod: 'minute' } as ProtectionSettings, {});
    assert.equal(p.active, false);
  });
  it('refuses settings that cannot work, saying which field to fix', () => {
    const cases: [Partial<ProtectionSettings>, ProtectionSecrets, RegExp][] = [
      [{ secretHeader: 'X-Api-Key' }, {}, /X-Api-Key .*empty/],
      [{ secretHeader: 'X Api Key' }, { headerSecret: 'x' }, /not a valid header name/],
      [{ signature: 'github' }, {}, /secret is empty/],
      [
        { signature: 'custom', signatureHeader: '' },
        { signatureSecret: 'x' },
        /header name for the signature/,
      ],
      [
        { signature: 'custom', timestampHeader: 'a b' },
        { signatureSecret: 'x' },
        /header name for the timestamp/,
      ],
      [{ signature: 'stripe', toleranceSec: 0 }, { signatureSecret: 'x' }, /tolerance/],
      // Deliberately bad settings, as a hand-edited flow file could hold them:
      [
        { signature: 'constructor' as unknown as ProtectionSettings['signature'] },
        { signatureSecret: 'x' },
        /Unknown signature scheme/,
      ],
      [{ allowFrom: '10.0.0.0/8, intranet' }, {}, /"intranet"/],
      // Deliberately bad, as above:
      [{ rateLimit: 5, ratePeriod: 'day' as unknown as ProtectionSettings['ratePeriod'] }, {}, /period/],
    ];
    for (const [settings, secrets, message] of cases) {
      assert.throws(
        () => protection(settings, secrets),
        (err: Error) => err instanceof ProtectionConfigError && message.test(err.message),
        JSON.stringify(settings),
      );
    }
  });
  it('names the headers that carry its secrets (to redact them from what is stored)', () => {
    const p = protection(
      { secretHeader: 'X-Hook-Auth', signature: 'shopify' },
      {
        headerSecret: 'a',
        signatureSecret: 'b',
      },
    );
    assert.deepEqual(p.secretHeaderNames, ['X-Hook-Auth', 'X-Shopify-Hmac-Sha256']);
  });
});
