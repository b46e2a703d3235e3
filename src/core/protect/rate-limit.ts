/**
 * A token bucket: holds up to `capacity` tokens, refilled continuously at `perSecond`; each request
 * takes one. A full bucket lets a burst of `capacity` requests through at once, then the rate holds.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(capacity >= 1) || !(perSecond > 0))
      throw new RangeError('a token bucket needs capacity >= 1 and a rate > 0');
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Takes a token: `{ ok: true }`, or the whole seconds until one is back (for Retry-After). */
  take(): { ok: true } | { ok: false; retryAfterSec: number } {
    const now = this.now();
    // A clock set back refills nothing (and never drains).
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.perSecond);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSec: Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond)) };
  }
}
