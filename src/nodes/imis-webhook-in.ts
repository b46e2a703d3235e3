import { queued, rejected } from '../core/ihook.js';
import type { HookOptions } from '../core/ihook.js';
import { requestMetadata } from '../runs/request-metadata.js';
import type { Violation } from '../core/schema.js';
import { claimRequestBodies, mountHookErrorHandler, readJsonBody, sendHookResponse } from './lib/http.js';
import { mountSecretEndpoints, registerSecretEndpoint } from './lib/secret-endpoint.js';
import { migrate } from './lib/migrations.js';
import {
  PROTECTION_CREDENTIALS,
  PROTECTION_FIELDS,
  endpointGuard,
  mountTestPayloadEndpoint,
} from './lib/protect.js';
import type { ProtectionSettings } from './lib/protect.js';
import { mountRunsApi } from './lib/runs-api.js';
import { throttledStatus } from './lib/status.js';
import { triggerRuns } from './lib/trigger.js';

const WEBHOOK_PATH = '/imis/hook/';

interface WebhookConfig extends ProtectionSettings {
  name?: string;
  return202?: boolean;
  omitBody?: boolean;
  metadataProp?: string;
  maxBodyKb?: number;
}

/** A node wired after the webhook that can judge a payload before the caller is answered. */
interface Prevalidator {
  prevalidate(msg: Record<string, unknown>): Violation[];
}

const migrations = [
  // v1: first version; config fields as they are.
  (config: Record<string, unknown>) => ({
    return202: false,
    omitBody: false,
    metadataProp: '',
    maxBodyKb: 1024,
    ...config,
  }),
  // v2: endpoint protections (shared secret, signature, allowlist, rate limit), all off.
  (config: Record<string, unknown>) => ({ ...PROTECTION_FIELDS, ...config }),
];

export = function register(RED: any): void {
  function WebhookInNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<WebhookConfig>(raw, migrations);
    let accepted = 0;
    const status = throttledStatus(() => {
      const parts = [
        accepted
          ? RED._('imis-webhook-in.status.accepted', { count: accepted })
          : RED._('imis-webhook-in.status.ready'),
      ];
      if (guard?.refused)
        parts.push(RED._('imis-webhook-in.protect.status.refused', { count: guard?.refused }));
      node.status({ fill: 'green', shape: 'dot', text: parts.join(', ') });
    });
    const guard = endpointGuard(RED, node, config, status.soon);
    if (!guard) return; // a protection that cannot work: reported, and the URL is not served
    node.guard = guard;
    const runs = triggerRuns(RED, node, undefined, guard.protection.secretHeaderNames);
    const hookOptions: HookOptions = { accepted202: config.return202, omitBody: config.omitBody };
    const limitBytes = Math.max(1, Number(config.maxBodyKb) || 1024) * 1024;
    registerSecretEndpoint(RED, node, WEBHOOK_PATH);
    status.now();

    const prevalidate = (msg: Record<string, unknown>): Violation[] => {
      const violations: Violation[] = [];
      for (const id of (node.wires?.[0] ?? []) as string[]) {
        const next = RED.nodes.getNode(id) as Partial<Prevalidator> | null;
        if (next && typeof next.prevalidate === 'function') violations.push(...next.prevalidate(msg));
      }
      return violations;
    };

    node.handleRequest = async (req: any, res: any) => {
      const receivedAt = new Date();
      // Protections answer before anything is read or run (401, 403, 429).
      const admission = guard.admit(req);
      if (!admission.ok) {
        req.resume();
        return sendHookResponse(res, rejected(admission.rejection, hookOptions));
      }
      const body = await readJsonBody(req, res, limitBytes, admission.check);
      if (!body.ok) return sendHookResponse(res, rejected(body.rejection, hookOptions));
      const payload = body.value;
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
        return sendHookResponse(res, rejected({ kind: 'not-object' }, hookOptions));
      }
      const extra: Record<string, unknown> = {};
      if (config.metadataProp)
        RED.util.setMessageProperty(extra, config.metadataProp, requestMetadata(req, receivedAt), true);
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
        // Journalled before answering: an accepted call is never lost (SPEC "Bad input").
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

  RED.nodes.registerType('imis-webhook-in', WebhookInNode, {
    credentials: { token: { type: 'text' }, ...PROTECTION_CREDENTIALS },
  });

  mountSecretEndpoints(RED, 'imis-webhook-in', WEBHOOK_PATH);
  claimRequestBodies(RED, WEBHOOK_PATH);
  mountHookErrorHandler(RED, WEBHOOK_PATH);
  mountTestPayloadEndpoint(RED, 'imis-webhook-in');
  mountRunsApi(RED);
};
