import { refusalMessage } from './protect/refusal.js';
import type { Refusal } from './protect/refusal.js';

/**
 * iHook's response contract (docs/idms.md §iHook responses): callers written for iHook keep
 * working. This module is the one place that maps outcomes to status and body.
 */

export interface HookResponse {
  status: number;
  /** undefined = no body (Omit Response Body). */
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface HookOptions {
  /** "Return 202 Accepted": same meaning as 200. */
  accepted202?: boolean;
  /** "Omit Response Body". */
  omitBody?: boolean;
}

export type HookRejection =
  | { kind: 'invalid-json'; detail: string }
  | { kind: 'not-object' }
  /** A JSON body that is not what the endpoint takes (Event Grid events): `detail` names no value of it. */
  | { kind: 'bad-events'; detail: string }
  | { kind: 'content-type'; contentType: string }
  /** A JSON body in a charset other than UTF-8/16/32 (RFC 8259 §8.1). */
  | { kind: 'charset'; charset: string }
  /** A Content-Encoding the endpoint cannot decode. */
  | { kind: 'content-encoding'; encoding: string }
  /** A body that does not decode as its Content-Encoding says (e.g. "gzip" on plain text). */
  | { kind: 'encoding-mismatch'; encoding: string }
  /** A body that could not be read whole (shorter than its Content-Length, connection aborted). */
  | { kind: 'unreadable'; reason: string }
  | { kind: 'schema'; violations: { path: string; message: string }[] }
  | { kind: 'unknown-url' }
  /** No node answers the URL yet because the flows are (re)starting: the caller should retry. */
  | { kind: 'starting' }
  | { kind: 'too-large'; limitBytes: number }
  | { kind: 'method'; method: string }
  | { kind: 'server'; detail: string }
  /** The store cannot open (PostgreSQL down, a folder not writable): the caller should retry. */
  | { kind: 'unavailable'; reason: string; retryAfterSec: number }
  /** Refused by one of the endpoint's protections (shared secret, signature, allowlist, rate). */
  | { kind: 'refused'; refusal: Refusal };

/** Seconds a caller is asked to wait (Retry-After) while the flows start. */
const STARTING_RETRY_AFTER_S = 2;

export function queued(runId: string, queueTime: Date, options: HookOptions = {}): HookResponse {
  const status = options.accepted202 ? 202 : 200;
  if (options.omitBody) return { status };
  return { status, body: { error: false, id: runId, queueTime: queueTime.toISOString() } };
}

export function rejected(rejection: HookRejection, options: HookOptions = {}): HookResponse {
  const { status, message, extra } = describe(rejection);
  const headers = rejectionHeaders(rejection);
  if (options.omitBody) return { status, headers };
  return { status, headers, body: { error: true, message, ...extra } };
}

function rejectionHeaders(rejection: HookRejection): Record<string, string> {
  if (rejection.kind === 'method') return { Allow: 'POST, OPTIONS' };
  if (rejection.kind === 'starting') return { 'Retry-After': String(STARTING_RETRY_AFTER_S) };
  if (rejection.kind === 'unavailable') return { 'Retry-After': String(rejection.retryAfterSec) };
  if (rejection.kind === 'refused' && rejection.refusal.kind === 'rate')
    return { 'Retry-After': String(rejection.refusal.retryAfterSec) };
  return {};
}

/** The caller-facing message of a rejection (also what is logged of it: it holds no secret). */
export function rejectionMessage(rejection: HookRejection): string {
  return describe(rejection).message;
}

/**
 * The status and reason of a rejection as kept and logged (the rejected calls list): the
 * caller-facing message without the excerpt of the body JSON.parse quotes in its message
 * (`Unexpected token 'd', "{"a": distinctiv"... is not valid JSON`).
 */
export function rejectionRecord(rejection: HookRejection): { status: number; reason: string } {
  const { status, message } = describe(
    rejection.kind === 'invalid-json'
      ? { ...rejection, detail: withoutExcerpt(rejection.detail) }
      : rejection,
  );
  return { status, reason: message };
}

/** A JSON.parse message up to where it quotes the text it could not parse. */
function withoutExcerpt(detail: string): string {
  const quote = detail.indexOf('"');
  return quote < 0 ? detail : detail.slice(0, quote).replace(/[\s,.]+$/, '');
}

function describe(r: HookRejection): { status: number; message: string; extra?: Record<string, unknown> } {
  switch (r.kind) {
    case 'refused':
      return { status: refusalStatus(r.refusal), message: refusalMessage(r.refusal) };
    case 'invalid-json':
      return { status: 400, message: `Invalid JSON body: ${r.detail}` };
    case 'not-object':
      return { status: 400, message: 'Invalid JSON body: the body must be a JSON object' };
    case 'bad-events':
      return { status: 400, message: r.detail };
    case 'content-type':
      return {
        status: 400,
        message: `Unsupported Content-Type "${r.contentType}": send application/json or text/json`,
      };
    case 'charset':
      return { status: 415, message: `Unsupported charset "${r.charset}": send the JSON body in UTF-8` };
    case 'content-encoding':
      return {
        status: 415,
        message: `Unsupported Content-Encoding "${r.encoding}": send the body uncompressed, or with gzip, deflate or br`,
      };
    case 'encoding-mismatch':
      return {
        status: 400,
        message: `The body is not valid ${r.encoding} data, as its Content-Encoding says`,
      };
    case 'unreadable':
      return { status: 400, message: `Could not read the request body: ${r.reason}` };
    case 'schema':
      return {
        status: 400,
        message: `Payload failed schema validation: ${r.violations.map((v) => `${v.path}: ${v.message}`).join('; ')}`,
        extra: { errors: r.violations },
      };
    case 'unknown-url':
      return { status: 401, message: 'Invalid webhook URL or token' };
    case 'starting':
      return { status: 503, message: 'Node-RED is starting its flows: try again shortly' };
    case 'too-large':
      return { status: 413, message: `Request body larger than ${r.limitBytes} bytes` };
    case 'method':
      return { status: 405, message: `Method ${r.method} not allowed: webhooks accept POST` };
    case 'server':
      return { status: 500, message: `Server error: ${r.detail}` };
    case 'unavailable':
      return { status: 503, message: `Cannot accept the request now (${r.reason}): try again shortly` };
  }
}

/** 401 for missing or wrong credentials, 403 for an address, 429 for the rate, 500 for our set-up. */
function refusalStatus(r: Refusal): number {
  switch (r.kind) {
    case 'address':
      return 403;
    case 'rate':
      return 429;
    case 'unverifiable':
      return 500;
    default:
      return 401;
  }
}
