import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { PROTECTION_DEFAULTS, Protection, ProtectionConfigError } from '../../src/core/protect/index.js';
import type { ProtectionSettings, Refusal } from '../../src/core/protect/index.js';
import { rejected } from '../../src/core/ihook.js';
import { SIGNATURE_PRESETS, signatureHeaders, standardSecretKey } from '../../src/core/protect/signature.js';
import { PACKAGE_ROOT } from '../editor/red-process.js';

/**
 * Our signature checks against what the senders publish: the test vectors of Standard Webhooks'
 * reference libraries (test/fixtures/standard-webhooks, MIT, Svix) and GitHub's worked example.
 */

interface Vectors {
  toleranceSec: number;
  message: { id: string; timestamp: number; payload: string };
  secret: string;
  bareSecret: string;
  signature: string;
  invalidSignatures: { name: string; signature: string }[];
  multiSignature: { name: string; others: string[]; validAt: number };
  invalidTimestamps: string[];
  emptySecrets: string[];
}

const V = JSON.parse(
  readFileSync(join(PACKAGE_ROOT, 'test', 'fixtures', 'standard-webhooks', 'vectors.json'), 'utf8'),
) as Vectors;
const SIGNED_AT_MS = V.message.timestamp * 1000;
const BODY = Buffer.from(V.message.payload, 'utf8');

function protection(settings: Partial<ProtectionSettings>, secret: string) {
  return new Protection({ ...PROTECTION_DEFAULTS, ...settings }, { signatureSecret: secret });
}
const standard = (secret = V.secret) => protection({ signature: 'standard-webhooks' }, secret);

/** What a request with `headers` and `body` gets at `nowMs`: 'ok' or the refusal. */
function judge(
  p: Protection,
  headers: IncomingHttpHeaders,
  nowMs = SIGNED_AT_MS,
  body = BODY,
): Refusal | 'ok' {
  const admission = p.admit({ headers }, nowMs);
  if (!admission.ok) return admission.refusal;
  return admission.verifyBody?.(body) ?? 'ok';
}

const headers = (signature = V.signature, over: Record<string, string | undefined> = {}) => {
  const all: Record<string, string | undefined> = {
    'webhook-id': V.message.id,
    'webhook-timestamp': String(V.message.timestamp),
    'webhook-signature': signature,
    ...over,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as IncomingHttpHeaders;
};
const kind = (r: Refusal | 'ok') => (r === 'ok' ? r : r.kind);

describe('Standard Webhooks: the reference libraries’ test vectors', () => {
  it('signs the published message with the published secret as they do ("sign function works")', () => {
    const key = standardSecretKey(V.secret);
    assert.ok(key);
    const sent = signatureHeaders(
      { ...SIGNATURE_PRESETS['standard-webhooks'], toleranceSec: V.toleranceSec },
      key,
      BODY,
      SIGNED_AT_MS,
      V.message.id,
    );
    assert.deepEqual(sent, headers());
  });

  it('accepts the published signature, with the whsec_ secret and with its bare base64', () => {
    assert.equal(judge(standard(), headers()), 'ok');
    assert.equal(judge(standard(V.bareSecret), headers()), 'ok');
  });

  it('tells the sender’s message id once the signature matched (the id is signed with the body)', () => {
    const admission = standard().admit({ headers: headers() }, SIGNED_AT_MS);
    assert.ok(admission.ok);
    assert.equal(admission.verifyBody?.(BODY), undefined);
    assert.deepEqual(admission.delivery, {
      id: V.message.id,
      rememberUntilMs: (V.message.timestamp + V.toleranceSec + 1) * 1000,
    });
  });

  for (const { name, signature } of V.invalidSignatures) {
    it(`refuses ${name}`, () => {
      assert.ok(
        ['signature-invalid', 'signature-malformed'].includes(kind(judge(standard(), headers(signature)))),
      );
    });
  }

  it('refuses the published signature of another body, id or timestamp (all three are signed)', () => {
    assert.equal(
      kind(judge(standard(), headers(), SIGNED_AT_MS, Buffer.from('{"test": 2432232315}'))),
      'signature-invalid',
    );
    assert.equal(
      kind(judge(standard(), headers(V.signature, { 'webhook-id': 'msg_other' }))),
      'signature-invalid',
    );
    const later = String(V.message.timestamp + 1);
    assert.equal(
      kind(judge(standard(), headers(V.signature, { 'webhook-timestamp': later }), SIGNED_AT_MS)),
      'signature-invalid',
    );
  });

  it(`accepts ${V.multiSignature.name}`, () => {
    const entries = [...V.multiSignature.others];
    entries.splice(V.multiSignature.validAt, 0, V.signature);
    assert.equal(judge(standard(), headers(entries.join(' '))), 'ok');
    assert.equal(kind(judge(standard(), headers(V.multiSignature.others.join(' ')))), 'signature-invalid');
  });

  it('refuses a message without its id, timestamp or signature header, before reading the body', () => {
    for (const [header, expected] of [
      ['webhook-id', 'id-missing'],
      ['webhook-timestamp', 'timestamp-missing'],
      ['webhook-signature', 'signature-missing'],
    ]) {
      const admission = standard().admit(
        { headers: headers(V.signature, { [header]: undefined }) },
        SIGNED_AT_MS,
      );
      assert.equal(admission.ok ? 'ok' : admission.refusal.kind, expected, header);
    }
  });

  for (const timestamp of V.invalidTimestamps) {
    it(`refuses the timestamp "${timestamp}" (Unix seconds only)`, () => {
      const refusal = judge(standard(), headers(V.signature, { 'webhook-timestamp': timestamp }));
      assert.equal(kind(refusal), 'timestamp-malformed');
      assert.match(
        rejected({ kind: 'refused', refusal: refusal as Refusal }).body?.message as string,
        /send Unix seconds$/,
      );
    });
  }

  it('refuses the signed message 5 minutes and 1 s too old or too new ("old/new timestamp fails"), not at 5 minutes', () => {
    const tolMs = V.toleranceSec * 1000;
    for (const nowMs of [SIGNED_AT_MS + tolMs + 1000, SIGNED_AT_MS - tolMs - 1000]) {
      const refusal = judge(standard(), headers(), nowMs);
      assert.deepEqual(refusal, { kind: 'timestamp-outside', toleranceSec: 300 });
      assert.deepEqual(rejected({ kind: 'refused', refusal: refusal as Refusal }), {
        status: 401,
        headers: {},
        body: {
          error: true,
          message: "Request timestamp more than 300 s away from the server's time (replayed or clock skew)",
        },
      });
    }
    assert.equal(judge(standard(), headers(), SIGNED_AT_MS + tolMs + 999), 'ok');
    assert.equal(judge(standard(), headers(), SIGNED_AT_MS - tolMs), 'ok');
  });

  it('refuses the secrets every library refuses, and one that is not base64, at deploy', () => {
    for (const secret of [...V.emptySecrets.filter(Boolean), 'whsec_not base64!', 'It is a secret']) {
      assert.throws(() => standard(secret), ProtectionConfigError, secret);
    }
    assert.throws(() => standard(''), /its secret is empty/);
  });
});

describe('GitHub: the worked example of "Validating webhook deliveries"', () => {
  // docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries, "Testing the webhook
  // payload validation": this secret and payload give this X-Hub-Signature-256.
  const secret = "It's a Secret to Everybody";
  const payload = Buffer.from('Hello, World!');
  const expected = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
  const github = protection({ signature: 'github' }, secret);

  it('accepts the published signature of the published payload', () => {
    assert.equal(judge(github, { 'x-hub-signature-256': expected }, Date.now(), payload), 'ok');
  });
  it('makes the same signature for a test payload', () => {
    assert.deepEqual(github.senderHeaders(payload), { 'X-Hub-Signature-256': expected });
  });
  it('refuses it for another payload or with another secret', () => {
    assert.equal(
      kind(judge(github, { 'x-hub-signature-256': expected }, Date.now(), Buffer.from('Hello, World'))),
      'signature-invalid',
    );
    const other = protection({ signature: 'github' }, "It's a secret to everybody");
    assert.equal(
      kind(judge(other, { 'x-hub-signature-256': expected }, Date.now(), payload)),
      'signature-invalid',
    );
  });
});
