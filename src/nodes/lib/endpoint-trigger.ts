// What the endpoint triggers (Webhook in, Change in) share: their config's later versions, their
// start (protections, run labels, rejected calls, runs, secret URL) and their admin routes.
import { claimRequestBodies } from './http/claim.js';
import type { Migration } from './migrations.js';
import { PROTECTION_CREDENTIALS, addProtections, endpointGuard } from './protect.js';
import type { EndpointGuard, ProtectionSettings } from './protect.js';
import type { HookEndpointNode, HookEndpointType, NodeMessage, Red } from './red.js';
import { endpointRejections } from './rejections.js';
import type { EndpointRejections } from './rejections.js';
import { runLabelsOf, withRunLabels } from './run-labels.js';
import type { RunLabelSettings } from './run-labels.js';
import { mountRunsApi } from './runs-api.js';
import { mountSecretEndpoints, registerSecretEndpoint } from './secret-endpoint.js';
import { retryPolicyOf, triggerRuns, withRetry } from './trigger.js';
import type { TriggerRuns } from './trigger.js';

/** The config an endpoint trigger has in common. */
export interface EndpointTriggerSettings extends ProtectionSettings, RunLabelSettings {
  name?: string;
  /** Automatic re-runs of transient failures (src/runs/retry.ts): how many, and the first wait. */
  retries: number;
  retryDelaySec: number;
}

/** An endpoint trigger's config migrations after its first version's (src/nodes/lib/migrations.ts). */
export const ENDPOINT_TRIGGER_MIGRATIONS: readonly Migration[] = [
  // v2: endpoint protections (shared secret, signature, allowlist, rate limit), all off.
  addProtections,
  // v3: automatic retry of transient failures, off.
  withRetry,
  // v4: the run's business key and values templates, none.
  withRunLabels,
];

/** An endpoint trigger's credentials: its URL's token and its protections' secrets. */
export const ENDPOINT_TRIGGER_CREDENTIALS = { token: { type: 'text' as const }, ...PROTECTION_CREDENTIALS };

/** A started endpoint trigger's parts. */
export interface EndpointTrigger {
  guard: EndpointGuard;
  rejections: EndpointRejections;
  runs: TriggerRuns;
}

/**
 * Starts endpoint trigger `node` of type `type`, served under `base`: its protections, run
 * labels, rejected calls (`onRejected` told of each) and runs (`prepare` readying each input's
 * message), then its secret URL. Undefined when a protection or a template cannot work: reported,
 * and the URL is not served.
 */
export function startEndpointTrigger(
  RED: Red,
  node: HookEndpointNode,
  type: HookEndpointType,
  base: string,
  settings: EndpointTriggerSettings,
  options: { prepare?: (msg: NodeMessage) => Promise<NodeMessage>; onRejected: () => void },
): EndpointTrigger | undefined {
  const guard = endpointGuard(RED, node, settings);
  if (!guard) return undefined;
  const labels = runLabelsOf(RED, node, settings);
  if (labels === false) return undefined;
  const rejections = endpointRejections(RED, node, options.onRejected);
  const runs = triggerRuns(RED, node, options.prepare, {
    retry: retryPolicyOf(settings),
    secretHeaders: guard.secretHeaders,
    labels,
  });
  registerSecretEndpoint(RED, type, node, base);
  return { guard, rejections, runs };
}

/** The admin and HTTP routes of endpoint trigger type `type`, served under `base`. */
export function mountEndpointTrigger(RED: Red, type: HookEndpointType, base: string): void {
  mountSecretEndpoints(RED, type, base);
  claimRequestBodies(RED, base);
  mountRunsApi(RED);
}
