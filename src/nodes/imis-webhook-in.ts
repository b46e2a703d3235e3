import { queued } from '../core/ihook.js';
import type { HookOptions } from '../core/ihook.js';
import { requestMetadata } from '../runs/request-metadata.js';
import type { Violation } from '../core/schema.js';
import { TOKEN_PATTERN } from '../core/tokens.js';
import { sendHookResponse } from './lib/http/hook-response.js';
import {
  ENDPOINT_TRIGGER_CREDENTIALS,
  ENDPOINT_TRIGGER_MIGRATIONS,
  mountEndpointTrigger,
  startEndpointTrigger,
} from './lib/endpoint-trigger.js';
import type { EndpointTriggerSettings } from './lib/endpoint-trigger.js';
import { NodeConfig } from './lib/migrations.js';
import { findNode, isPrevalidator, registerType, wiredTo } from './lib/red.js';
import type { HookEndpointNode, NodeDef, NodeMessage, NodeModule } from './lib/red.js';
import { mountTestPayloadEndpoint } from './lib/protect.js';
import { rejectedStatus } from './lib/rejections.js';
import { throttledStatus } from './lib/status.js';
import { packageRuntime } from './lib/package-runtime.js';
import { StoreUnavailableError } from '../store/index.js';
import type { Accepted } from './lib/trigger.js';

const WEBHOOK_PATH = '/imis/hook/';

interface WebhookConfig extends EndpointTriggerSettings {
  return202: boolean;
  omitBody: boolean;
  metadataProp: string;
  maxBodyKb: number;
}

const config = new NodeConfig<WebhookConfig>('imis-webhook-in', [
  // v1: first version; config fields as they are.
  (c) => ({ return202: false, omitBody: false, metadataProp: '', maxBodyKb: 1024, ...c }),
  ...ENDPOINT_TRIGGER_MIGRATIONS,
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
    const started = startEndpointTrigger(RED, node, 'imis-webhook-in', WEBHOOK_PATH, settings, {
      onRejected: status.soon,
    });
    if (!started) return;
    const { guard, rejections, runs } = started;
    const hookOptions: HookOptions = { accepted202: return202, omitBody };
    const limitBytes = Math.max(1, maxBodyKb) * 1024;
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
      const body = await guard.readBody(req, limitBytes);
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
    credentials: ENDPOINT_TRIGGER_CREDENTIALS,
    settings: config.settings({ tokenPattern: TOKEN_PATTERN }),
  });

  mountEndpointTrigger(RED, 'imis-webhook-in', WEBHOOK_PATH);
  mountTestPayloadEndpoint(RED, 'imis-webhook-in');
};

export = register;
