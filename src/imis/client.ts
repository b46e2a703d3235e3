// The one module that talks HTTP to iMIS: OAuth2 sign-in, token cache, limits, retries, errors.
import { setTimeout as sleep } from 'node:timers/promises';
import { ImisError, errorFromResponse, errorFromTokenResponse } from './errors.js';
import { isRecord } from './json-net.js';
import { Limiter } from './limiter.js';
import { TransportFailure, exchange, parseRetryAfter } from './transport.js';
import type { HttpAnswer, HttpMethod } from './transport.js';

export type { HttpMethod } from './transport.js';

export interface ImisClientOptions {
  /** The iMIS site root, possibly with a path, e.g. `https://x/Asi.Scheduler_SDKDemo`. */
  baseUrl: string;
  username: string;
  password: string;
  /** Per HTTP request, from sending to the last byte of the answer. Default 30000. */
  timeoutMs?: number;
  /** Requests (sign-ins included) open at once against this site. Default 8. */
  maxInFlight?: number;
  /** Extra attempts after a retryable failure. Default 3. */
  retries?: number;
  /** First backoff delay; doubles per attempt, with jitter. Default 200. */
  retryBaseMs?: number;
  /** Longest wait between attempts, Retry-After included. Default 10000. */
  retryMaxMs?: number;
  /** Sign in again this long before the token expires. Default 60. */
  refreshSkewSeconds?: number;
}

export interface RequestOptions {
  /** Query parameters; an array repeats the key (`parameter=a&parameter=b`, docs/imis-api.md §4). */
  params?: Record<string, string | number | string[]>;
  /** JSON body. */
  data?: unknown;
  /**
   * Attempts for this call, the first included (1 = never retried); default: the client's
   * `retries` + 1. Which failures are retried stays the policy of `retrying` below.
   */
  attempts?: number;
  /**
   * Whether sending this call twice is harmless. Default: every method but POST. False retries it
   * only when iMIS surely did not apply it (429, 503, connection never made), as for a POST.
   */
  idempotent?: boolean;
}

interface TokenInfo {
  token: string;
  userName?: string;
  expiresIn: number;
  /** Epoch ms after which the token is renewed before use. */
  refreshAt: number;
}

/** Statuses that mean "not processed, try later": safe to retry for every method. */
const BUSY = new Set([429, 503]);
/** Server errors worth another try when repeating the request is harmless. */
const SERVER_ERROR = new Set([500, 502, 504]);

function queryString(params: RequestOptions['params']): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(params ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(item))}`);
    }
  }
  return pairs.length ? `?${pairs.join('&')}` : '';
}

export class ImisClient {
  readonly baseUrl: string;
  private readonly username: string;
  private readonly password: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly refreshSkewMs: number;
  private readonly limiter: Limiter;
  private cached?: TokenInfo;
  private signingIn?: Promise<TokenInfo>;

  constructor(opts: ImisClientOptions) {
    // Trailing slashes go, so that `${baseUrl}/api/...` never doubles them.
    this.baseUrl = String(opts.baseUrl ?? '')
      .trim()
      .replace(/\/+$/, '');
    this.username = opts.username;
    this.password = opts.password;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retries = Math.max(0, Math.floor(opts.retries ?? 3));
    this.retryBaseMs = opts.retryBaseMs ?? 200;
    this.retryMaxMs = opts.retryMaxMs ?? 10_000;
    this.refreshSkewMs = (opts.refreshSkewSeconds ?? 60) * 1000;
    this.limiter = new Limiter(Math.max(1, opts.maxInFlight ?? 8));
  }

  /** HTTP requests to this iMIS site open right now. */
  get inFlight(): number {
    return this.limiter.active;
  }

  /**
   * Calls `{baseUrl}{path}` (path such as `/api/Activity`) with a bearer token and returns the
   * parsed JSON answer, or throws an ImisError.
   */
  async request<T = unknown>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    const p = path.startsWith('/') ? path : `/${path}`;
    const url = this.url(p) + queryString(opts.params);
    const body = opts.data === undefined ? undefined : JSON.stringify(opts.data);
    const attempt = () =>
      this.limiter.run(async () => {
        const token = await this.currentToken();
        const headers: Record<string, string> = {
          Accept: 'application/json',
          Authorization: `Bearer ${token}`,
        };
        if (body !== undefined) headers['Content-Type'] = 'application/json';
        return { ...(await this.exchange(method, url, headers, body)), token };
      });
    const idempotent = opts.idempotent ?? method !== 'POST';
    const retries = opts.attempts === undefined ? this.retries : Math.max(0, Math.floor(opts.attempts) - 1);
    let answer = await this.retrying(method, p, idempotent, attempt, retries);
    if (answer.status === 401) {
      // Expired or revoked bearer: sign in again and retry once (docs/imis-api.md §1.2).
      this.dropToken(answer.token);
      answer = await this.retrying(method, p, idempotent, attempt, retries);
    }
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    throw errorFromResponse(method, p, answer.status, answer.body);
  }

  /** A valid access token, signing in when there is none or it is about to expire. */
  async token(): Promise<string> {
    if (this.cached && Date.now() < this.cached.refreshAt) return this.cached.token;
    return this.limiter.run(() => this.currentToken());
  }

  /** Signs in afresh (checks URL and credentials) and reports who and for how long. */
  async testConnection(): Promise<{ ok: true; userName?: string; expiresIn: number }> {
    this.cached = undefined;
    const info = await this.limiter.run(() => this.signIn());
    return { ok: true, userName: info.userName ?? this.username, expiresIn: info.expiresIn };
  }

  private url(path: string): string {
    if (!/^https?:\/\/[^/]/i.test(this.baseUrl)) {
      throw new ImisError(
        'network',
        `The iMIS base URL "${this.baseUrl}" is not an http(s) address, e.g. https://yourorg.imiscloud.com`,
        { path },
      );
    }
    return this.baseUrl + path;
  }

  /** Must run inside a limiter slot: the sign-in it may start uses that slot. */
  private async currentToken(): Promise<string> {
    if (this.cached && Date.now() < this.cached.refreshAt) return this.cached.token;
    return (await this.signIn()).token;
  }

  /** One sign-in at a time: concurrent callers share it (single flight). */
  private signIn(): Promise<TokenInfo> {
    this.signingIn ??= this.fetchToken().finally(() => {
      this.signingIn = undefined;
    });
    return this.signingIn;
  }

  private dropToken(token: string): void {
    // Only the token that failed: another caller may already hold a fresh one.
    if (this.cached?.token === token) this.cached = undefined;
  }

  /** OAuth2 password grant, form-urlencoded (docs/imis-api.md §1.1). */
  private async fetchToken(): Promise<TokenInfo> {
    const tokenUrl = this.url('/token');
    const form = new URLSearchParams({
      grant_type: 'password',
      username: this.username,
      password: this.password,
    }).toString();
    const headers = { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' };
    const started = Date.now();
    // A sign-in changes nothing on the server, so it is retried like a GET.
    const answer = await this.retrying('POST', '/token', true, () =>
      this.exchange('POST', tokenUrl, headers, form),
    );
    if (answer.status < 200 || answer.status >= 300) {
      throw errorFromTokenResponse(tokenUrl, this.username, answer.status, answer.body);
    }
    const body = answer.body;
    if (!isRecord(body) || typeof body.access_token !== 'string' || body.access_token === '') {
      throw new ImisError(
        'http',
        `iMIS answered the sign-in at ${tokenUrl} without an access token: check that the base URL is the iMIS site root`,
        { status: answer.status, body, method: 'POST', path: '/token' },
      );
    }
    const given = Number(body.expires_in);
    // OWIN omits nothing in practice; 1199 s is what iMIS issues (docs/imis-api.md §1.2).
    const expiresIn = Number.isFinite(given) && given > 0 ? given : 1199;
    // Renew `refreshSkewSeconds` early, but never before half the lifetime (very short tokens).
    const lifetimeMs = expiresIn * 1000;
    const info: TokenInfo = {
      token: body.access_token,
      userName: typeof body.userName === 'string' ? body.userName : undefined,
      expiresIn,
      refreshAt: started + Math.max(lifetimeMs - this.refreshSkewMs, lifetimeMs / 2),
    };
    this.cached = info;
    return info;
  }

  /** One HTTP exchange; throws TransportFailure when no answer came. */
  private exchange(
    method: HttpMethod,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<HttpAnswer> {
    // No redirects followed: one would turn the POST /token into a GET; errors.ts reports it.
    return exchange({ method, url, headers, body, timeoutMs: this.timeoutMs });
  }

  /**
   * Runs `attempt` until it gets an answer worth returning, retrying with exponential backoff
   * plus jitter (or the server's Retry-After, capped at retryMaxMs).
   *
   * Idempotency: GET, PUT, DELETE (and the sign-in) are retried on network errors, timeouts,
   * 429 and 500/502/503/504. A POST creates a record, so sending it twice could insert it twice:
   * it is retried only when iMIS surely did not process it, i.e. 429 and 503 ("busy, come back
   * later") and connection failures before anything was sent (ECONNREFUSED, DNS, unreachable);
   * never after a timeout, a reset connection or another 5xx, where the insert may have happened.
   */
  private async retrying<A extends HttpAnswer>(
    method: HttpMethod,
    path: string,
    idempotent: boolean,
    attempt: () => Promise<A>,
    retries = this.retries,
  ): Promise<A> {
    for (let n = 0; ; n++) {
      let answer: A;
      try {
        answer = await attempt();
      } catch (err) {
        if (!(err instanceof TransportFailure)) throw err;
        const retryable = err.notSent || (idempotent && err.maybeApplied);
        if (retryable && n < retries) {
          await sleep(this.backoff(n));
          continue;
        }
        throw this.transportError(method, path, err, n + 1, idempotent);
      }
      const retryable = BUSY.has(answer.status) || (idempotent && SERVER_ERROR.has(answer.status));
      if (!retryable || n >= retries) return answer;
      await sleep(this.backoff(n, parseRetryAfter(answer.retryAfter)));
    }
  }

  private backoff(attempt: number, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, this.retryMaxMs);
    const ceiling = Math.min(this.retryBaseMs * 2 ** attempt, this.retryMaxMs);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private transportError(
    method: HttpMethod,
    path: string,
    failure: TransportFailure,
    attempts: number,
    idempotent: boolean,
  ): ImisError {
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    const details = { method, path, code: failure.code, cause: failure.original };
    if (failure.timedOut) {
      const notRepeated = idempotent
        ? ''
        : '; not sent again, as iMIS may have processed it: check iMIS before running it again';
      return new ImisError(
        'timeout',
        `iMIS did not answer ${method} ${path} within ${this.timeoutMs / 1000} s${tries}${notRepeated}`,
        details,
      );
    }
    const hint =
      failure.code === 'ENOTFOUND'
        ? ': check the host name in the base URL'
        : failure.notSent
          ? ': check the base URL and that the site is up'
          : '';
    const reason = failure.message === failure.code ? failure.code : `${failure.message} (${failure.code})`;
    return new ImisError(
      'network',
      `Could not reach iMIS at ${this.baseUrl} for ${method} ${path}: ${reason}${tries}${hint}`,
      details,
    );
  }
}
