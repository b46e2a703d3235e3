import { queued } from '../core/ihook.js';
import type { HookOptions } from '../core/ihook.js';
import { requestMetadata } from '../runs/request-metadata.js';
import type { Violation } from '../core/schema.js';
import { TOKEN_PATTERN } from '../core/tokens.js';
import { claimRequestBodies } from './lib/http/claim.js';
import { sendHookResponse } from './lib/http/hook-response.js';
import { mountSecretEndpoints, registerSecretEndpoint } from './lib/secret-endpoint.js';
import { NodeConfig } from './lib/migrations.js';
import { findNode, isPrevalidator, registerType, wiredTo } from './lib/red.js';
import type { HookEndpointNode, NodeDef, NodeMessage, NodeModule } from './lib/red.js';
import {
  PROTECTION_CREDENTIALS,
  addProtections,
  endpointGuard,
  mountTestPayloadEndpoint,
} from './lib/protect.js';
import type { ProtectionSettings } from './lib/protect.js';
import { endpointRejections, rejectedStatus } from './lib/rejections.js';
import { mountRunsApi } from './lib/runs-api.js';
import { throttledStatus } from './lib/status.js';
import { packageRuntime } from './lib/package-runtime.js';
import { StoreUnavailableError } from '../store/index.js';
import { retryPolicyOf, triggerRuns, withRetry } from './lib/trigger.js';
import type { Accepted } from './lib/trigger.js';
import { runLabelsOf, withRunLabels } from './lib/run-labels.js';
import type { RunLabelSettings } from './lib/run-labels.js';

const WEBHOOK_PATH = '/imis/hook/';

interface WebhookConfig extends ProtectionSettings, RunLabelSettings {
  name?: string;
  return202: boolean;
  omitBody: boolean;
  metadataProp: string;
  maxBodyKb: number;
  /** Automatic re-runs of transient failures (src/runs/retry.ts): how many, and the first wait. */
  retries: number;
  retryDelaySec: number;
}

const config = new NodeConfig<WebhookConfig>('imis-webhook-in', [
  // v1: first version; config fields as they are.
  (c) => ({ return202: false, omitBody: false, metadataProp: '', maxBodyKb: 1024, ...c }),
  // v2: endpoint protections (shared secret, signature, allowlist, rate limit), all off.
  addProtections,
  // v3: automatic retry of transient failures, off.
  withRetry,
  // v4: the run's business key and values templates, none.
  withRunLabels,
]);

const register: NodeModule = (RED) => {
  function WebhookInNode(this: HookEndpointNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const { return202, omitBody, metadataProp, maxBodyKb, ...settings } = config.read(def);
    let accepted = 0;
    let copies = 0;
    const store = packageRuntime(RED).store;
    const status = throttledStatus(() => {
      // The store cannot open (the log says why and how to fix it): calls are answered 503.
      const problem = store.unavailable;
      if (problem) {
        const text = RED._('imis-webhook-in.status.storeUnavailable', { cause: problem.short });
        return node.status({ fill: 'red', shape: 'ring', text });
      }
      const parts = [
        accepted
          ? RED._('imis-webhook-in.status.accepted', { count: accepted })
          : RED._('imis-webhook-in.status.ready'),
        ...(copies ? [RED._('imis-webhook-in.status.duplicates', { count: copies })] : []),
        ...rejectedStatus(RED, rejections),
      ];
      node.status({ fill: 'green', shape: 'dot', text: parts.join(', ') });
    });
    const guard = endpointGuard(RED, node, settings);
    if (!guard) return; // a protection that cannot work: reported, and the URL is not served
    const labels = runLabelsOf(RED, node, settings);
    if (labels === false) return; // a template that cannot work: reported, and the URL is not served
    const rejections = endpointRejections(RED, node, status.soon);
    const runs = triggerRuns(RED, node, undefined, {
      retry: retryPolicyOf(settings),
      secretHeaders: guard.secretHeaders,
      labels,
    });
    const hookOptions: HookOptions = { accepted202: return202, omitBody };
    const limitBytes = Math.max(1, maxBodyKb) * 1024;
    registerSecretEndpoint(RED, 'imis-webhook-in', node, WEBHOOK_PATH);
    status.now();

    const prevalidate = (msg: NodeMessage): Violation[] => {
      const violations: Violation[] = [];
      for (const id of wiredTo(node)) {
        const next = findNode(RED, id);
        if (isPrevalidator(next)) violations.push(...next.prevalidate(msg));
      }
      return violations;
    };

    node.handleRequest = async (req, res) => {
      const receivedAt = new Date();
      // Protections answer before anything is parsed or run (401, 403, 429).
      const body = await guard.readBody(req, res, limitBytes);
      if (!body.ok) return node.reject(req, res, body.rejection, hookOptions);
      const payload = body.value;
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
        return node.reject(req, res, { kind: 'not-object' }, hookOptions);
      }
      const extra: NodeMessage = {};
      if (metadataProp)
        RED.util.setMessageProperty(extra, metadataProp, requestMetadata(req, receivedAt), true);
      let violations: Violation[];
      try {
        violations = prevalidate({ payload, ...extra });
      } catch (err) {
        node.error(err);
        return node.reject(req, res, { kind: 'server', detail: (err as Error).message }, hookOptions);
      }
      if (violations.length > 0) return node.reject(req, res, { kind: 'schema', violations }, hookOptions);

      let run: Accepted;
      try {
        // Committed before answering: an accepted call is never lost (docs/nodes.md, Webhook in).
        // A copy of a delivery already accepted (its signed id) starts nothing and gets the answer
        // the first got.
        run = await runs.accept({ payload, extra }, receivedAt, body.delivery);
      } catch (err) {
        if (err instanceof StoreUnavailableError) {
          const { problem, retryAfterSec } = err;
          return node.reject(
            req,
            res,
            { kind: 'unavailable', reason: problem.short, retryAfterSec },
            hookOptions,
          );
        }
        node.error(err);
        return node.reject(req, res, { kind: 'server', detail: 'could not queue the request' }, hookOptions);
      }
      sendHookResponse(res, queued(run.runId, new Date(run.queueTime), hookOptions));
      if (run.copy) copies++;
      else accepted++;
      status.soon();
    };

    const unwatch = store.onState(() => status.now());
    node.on('close', () => {
      status.cancel();
      unwatch();
    });
  }

  registerType(RED, 'imis-webhook-in', WebhookInNode, {
    credentials: { token: { type: 'text' }, ...PROTECTION_CREDENTIALS },
    settings: config.settings({ tokenPattern: TOKEN_PATTERN }),
  });

  mountSecretEndpoints(RED, 'imis-webhook-in', WEBHOOK_PATH);
  claimRequestBodies(RED, WEBHOOK_PATH);
  mountTestPayloadEndpoint(RED, 'imis-webhook-in');
  mountRunsApi(RED);
};

export = register;
