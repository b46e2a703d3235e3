/**
 * Why a protected endpoint refused a request before starting anything. Messages name headers and
 * limits, never a secret or what the caller sent as one. src/core/ihook.ts maps each to its HTTP
 * status (401, 403, 429 or 500) and iHook's JSON answer.
 */
export type Refusal =
  /** Shared-secret header absent (or empty). */
  | { kind: 'secret-missing'; header: string }
  /** Shared-secret header with another value. */
  | { kind: 'secret-invalid'; header: string }
  | { kind: 'signature-missing'; header: string }
  /** The signature header is not in the scheme's form (prefix, hex/base64, `t=..,v1=..`). */
  | { kind: 'signature-malformed'; header: string }
  /** Well-formed, but no signature matches the body signed with the secret. */
  | { kind: 'signature-invalid'; header: string }
  /** Standard Webhooks: no message id (`webhook-id`), which is signed with the body. */
  | { kind: 'id-missing'; header: string }
  | { kind: 'timestamp-missing'; header: string }
  /** `expected`: the form the scheme wants, when narrower than Unix seconds or ISO 8601. */
  | { kind: 'timestamp-malformed'; header: string; expected?: string }
  /** The signed timestamp is further from now than the tolerance (a replay, or a skewed clock). */
  | { kind: 'timestamp-outside'; toleranceSec: number }
  /** The client's address is not on the allowlist. */
  | { kind: 'address'; address: string }
  /** The endpoint's token bucket is empty. */
  | { kind: 'rate'; retryAfterSec: number }
  /** A signature is required but the exact body is gone (parsed by a body parser in front of us). */
  | { kind: 'unverifiable' };

export function refusalMessage(r: Refusal): string {
  switch (r.kind) {
    case 'secret-missing':
      return `Missing ${r.header} header`;
    case 'secret-invalid':
      return `Invalid ${r.header} header`;
    case 'signature-missing':
      return `Missing signature header ${r.header}`;
    case 'signature-malformed':
      return `Malformed signature in header ${r.header}`;
    case 'signature-invalid':
      return `Invalid signature in header ${r.header}: it does not match the body`;
    case 'id-missing':
      return `Missing message id header ${r.header}`;
    case 'timestamp-missing':
      return `Missing timestamp header ${r.header}`;
    case 'timestamp-malformed':
      return `Malformed timestamp in header ${r.header}: send ${r.expected ?? 'Unix seconds or an ISO 8601 time'}`;
    case 'timestamp-outside':
      return `Request timestamp more than ${r.toleranceSec} s away from the server's time (replayed or clock skew)`;
    case 'address':
      return `Address ${r.address} is not allowed to call this endpoint`;
    case 'rate':
      return `Too many requests: retry after ${r.retryAfterSec} s`;
    case 'unverifiable':
      return 'The signature cannot be checked: the request body was read before this endpoint (a body parser in front of Node-RED)';
  }
}
