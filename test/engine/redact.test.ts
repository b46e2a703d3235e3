import assert from 'node:assert/strict';
import {
  REDACTED,
  markRequestMetadata,
  redactHeaders,
  secretHeaderTest,
  storableExtra,
} from '../../src/engine/redact.js';

describe("Redaction of callers' secret headers", () => {
  const isSecret = secretHeaderTest();

  it('knows credentials, cookies, API keys and webhook signatures, in any case', () => {
    for (const name of [
      'Authorization',
      'proxy-authorization',
      'Cookie',
      'Set-Cookie',
      'X-API-Key',
      'X-Hub-Signature',
      'X-Hub-Signature-256',
      'Stripe-Signature',
      'X-Shopify-Hmac-Sha256',
      'aeg-sas-key',
      'aeg-sas-token',
      'X-Acme-Signature',
      'X-Gitlab-Token',
      'X-Webhook-Secret',
    ])
      assert.equal(isSecret(name), true, name);
    for (const name of ['Content-Type', 'Host', 'User-Agent', 'X-Forwarded-For', 'aeg-event-type'])
      assert.equal(isSecret(name), false, name);
  });

  it('adds the names of the imisRedactHeaders setting, and ignores a setting that is not a list of names', () => {
    const withSetting = secretHeaderTest(['X-Tenant-Key', 42, '']);
    assert.equal(withSetting('x-tenant-key'), true);
    assert.equal(withSetting('Authorization'), true, 'the built-in names stay');
    assert.equal(secretHeaderTest('X-Tenant-Key')('x-tenant-key'), false);
  });

  it('replaces the values of secret headers and keeps the others', () => {
    assert.deepEqual(redactHeaders({ authorization: 'Bearer abc', 'x-source': 'kiosk' }, isSecret), {
      authorization: REDACTED,
      'x-source': 'kiosk',
    });
  });

  it('redacts the request metadata wherever it sits in what is stored, and leaves the original alone', () => {
    const meta = markRequestMetadata({ host: 'h', headers: { cookie: 'session=1', accept: '*/*' } });
    const extra = { topic: 'Party.Updated', request: { meta } };
    const stored = storableExtra(extra, isSecret);
    assert.deepEqual(stored, {
      topic: 'Party.Updated',
      request: { meta: { host: 'h', headers: { cookie: REDACTED, accept: '*/*' } } },
    });
    assert.equal(meta.headers.cookie, 'session=1', 'the flow keeps its headers');
  });

  it('leaves a headers object that is not request metadata as it is (e.g. one in a payload)', () => {
    const extra = { other: { headers: { authorization: 'mine' } } };
    assert.deepEqual(storableExtra(extra, isSecret), extra);
    assert.equal(storableExtra(undefined, isSecret), undefined);
  });
});
