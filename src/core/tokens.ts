import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 24 bytes from the CSPRNG = 192 bits (iHook promises ~2.9e37 ≈ 2^124 combinations). */
export function newUrlToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * A well-formed URL token, as a RegExp source: base64url, at least 32 characters (a token from
 * newUrlToken has 32). The editor checks tokens with the same pattern (exposed through the node
 * types' settings).
 */
export const TOKEN_PATTERN = '^[A-Za-z0-9_-]{32,}$';
const TOKEN = new RegExp(TOKEN_PATTERN);

export function isWellFormedToken(token: unknown): token is string {
  return typeof token === 'string' && TOKEN.test(token);
}

/**
 * Maps secret URL tokens to handlers. Lookup is by a SHA-256 of the token, then the stored token is
 * compared in constant time, so response timing tells nothing about how much of a guess was right.
 */
export class TokenRegistry<T> {
  private readonly byHash = new Map<string, { token: Buffer; value: T }>();

  set(token: string, value: T): void {
    this.byHash.set(hash(token), { token: Buffer.from(token), value });
  }

  delete(token: string, value?: T): void {
    const key = hash(token);
    const entry = this.byHash.get(key);
    if (entry && (value === undefined || entry.value === value)) this.byHash.delete(key);
  }

  get(candidate: string): T | undefined {
    const entry = this.byHash.get(hash(candidate));
    if (!entry) return undefined;
    const given = Buffer.from(candidate);
    return given.length === entry.token.length && timingSafeEqual(given, entry.token)
      ? entry.value
      : undefined;
  }

  get size(): number {
    return this.byHash.size;
  }
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}
