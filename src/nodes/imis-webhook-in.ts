import { queued, rejected } from '../core/ihook.js';
import type { HookOptions } from '../core/ihook.js';
import { requestMetadata } from '../runs/request-metadata.js';
import type { Violation } from '../core/schema.js';
import { TOKEN_PATTERN } from '../core/tokens.js';
import { claimRequestBodies, mountHookErrorHandler, readJsonBody, sendHookResponse } from './lib/http.js';
import { mountSecretEndpoints, registerSecretEndpoint } from './lib/secret-endpoint.js';
import { NodeConfig } from './lib/migrations.js';
import { findNode, isPrevalidator, registerType, wiredTo } from './lib/red.js';
import type { HookEndpointNode, NodeDef, NodeMessage, NodeModule } from './lib/red.js';
import { mountRunsApi } from './lib/runs-api.js';
import { throttledStatus } from './lib/status.js';
import { retryPolicyOf, triggerRuns, withRetry } from './lib/trigger.js';

const WEBHOOK_PATH = '/imis/hook/';

interface WebhookConfig {
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
  withRetry,
]);

const register: NodeModule = (RED) => {
  function WebhookInNode(this: HookEndpointNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const { return202, omitBody, metadataProp, maxBodyKb, ...settings } = config.read(def);
    const runs = triggerRuns(RED, node, undefined, retryPolicyOf(settings));
    const hookOptions: HookOptions = { accepted202: return202, omitBody };
    const limitBytes = Math.max(1, maxBodyKb) * 1024;
    registerSecretEndpoint(RED, 'imis-webhook-in', node, WEBHOOK_PATH);
    let accepted = 0;
    const status = throttledStatus(() =>
      node.status({
        fill: 'green',
        shape: 'dot',
        text: accepted
          ? RED._('imis-webhook-in.status.accepted', { count: accepted })
          : RED._('imis-webhook-in.status.ready'),
      }),
    );
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
      const body = await readJsonBody(req, res, limitBytes);
      if (!body.ok) return sendHookResponse(res, rejected(body.rejection, hookOptions));
      const payload = body.value;
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
        return sendHookResponse(res, rejected({ kind: 'not-object' }, hookOptions));
      }
      const extra: NodeMessage = {};
      if (metadataProp)
        RED.util.setMessageProperty(extra, metadataProp, requestMetadata(req, receivedAt), true);
      let violations: Violation[];
      try {
        violations = prevalidate({ payload, ...extra });
      } catch (err) {
        node.error(err);
        return sendHookResponse(
          res,
          rejected({ kind: 'server', detail: (err as Error).message }, hookOptions),
        );
      }
      if (violations.length > 0)
        return sendHookResponse(res, rejected({ kind: 'schema', violations }, hookOptions));

      let runId: string;
      try {
        // Committed before answering: an accepted call is never lost (docs/nodes.md, Webhook in).
        runId = (await runs.accept({ payload, extra }, receivedAt)).runId;
      } catch (err) {
        node.error(err);
        return sendHookResponse(
          res,
          rejected({ kind: 'server', detail: 'could not queue the request' }, hookOptions),
        );
      }
      sendHookResponse(res, queued(runId, receivedAt, hookOptions));
      accepted++;
      status.soon();
    };

    node.on('close', status.cancel);
  }

  registerType(RED, 'imis-webhook-in', WebhookInNode, {
    credentials: { token: { type: 'text' } },
    settings: config.settings({ tokenPattern: TOKEN_PATTERN }),
  });

  mountSecretEndpoints(RED, 'imis-webhook-in', WEBHOOK_PATH);
  claimRequestBodies(RED, WEBHOOK_PATH);
  mountHookErrorHandler(RED, WEBHOOK_PATH);
  mountRunsApi(RED);
};

export = register;
