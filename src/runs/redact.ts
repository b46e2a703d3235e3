import { inspect } from 'node:util';

/**
 * Callers' secrets are never stored. A trigger's request metadata (Metadata Output Property) holds
 * the caller's headers, among them credentials and signatures; the flow gets them as sent, but the
 * copy handed to persistence (the stored accepted input and run, and so the Runs
 * admin API) has their values replaced by REDACTED. The header names stay, so a user can still see
 * that a header was sent.
 */

export const REDACTED = '[redacted]';

/** Header names (lower case) always redacted. */
export const SECRET_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  // Webhook signatures (GitHub, Stripe, Shopify, Standard Webhooks) and Event Grid's access keys.
  'x-hub-signature',
  'x-hub-signature-256',
  'stripe-signature',
  'x-shopify-hmac-sha256',
  'webhook-signature',
  'aeg-sas-key',
  'aeg-sas-token',
];

/**
 * Parts of a header name that mark it secret wherever they occur: `X-Signature`, `X-Gitlab-Token`,
 * `X-Auth-Token`, `X-Webhook-Secret`, `X-My-Api-Key`, `X-Hmac-Sha1` and the like.
 */
const SECRET_NAME_PARTS = ['signature', 'token', 'secret', 'password', 'apikey', 'api-key', 'hmac'];

/** Tells whether a header's value is a secret. */
export type SecretHeaderTest = (name: string) => boolean;

/**
 * The test for secret headers: the built-in names and name parts, plus `extraNames` (the
 * `imisRedactHeaders` setting: an array of header names, any case; anything else is ignored).
 */
export function secretHeaderTest(extraNames?: unknown): SecretHeaderTest {
  const names = new Set(SECRET_HEADERS);
  if (Array.isArray(extraNames)) {
    for (const name of extraNames)
      if (typeof name === 'string' && name.trim()) names.add(name.trim().toLowerCase());
  }
  return (name: string) => {
    const lower = name.toLowerCase();
    return names.has(lower) || SECRET_NAME_PARTS.some((part) => lower.includes(part));
  };
}

/** A copy of `headers` with the value of each secret header replaced by REDACTED. */
export function redactHeaders(
  headers: Record<string, unknown>,
  isSecret: SecretHeaderTest,
): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) copy[name] = isSecret(name) ? REDACTED : value;
  return copy;
}

/** Request metadata objects made by a trigger, whose `headers` are the caller's. */
const requestMetadataObjects = new WeakSet<object>();

/** Marks `meta` (an object with the caller's `headers`) as request metadata; returns it. */
export function markRequestMetadata<T extends object>(meta: T): T {
  requestMetadataObjects.add(meta);
  return meta;
}

/**
 * What may be stored of a trigger's message properties: a copy of `extra` in which every request
 * metadata object (wherever the Metadata Output Property put it) has its secret headers redacted.
 * `extra` itself, which the flow gets, is left as it is.
 */
export function storableExtra<T extends Record<string, unknown> | undefined>(
  extra: T,
  isSecret: SecretHeaderTest,
): T {
  return copyRedacted(extra, isSecret, new WeakSet()) as T;
}

function copyRedacted(value: unknown, isSecret: SecretHeaderTest, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  if (requestMetadataObjects.has(value)) {
    const meta = value as Record<string, unknown>;
    const headers = meta.headers;
    return headers !== null && typeof headers === 'object'
      ? { ...meta, headers: redactHeaders(headers as Record<string, unknown>, isSecret) }
      : { ...meta };
  }
  if (Array.isArray(value)) return value.map((item) => copyRedacted(item, isSecret, seen));
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
    return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = copyRedacted(item, isSecret, seen);
  return copy;
}

/** Message properties of another node's message never stored: Node-RED's own, and HTTP In's live objects. */
const UNSTORED_PROPERTIES = new Set(['payload', 'req', 'res', 'socketid', 'error']);

/** What is stored of a message that started a run at a node of this package (see `foreignInput`). */
export interface ForeignInput {
  payload: unknown;
  extra: Record<string, unknown>;
  /** The input was larger than the bound: not kept, so the run cannot be re-run. */
  truncated?: { bytes: number };
}

/**
 * A stored copy of a message sent by another node (inject, http in, a function): its payload and
 * the properties that are plain data, each taken as JSON (a snapshot: later nodes may change the
 * message), without Node-RED's `_` properties, HTTP In's request and response, and with secret
 * headers redacted in any `headers` object. Over `maxBytes` of JSON, nothing is kept but the size.
 */
export function foreignInput(
  msg: Record<string, unknown>,
  isSecret: SecretHeaderTest,
  maxBytes: number,
): ForeignInput {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(msg)) {
    if (key.startsWith('_') || UNSTORED_PROPERTIES.has(key) || value === undefined) continue;
    kept[key] = value;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify({ payload: msg.payload, extra: kept }, (key, value: unknown) =>
      key === 'headers' && value !== null && typeof value === 'object' && !Array.isArray(value)
        ? redactHeaders(value as Record<string, unknown>, isSecret)
        : typeof value === 'bigint'
          ? value.toString()
          : value,
    );
  } catch {
    // circular or otherwise not JSON: nothing kept
  }
  const bytes = text === undefined ? 0 : Buffer.byteLength(text);
  if (text === undefined || bytes > maxBytes) return { payload: undefined, extra: {}, truncated: { bytes } };
  const copy = JSON.parse(text) as { payload?: unknown; extra: Record<string, unknown> };
  return { payload: copy.payload, extra: copy.extra };
}

/**
 * A short preview of a step's payload for the run log: Node's `util.inspect` with bounded depth,
 * array length and string length (so the work is bounded however large the payload), cut to
 * `maxChars`. The payload only: never the message's headers, request or cookies.
 */
export function payloadSummary(value: unknown, maxChars: number): string {
  const text = inspect(value, {
    depth: 2,
    maxArrayLength: 10,
    maxStringLength: maxChars,
    breakLength: Infinity,
    compact: true,
    sorted: false,
    getters: false,
  });
  return text.length > maxChars ? `${text.slice(0, Math.max(0, maxChars - 1))}…` : text;
}
