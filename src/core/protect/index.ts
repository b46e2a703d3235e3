import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ExpectedError } from '../errors.js';
import { AddressAllowlist, AllowlistError } from './allowlist.js';
import { TokenBucket } from './rate-limit.js';
import type { Refusal } from './refusal.js';
import {
  SIGNATURE_PRESETS,
  readSignature,
  signatureHeaders,
  signatureMatches,
  standardSecretKey,
} from './signature.js';
import type {
  DigestEncoding,
  HashAlgorithm,
  SignaturePreset,
  SignatureScheme,
  SignedDelivery,
} from './signature.js';

export type { Refusal } from './refusal.js';
export { refusalMessage } from './refusal.js';
export { SIGNATURE_PRESETS } from './signature.js';
export type { SignaturePreset, SignatureScheme, SignedDelivery } from './signature.js';

/**
 * Protections of a secret-URL endpoint beyond the URL itself, each off by default (then the secret
 * URL alone guards it, as in iHook). These are node config fields; the secret values are
 * credentials (ProtectionSecrets).
 */
export interface ProtectionSettings {
  /** Name of a header that must carry the shared secret; '' = off. */
  secretHeader: string;
  /** HMAC signature of the body: a sender's preset, `custom` (the fields below), or `none`. */
  signature: 'none' | SignaturePreset | 'custom';
  signatureHeader: string;
  signatureAlgorithm: HashAlgorithm;
  signatureEncoding: DigestEncoding;
  signaturePrefix: string;
  /** `custom` only: header with the signed timestamp ('' = none). */
  timestampHeader: string;
  /** Replay window for signed timestamps (Stripe, Standard Webhooks, or `custom` with a timestamp header), seconds. */
  toleranceSec: number;
  /** Allowed client addresses and CIDR ranges, IPv4 and IPv6; '' = anyone. */
  allowFrom: string;
  /** Requests per `ratePeriod` for the whole endpoint (token bucket, bursts up to it); 0 = off. */
  rateLimit: number;
  ratePeriod: 'second' | 'minute' | 'hour';
}

export interface ProtectionSecrets {
  /** The shared secret's value. */
  headerSecret?: string;
  /**
   * The HMAC key, used as its UTF-8 bytes (as GitHub, Stripe and Shopify do); Standard Webhooks:
   * `whsec_<base64>` (or the base64 alone), the key being the decoded bytes.
   */
  signatureSecret?: string;
}

/** All protections off: the fields' defaults (the nodes' config migration adds them). */
export const PROTECTION_DEFAULTS: ProtectionSettings = {
  secretHeader: '',
  signature: 'none',
  signatureHeader: 'X-Signature',
  signatureAlgorithm: 'sha256',
  signatureEncoding: 'hex',
  signaturePrefix: '',
  timestampHeader: '',
  toleranceSec: 300,
  allowFrom: '',
  rateLimit: 0,
  ratePeriod: 'minute',
};

const PERIOD_SECONDS = { second: 1, minute: 60, hour: 3600 } as const;
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A protection configured so that it cannot work: the message says which field to fix. */
export class ProtectionConfigError extends ExpectedError {
  constructor(message: string) {
    super(message);
    this.name = 'ProtectionConfigError';
  }
}

/** The outcome of the checks made before the body is read. */
export type Admission =
  | {
      ok: true;
      /**
       * Set when a signature must be checked: call it with the body's exact bytes (undefined when
       * they are not available) before parsing it; a refusal means the request must be refused.
       */
      verifyBody?: (body: Buffer | undefined) => Refusal | undefined;
      /**
       * The delivery the sender names (Standard Webhooks' `webhook-id`), to be run once: to be
       * trusted only once verifyBody passed, since the id is signed with the body.
       */
      delivery?: SignedDelivery;
    }
  | { ok: false; refusal: Refusal };

export interface ClientRequest {
  /** The client's address, after trusted proxies (see the adapter); undefined if unknown. */
  address?: string;
  headers: IncomingHttpHeaders;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A compiled set of protections for one endpoint (one node). */
export class Protection {
  private readonly secretDigest?: Buffer;
  /** Kept for senderHeaders only; requests are compared by digest. */
  private readonly headerSecret?: string;
  private readonly signature?: { scheme: SignatureScheme; secret: Buffer };
  private readonly allowlist?: AddressAllowlist;
  private readonly bucket?: TokenBucket;

  /** Throws ProtectionConfigError when a protection is on but cannot work (no secret, bad entry, ...). */
  constructor(
    private readonly settings: ProtectionSettings,
    secrets: ProtectionSecrets = {},
    now: () => number = Date.now,
  ) {
    const s = settings;
    if (s.secretHeader) {
      if (!HEADER_NAME.test(s.secretHeader))
        throw new ProtectionConfigError(
          `"${s.secretHeader}" is not a valid header name for the shared secret`,
        );
      if (!secrets.headerSecret)
        throw new ProtectionConfigError(
          `The shared secret header ${s.secretHeader} is set but its value is empty`,
        );
      this.secretDigest = sha256(secrets.headerSecret);
      this.headerSecret = secrets.headerSecret;
    }
    // A field left out (a hand-written flow) leaves its protection off, as its default does.
    if (s.signature && s.signature !== 'none') {
      const scheme = this.schemeOf({ ...s, signature: s.signature });
      if (!secrets.signatureSecret)
        throw new ProtectionConfigError('A signature check is set but its secret is empty');
      let secret: Buffer = Buffer.from(secrets.signatureSecret, 'utf8');
      if (scheme.format === 'standard') {
        const key = standardSecretKey(secrets.signatureSecret);
        if (!key)
          throw new ProtectionConfigError(
            'The Standard Webhooks secret must be whsec_ followed by base64, as the sender shows it',
          );
        secret = key;
      }
      this.signature = { scheme, secret };
    }
    if (typeof s.allowFrom === 'string' && s.allowFrom.trim()) {
      try {
        this.allowlist = AddressAllowlist.parse(s.allowFrom);
      } catch (err) {
        if (err instanceof AllowlistError)
          throw new ProtectionConfigError(`Allowed addresses: ${err.message}`);
        throw err;
      }
    }
    if (Number(s.rateLimit) > 0) {
      const period = Object.hasOwn(PERIOD_SECONDS, s.ratePeriod) ? PERIOD_SECONDS[s.ratePeriod] : undefined;
      if (!period) throw new ProtectionConfigError(`Unknown rate limit period "${s.ratePeriod}"`);
      const limit = Number(s.rateLimit);
      this.bucket = new TokenBucket(Math.max(1, Math.floor(limit)), limit / period, now);
    }
  }

  private schemeOf(s: ProtectionSettings & { signature: SignaturePreset | 'custom' }): SignatureScheme {
    const toleranceSec = Number(s.toleranceSec);
    const needsTolerance =
      s.signature === 'stripe' ||
      s.signature === 'standard-webhooks' ||
      (s.signature === 'custom' && s.timestampHeader);
    if (needsTolerance && !(Number.isInteger(toleranceSec) && toleranceSec >= 1))
      throw new ProtectionConfigError(
        'The timestamp tolerance must be a whole number of seconds, at least 1',
      );
    if (s.signature !== 'custom') {
      if (!Object.hasOwn(SIGNATURE_PRESETS, s.signature))
        throw new ProtectionConfigError(`Unknown signature scheme "${s.signature}"`);
      return { ...SIGNATURE_PRESETS[s.signature], toleranceSec };
    }
    for (const [what, name] of [
      ['signature', s.signatureHeader],
      ['timestamp', s.timestampHeader],
    ] as const) {
      if ((what === 'signature' || name) && !HEADER_NAME.test(name))
        throw new ProtectionConfigError(`"${name}" is not a valid header name for the ${what}`);
    }
    if (s.signatureAlgorithm !== 'sha256' && s.signatureAlgorithm !== 'sha1')
      throw new ProtectionConfigError(`Unknown signature algorithm "${s.signatureAlgorithm}"`);
    if (s.signatureEncoding !== 'hex' && s.signatureEncoding !== 'base64')
      throw new ProtectionConfigError(`Unknown signature encoding "${s.signatureEncoding}"`);
    return {
      header: s.signatureHeader,
      algorithm: s.signatureAlgorithm,
      encoding: s.signatureEncoding,
      prefix: s.signaturePrefix ?? '',
      format: 'plain',
      timestampHeader: s.timestampHeader,
      toleranceSec,
    };
  }

  /** Whether any protection is on (else the secret URL alone guards the endpoint). */
  get active(): boolean {
    return Boolean(this.secretDigest || this.signature || this.allowlist || this.bucket);
  }

  /** Whether the client's address is checked (else `admit` needs none). */
  get checksAddress(): boolean {
    return this.allowlist !== undefined;
  }

  /** Whether a signature is checked (so the body's exact bytes are needed). */
  get signs(): boolean {
    return this.signature !== undefined;
  }

  /** Names of the headers that carry this endpoint's secrets and signatures (never to be stored). */
  get secretHeaderNames(): string[] {
    const names: string[] = [];
    if (this.secretDigest) names.push(this.settings.secretHeader);
    if (this.signature) names.push(this.signature.scheme.header);
    return names;
  }

  /**
   * The checks that need no body, cheapest first: the address, the rate (every request that
   * passes the allowlist takes a token, refused or not, so guessing secrets is rate limited too),
   * the shared secret, then the signature's form and timestamp.
   */
  admit(request: ClientRequest, nowMs: number = Date.now()): Admission {
    if (this.allowlist && !this.allowlist.allows(request.address))
      return { ok: false, refusal: { kind: 'address', address: request.address ?? 'unknown' } };
    if (this.bucket) {
      const taken = this.bucket.take();
      if (!taken.ok) return { ok: false, refusal: { kind: 'rate', retryAfterSec: taken.retryAfterSec } };
    }
    if (this.secretDigest) {
      const header = this.settings.secretHeader;
      const value = request.headers[header.toLowerCase()];
      const given = Array.isArray(value) ? value.join(', ') : value;
      if (!given) return { ok: false, refusal: { kind: 'secret-missing', header } };
      // Digests of equal length, compared in constant time: neither length nor content leaks.
      if (!timingSafeEqual(sha256(given), this.secretDigest))
        return { ok: false, refusal: { kind: 'secret-invalid', header } };
    }
    if (!this.signature) return { ok: true };
    const { scheme, secret } = this.signature;
    const read = readSignature(scheme, request.headers, nowMs);
    if (!read.ok) return read;
    const { claim } = read;
    return {
      ok: true,
      ...(claim.delivery ? { delivery: claim.delivery } : {}),
      verifyBody: (body) => {
        if (!body) return { kind: 'unverifiable' };
        return signatureMatches(scheme, secret, claim, body)
          ? undefined
          : { kind: 'signature-invalid', header: scheme.header };
      },
    };
  }

  /**
   * The headers a legitimate sender would add to `body` (the shared secret, the signature and its
   * timestamp): for the editor's test payload, made in the runtime so no secret reaches the browser.
   */
  senderHeaders(body: Buffer, nowMs: number = Date.now()): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.secretDigest && this.headerSecret) headers[this.settings.secretHeader] = this.headerSecret;
    if (this.signature)
      Object.assign(headers, signatureHeaders(this.signature.scheme, this.signature.secret, body, nowMs));
    return headers;
  }
}
