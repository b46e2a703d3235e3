import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Refusal } from './refusal.js';

export type HashAlgorithm = 'sha256' | 'sha1';
export type DigestEncoding = 'hex' | 'base64';

/**
 * How a sender signs: an HMAC of the exact body bytes (after any Content-Encoding is undone) with a
 * shared secret, sent in a header as hex or base64 behind an optional prefix. With a timestamp, the
 * signed bytes are `<timestamp>.<body>` (Standard Webhooks: `<id>.<timestamp>.<body>`) and a
 * timestamp further than the tolerance from now is refused, so a captured request cannot be
 * replayed later.
 */
export interface SignatureScheme {
  /** Header name as configured (case kept for messages; looked up in lower case). */
  header: string;
  algorithm: HashAlgorithm;
  encoding: DigestEncoding;
  /** Text before the digest, e.g. `sha256=`. */
  prefix: string;
  /**
   * `plain`: the header holds one digest. `stripe`: `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, the
   * timestamp signed with the body (one v1 per signing secret while a secret is being rolled).
   * `standard`: Standard Webhooks 1.0 (docs/standard-webhooks.md): `v1,<base64>` entries separated
   * by spaces over `<webhook-id>.<webhook-timestamp>.<body>`, the key given as `whsec_<base64>`.
   */
  format: 'plain' | 'stripe' | 'standard';
  /** `plain` and `standard`: header holding the signed timestamp; '' = no timestamp. */
  timestampHeader: string;
  /** Allowed distance between the signed timestamp and now, seconds (when there is a timestamp). */
  toleranceSec: number;
}

export type SignaturePreset = 'github' | 'github-sha1' | 'stripe' | 'shopify' | 'standard-webhooks';

/** The public schemes of common senders: what their documentation says they send. */
export const SIGNATURE_PRESETS: Record<SignaturePreset, Omit<SignatureScheme, 'toleranceSec'>> = {
  // GitHub: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>.
  github: {
    header: 'X-Hub-Signature-256',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
    format: 'plain',
    timestampHeader: '',
  },
  // GitHub's older header, still sent: X-Hub-Signature: sha1=<hex HMAC-SHA1>.
  'github-sha1': {
    header: 'X-Hub-Signature',
    algorithm: 'sha1',
    encoding: 'hex',
    prefix: 'sha1=',
    format: 'plain',
    timestampHeader: '',
  },
  // Stripe: Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">.
  stripe: {
    header: 'Stripe-Signature',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: '',
    format: 'stripe',
    timestampHeader: '',
  },
  // Shopify: X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>.
  shopify: {
    header: 'X-Shopify-Hmac-Sha256',
    algorithm: 'sha256',
    encoding: 'base64',
    prefix: '',
    format: 'plain',
    timestampHeader: '',
  },
  // Standard Webhooks (Svix, OpenAI, Resend, ...): webhook-id, webhook-timestamp (Unix seconds) and
  // webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body"> [v1,<...> ...].
  'standard-webhooks': {
    header: 'webhook-signature',
    algorithm: 'sha256',
    encoding: 'base64',
    prefix: '',
    format: 'standard',
    timestampHeader: 'webhook-timestamp',
  },
};

/** Standard Webhooks: the header with the message id, signed with the body and kept across retries. */
export const STANDARD_ID_HEADER = 'webhook-id';
/** Standard Webhooks: what a serialised symmetric secret starts with (docs/standard-webhooks.md). */
const STANDARD_SECRET_PREFIX = 'whsec_';

const DIGEST_BYTES: Record<HashAlgorithm, number> = { sha256: 32, sha1: 20 };
const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A delivery the sender names (Standard Webhooks' `webhook-id`): the same id on every retry. Known
 * once its signature matched; a replay of it is refused by its timestamp from `rememberUntilMs` on.
 */
export interface SignedDelivery {
  id: string;
  /** Until when a copy of this delivery can pass the timestamp check (ms since the epoch). */
  rememberUntilMs: number;
}

/** What the headers said, read before the body: the digests to compare and what is signed before the body. */
export interface SignedClaim {
  digests: Buffer[];
  /** The text signed before the body: `<timestamp>.`, `<id>.<timestamp>.` or ''. */
  signedPrefix: string;
  delivery?: SignedDelivery;
}

/**
 * The HMAC key of a Standard Webhooks secret: `whsec_` and the base64 of the key bytes, or the
 * base64 alone (the reference libraries accept both); undefined when it is neither.
 */
export function standardSecretKey(secret: string): Buffer | undefined {
  const trimmed = secret.trim();
  const text = trimmed.startsWith(STANDARD_SECRET_PREFIX)
    ? trimmed.slice(STANDARD_SECRET_PREFIX.length)
    : trimmed;
  // Padding optional, as the reference libraries' secrets go without it when not needed.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  const key = Buffer.from(text, 'base64');
  return key.length > 0 ? key : undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

/** Unix seconds (or milliseconds, from 13 digits on) or an ISO 8601 time → ms; NaN if neither. */
function timestampMs(text: string): number {
  if (/^\d{1,16}$/.test(text)) {
    const n = Number(text);
    return text.length >= 13 ? n : n * 1000;
  }
  return /^\d{4}-\d\d-\d\dT/.test(text) ? Date.parse(text) : NaN;
}

/** A digest as sent, decoded; undefined when it is not hex/base64 of the algorithm's length. */
function decodeDigest(text: string, scheme: SignatureScheme): Buffer | undefined {
  if (!(scheme.encoding === 'hex' ? HEX : BASE64).test(text)) return undefined;
  const bytes = Buffer.from(text, scheme.encoding);
  return bytes.length === DIGEST_BYTES[scheme.algorithm] ? bytes : undefined;
}

/**
 * Reads the signature (and timestamp) headers before the body is read, so a request without a
 * well-formed, fresh signature is refused without reading its body.
 */
export function readSignature(
  scheme: SignatureScheme,
  headers: IncomingHttpHeaders,
  nowMs: number,
): { ok: true; claim: SignedClaim } | { ok: false; refusal: Refusal } {
  if (scheme.format === 'standard') return readStandard(scheme, headers, nowMs);
  const sent = headerValue(headers, scheme.header);
  if (sent === undefined) return { ok: false, refusal: { kind: 'signature-missing', header: scheme.header } };
  const malformed = {
    ok: false as const,
    refusal: { kind: 'signature-malformed' as const, header: scheme.header },
  };
  let digests: Buffer[] = [];
  let timestamp: string | undefined;
  let timestampHeader = scheme.timestampHeader;
  if (scheme.format === 'stripe') {
    timestampHeader = scheme.header;
    for (const part of sent.split(',')) {
      const eq = part.indexOf('=');
      const key = part.slice(0, eq).trim();
      const value = part.slice(eq + 1).trim();
      if (eq < 0) return malformed;
      if (key === 't') timestamp = value;
      else if (key === 'v1') {
        const digest = decodeDigest(value, scheme);
        if (digest) digests.push(digest);
      }
      // Other keys (v0, a test-mode scheme) are not signatures of this secret: ignored, as Stripe says.
    }
    if (timestamp === undefined) return malformed;
  } else {
    if (scheme.prefix && !sent.startsWith(scheme.prefix)) return malformed;
    const digest = decodeDigest(sent.slice(scheme.prefix.length), scheme);
    digests = digest ? [digest] : [];
    if (scheme.timestampHeader) {
      timestamp = headerValue(headers, scheme.timestampHeader);
      if (timestamp === undefined)
        return { ok: false, refusal: { kind: 'timestamp-missing', header: scheme.timestampHeader } };
    }
  }
  if (digests.length === 0) return malformed;
  if (timestamp !== undefined) {
    const at = timestampMs(timestamp);
    if (!Number.isFinite(at))
      return { ok: false, refusal: { kind: 'timestamp-malformed', header: timestampHeader } };
    if (Math.abs(nowMs - at) > scheme.toleranceSec * 1000)
      return { ok: false, refusal: { kind: 'timestamp-outside', toleranceSec: scheme.toleranceSec } };
  }
  return { ok: true, claim: { digests, signedPrefix: timestamp === undefined ? '' : `${timestamp}.` } };
}

/**
 * Standard Webhooks 1.0 (docs/standard-webhooks.md): the three headers, each signature a `v1,` entry
 * (other versions, e.g. `v1a` asymmetric ones, are skipped as the reference libraries do), the
 * timestamp in whole Unix seconds within the tolerance both ways, compared in seconds as they do.
 */
function readStandard(
  scheme: SignatureScheme,
  headers: IncomingHttpHeaders,
  nowMs: number,
): { ok: true; claim: SignedClaim } | { ok: false; refusal: Refusal } {
  const sent = headerValue(headers, scheme.header);
  if (sent === undefined) return { ok: false, refusal: { kind: 'signature-missing', header: scheme.header } };
  const id = headerValue(headers, STANDARD_ID_HEADER);
  if (id === undefined) return { ok: false, refusal: { kind: 'id-missing', header: STANDARD_ID_HEADER } };
  const timestamp = headerValue(headers, scheme.timestampHeader);
  if (timestamp === undefined)
    return { ok: false, refusal: { kind: 'timestamp-missing', header: scheme.timestampHeader } };
  const digests: Buffer[] = [];
  for (const entry of sent.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const digest = decodeDigest(entry.slice(comma + 1), scheme);
    if (digest) digests.push(digest);
  }
  if (digests.length === 0)
    return { ok: false, refusal: { kind: 'signature-malformed', header: scheme.header } };
  if (!/^\d{1,15}$/.test(timestamp))
    return {
      ok: false,
      refusal: { kind: 'timestamp-malformed', header: scheme.timestampHeader, expected: 'Unix seconds' },
    };
  const seconds = Number(timestamp);
  if (Math.abs(Math.floor(nowMs / 1000) - seconds) > scheme.toleranceSec)
    return { ok: false, refusal: { kind: 'timestamp-outside', toleranceSec: scheme.toleranceSec } };
  // A copy can pass the timestamp check until the signed time plus the tolerance (the arrival
  // time plus the tolerance when the sender's clock is behind).
  const rememberUntilMs = (Math.max(seconds, Math.floor(nowMs / 1000)) + scheme.toleranceSec + 1) * 1000;
  return {
    ok: true,
    claim: { digests, signedPrefix: `${id}.${timestamp}.`, delivery: { id, rememberUntilMs } },
  };
}

function digestOf(scheme: SignatureScheme, secret: Buffer, body: Buffer, signedPrefix: string): Buffer {
  const hmac = createHmac(scheme.algorithm, secret);
  if (signedPrefix) hmac.update(signedPrefix);
  return hmac.update(body).digest();
}

/** Compares in constant time each digest sent with the body's; true when one matches. */
export function signatureMatches(
  scheme: SignatureScheme,
  secret: Buffer,
  claim: SignedClaim,
  body: Buffer,
): boolean {
  const expected = digestOf(scheme, secret, body, claim.signedPrefix);
  let match = false;
  // Every digest is compared (no early exit), each in constant time.
  for (const digest of claim.digests) match = timingSafeEqual(digest, expected) || match;
  return match;
}

/**
 * The headers a sender following `scheme` would send with `body` at `nowMs` (for test payloads);
 * Standard Webhooks: under a new message id, unless `id` is given.
 */
export function signatureHeaders(
  scheme: SignatureScheme,
  secret: Buffer,
  body: Buffer,
  nowMs: number,
  id = `msg_${randomBytes(16).toString('base64url')}`,
): Record<string, string> {
  const seconds = String(Math.floor(nowMs / 1000));
  if (scheme.format === 'stripe') {
    return {
      [scheme.header]: `t=${seconds},v1=${digestOf(scheme, secret, body, `${seconds}.`).toString('hex')}`,
    };
  }
  if (scheme.format === 'standard') {
    const digest = digestOf(scheme, secret, body, `${id}.${seconds}.`).toString('base64');
    return {
      [STANDARD_ID_HEADER]: id,
      [scheme.timestampHeader]: seconds,
      [scheme.header]: `v1,${digest}`,
    };
  }
  const timestamp = scheme.timestampHeader ? seconds : undefined;
  const headers: Record<string, string> = {
    [scheme.header]:
      scheme.prefix +
      digestOf(scheme, secret, body, timestamp === undefined ? '' : `${timestamp}.`).toString(
        scheme.encoding,
      ),
  };
  if (timestamp !== undefined) headers[scheme.timestampHeader] = timestamp;
  return headers;
}
