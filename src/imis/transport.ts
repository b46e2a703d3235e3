/**
 * The one HTTP transport for iMIS and iDMS: one axios instance, one exchange with a hard timeout,
 * bodies parsed here, failures without an answer classified, and the one Retry-After parser.
 *
 * What is retried, and when, is each caller's policy (client.ts for the REST API, iupdate.ts for
 * iUpdate tasks): this module only says what happened.
 */
import type { AxiosInstance } from 'axios';
import { ExpectedError } from '../core/errors.js';
import { lazy } from '../core/lazy.js';
import { isRecord } from './json-net.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Absolute http(s) URL, query string included. */
  url: string;
  headers: Record<string, string>;
  /** The body as it goes on the wire (JSON or form text). */
  body?: string;
  /** From sending to the last byte of the answer. */
  timeoutMs: number;
  /** The caller's own reason to give up (e.g. a node closing); reported as `aborted`. */
  signal?: AbortSignal;
  /** Redirects to follow; 0 (the default) returns a 3xx as the answer. */
  maxRedirects?: number;
}

export interface HttpAnswer {
  status: number;
  statusText: string;
  location?: string;
  retryAfter?: string;
  /** Parsed JSON, else the text; undefined for an empty body. */
  body: unknown;
}

/** Longest delay setTimeout honours: anything above fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Connection never established: the request cannot have reached the server. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);
/** Transient failures on an established connection: the server may have processed the request. */
const MAYBE_SENT = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** A request that got no HTTP answer. */
export class TransportFailure extends ExpectedError {
  override readonly name = 'TransportFailure';

  constructor(
    /** The request's own timeout fired. */
    readonly timedOut: boolean,
    /** The caller's signal fired. */
    readonly aborted: boolean,
    /** Node's error code (ECONNREFUSED, ...), 'ETIMEDOUT' for a timeout, 'ABORTED' for an abort. */
    readonly code: string,
    readonly original: unknown,
  ) {
    super(original instanceof Error && original.message ? original.message : code);
  }

  /** The connection was never made: the server cannot have seen the request. */
  get notSent(): boolean {
    return NOT_SENT.has(this.code);
  }

  /** Sent on a connection that failed or timed out: the server may have applied the request. */
  get maybeApplied(): boolean {
    return this.timedOut || MAYBE_SENT.has(this.code);
  }
}

/** Made on the first request: axios is loaded only when a node talks to iMIS (lazy.ts). */
const http = lazy((): AxiosInstance =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('axios') as typeof import('axios')).create({
    // Every status is an answer for the caller to judge; bodies are parsed here, not by axios.
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
  }),
);

/** One HTTP exchange. Throws a TransportFailure when no answer came (timeout, network, abort). */
export async function exchange(req: HttpRequest): Promise<HttpAnswer> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      controller.abort();
    },
    Math.max(1, Math.min(req.timeoutMs, MAX_TIMER_MS)),
  );
  const onAbort = () => controller.abort();
  if (req.signal?.aborted) controller.abort();
  else req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await http().request<unknown>({
      method: req.method,
      url: req.url,
      headers: req.headers,
      data: req.body,
      signal: controller.signal,
      maxRedirects: req.maxRedirects ?? 0,
    });
    return {
      status: res.status,
      statusText: res.statusText,
      location: headerText(res.headers['location']),
      retryAfter: headerText(res.headers['retry-after']),
      body: parseBody(res.data),
    };
  } catch (err) {
    if (timedOut) throw new TransportFailure(true, false, 'ETIMEDOUT', err);
    if (controller.signal.aborted) throw new TransportFailure(false, true, 'ABORTED', err);
    throw new TransportFailure(false, false, errorCode(err), err);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Retry-After in ms, or undefined when absent or unreadable. Three forms: delay-seconds ("7") and
 * an HTTP-date (RFC 9110 §10.2.3) in the header, and the .NET TimeSpan iDMS writes in a job
 * status's RetryAfter ("00:00:05", "1.02:03:04.5"; docs/imis-api.md §6).
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // .NET TimeSpan "[d.]hh:mm[:ss[.fffffff]]".
  const span = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(text);
  if (span) {
    const [, d, h, m, s, frac] = span;
    const seconds = Number(d ?? 0) * 86_400 + Number(h) * 3_600 + Number(m) * 60 + Number(s ?? 0);
    return Math.round((seconds + Number(`0.${frac ?? '0'}`)) * 1000);
  }
  // Date.parse reads bare numbers ("-5") as years too, hence the letter test.
  if (/[a-z]/i.test(text)) {
    const at = Date.parse(text);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  return undefined;
}

function parseBody(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  const text = data.trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function headerText(value: unknown): string | undefined {
  if (Array.isArray(value)) return headerText(value[0]);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The most telling error code, looking through axios's ERR_NETWORK into the cause. */
function errorCode(err: unknown): string {
  if (!isRecord(err) && !(err instanceof Error)) return 'UNKNOWN';
  const { code, cause } = err as { code?: unknown; cause?: unknown };
  if (typeof code === 'string' && code !== 'ERR_NETWORK') return code;
  return cause ? errorCode(cause) : typeof code === 'string' ? code : 'UNKNOWN';
}
