import { rejected, rejectionRecord } from '../../core/ihook.js';
import type { HookRejection } from '../../core/ihook.js';
import type { RefusedCall } from '../../runs/refused.js';
import { packageRuntime } from './package-runtime.js';
import type { RateLimitedLog } from './rejection-feed.js';
import { sendHookResponse } from './http/hook-response.js';
import { protectMessage } from './messages.js';
import type { HookEndpointNode, HookEndpointType, Red, Request } from './red.js';

/*
 * The one path of every call Webhook in and change notification in reject before a run starts
 * (a protection's refusal, a body that cannot be read or used, an unknown URL): counted for the
 * node's status, kept in the rejected calls list (src/runs/refused.ts, no body, no header, no
 * token), logged at most once per reason every 10 s, and announced to the open dashboards at most
 * once a second (rejection-feed.ts). Texts in the imis-editor catalog (protectMessage), beside the
 * protections'.
 */

/** At most one log line per rejection kind in this period; the ones in between are counted in the next. */
const LOG_EVERY_MS = 10_000;

export interface EndpointRejections {
  /** Calls rejected so far (for the node status). */
  readonly count: number;
  /** Records `rejection` (counted, listed, logged) without answering (someone else does). */
  record(req: Request, rejection: HookRejection): void;
}

/**
 * The rejections of `node`: sets its `reject` (record, then answer) and calls `onRejected` on each
 * (to update the status). The node's rejected calls are forgotten when it is removed from the flows.
 */
export function endpointRejections(
  RED: Red,
  node: HookEndpointNode,
  onRejected: () => void,
): EndpointRejections {
  const runtime = packageRuntime(RED);
  node.on('close', (removed: boolean, done: () => void) => {
    if (removed) runtime.refused.forget(node.id);
    done();
  });
  const trigger = { id: node.id, type: node.type, name: node.name || undefined };
  const log = rateLimitedLog((key, values) => node.warn(protectMessage(RED, key, values)), 'log.refused');
  let count = 0;
  const record = (req: Request, rejection: HookRejection) => {
    count++;
    onRejected();
    keep(RED, { trigger, flowId: node.z }, req, rejection, log);
  };
  node.reject = (req, res, rejection, options) => {
    record(req, rejection);
    sendHookResponse(res, rejected(rejection, options));
  };
  return {
    get count() {
      return count;
    },
    record,
  };
}

/**
 * Records a call to a URL of `type` that no deployed endpoint answers, under the type (the token
 * it tried is a secret, or a guess: never recorded). The list keeps few of them.
 */
export function recordUnknownCall(
  RED: Red,
  type: HookEndpointType,
  req: Request,
  rejection: HookRejection,
): void {
  const { unknownLogs } = packageRuntime(RED).rejections;
  let log = unknownLogs.get(type);
  if (!log) {
    const warn = (key: string, values: Record<string, string | number>) =>
      RED.log.warn(protectMessage(RED, key, { ...values, type }));
    unknownLogs.set(type, (log = rateLimitedLog(warn, 'log.unknown')));
  }
  keep(RED, { trigger: { type } }, req, rejection, log);
}

/** The node status's part for the rejected calls, or none before the first. */
export function rejectedStatus(RED: Red, rejections: EndpointRejections | undefined): string[] {
  return rejections?.count ? [protectMessage(RED, 'status.refused', { count: rejections.count })] : [];
}

function keep(
  RED: Red,
  endpoint: Pick<RefusedCall, 'trigger' | 'flowId'>,
  req: Request,
  rejection: HookRejection,
  log: RateLimitedLog,
): void {
  const { status, reason } = rejectionRecord(rejection);
  const address = clientAddress(req);
  const call: RefusedCall = { time: new Date().toISOString(), ...endpoint, status, reason, address };
  const runtime = packageRuntime(RED);
  runtime.refused.add(call);
  log(kindOf(rejection), { address: address ?? '?', status, reason });
  runtime.rejections.announce(call);
}

/** What counts as one reason for the log's rate: a protection's refusal by its own kind. */
function kindOf(rejection: HookRejection): string {
  return rejection.kind === 'refused' ? `refused ${rejection.refusal.kind}` : rejection.kind;
}

/**
 * A logger writing catalog message `key` (or `<key>-more`, with the count of those skipped) at most
 * once per kind every LOG_EVERY_MS.
 */
function rateLimitedLog(
  write: (key: string, values: Record<string, string | number>) => void,
  key: string,
): RateLimitedLog {
  const last = new Map<string, { at: number; skipped: number }>();
  return (kind, values) => {
    const now = Date.now();
    const previous = last.get(kind);
    if (previous && now - previous.at < LOG_EVERY_MS) {
      previous.skipped++;
      return;
    }
    const count = previous?.skipped ?? 0;
    write(count ? `${key}-more` : key, count ? { ...values, count } : values);
    last.set(kind, { at: now, skipped: 0 });
  };
}

/**
 * The client's address as Express tells it (`req.ip`): the socket's peer, or, when Node-RED's
 * `httpServerOptions: { 'trust proxy': ... }` trusts that peer, the nearest untrusted address of
 * X-Forwarded-For. Express compiles the setting on the apps Node-RED creates (the flows' app
 * inherits it when mounted), so X-Forwarded-For is ignored unless a proxy is trusted.
 */
export function clientAddress(req: Request): string | undefined {
  return req.ip ?? req.socket.remoteAddress;
}
