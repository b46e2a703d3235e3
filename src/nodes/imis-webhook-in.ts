import { queued, rejected } from '../engine/ihook.js';
import type { HookOptions } from '../engine/ihook.js';
import { newRunId } from '../engine/runs.js';
import { BodyTooLargeError, TokenRegistry, isWellFormedToken, newUrlToken, readBody, requestMetadata } from '../engine/secret-url.js';
import type { Violation } from '../engine/schema.js';
import { packageContext } from './lib/context.js';
import type { PackageContext } from './lib/context.js';
import { mountOnce, parseJsonBody, sendHookResponse, sendPreflight } from './lib/http.js';
import { migrate } from './lib/migrations.js';

const WEBHOOK_PATH = '/imis/hook/';

interface WebhookConfig {
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

const endpoints = new TokenRegistry<any>();

export = function register(RED: any): void {
  const migrations = [
    // v1: first version; config fields as they are.
    (config: Record<string, unknown>) => ({ return202: false, omitBody: false, metadataProp: '', maxBodyKb: 1024, ...config }),
  ];

  function WebhookInNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<WebhookConfig>(raw, migrations);
    const ctx: PackageContext = packageContext(RED);
    const hookOptions: HookOptions = { accepted202: config.return202, omitBody: config.omitBody };
    const limitBytes = Math.max(1, Number(config.maxBodyKb) || 1024) * 1024;
    let token: string = node.credentials?.token;
    if (!isWellFormedToken(token)) {
      // A flow written by hand or imported without credentials: give it a URL now; it is saved
      // with the credentials at the next deploy.
      token = newUrlToken();
      RED.nodes.addCredentials(node.id, { ...(node.credentials ?? {}), token });
      node.warn(RED._('imis-webhook-in.warn.generated'));
    }
    node.urlPath = WEBHOOK_PATH + token;
    let accepted = 0;
    let statusTimer: NodeJS.Timeout | undefined;

    const showStatus = () => {
      statusTimer = undefined;
      node.status({
        fill: 'green',
        shape: 'dot',
        text: accepted ? RED._('imis-webhook-in.status.queued', { count: accepted }) : RED._('imis-webhook-in.status.ready'),
      });
    };
    showStatus();

    const emit = (runId: string, payload: unknown, extra: Record<string, unknown> | undefined, queueTime: string, rerunOf?: string) => {
      ctx.runs.start({ id: runId, flowId: node.z, trigger: { id: node.id, type: node.type, name: node.name }, input: payload, rerunOf });
      const msg: Record<string, unknown> = { _msgid: runId, payload, imis: { runId, queueTime, trigger: node.type }, ...extra };
      try {
        node.send(msg);
      } finally {
        ctx.runs.release(runId);
      }
    };

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
      let raw: Buffer;
      try {
        raw = await readBody(req, limitBytes);
      } catch (err) {
        if (err instanceof BodyTooLargeError) return sendHookResponse(res, rejected({ kind: 'too-large', limitBytes }, hookOptions));
        return sendHookResponse(res, rejected({ kind: 'server', detail: (err as Error).message }, hookOptions));
      }
      const body = parseJsonBody(req.headers['content-type'], raw);
      if (!body.ok) {
        const rejection = body.reason === 'content-type' ? { kind: 'content-type' as const, contentType: body.detail } : { kind: 'invalid-json' as const, detail: body.detail };
        return sendHookResponse(res, rejected(rejection, hookOptions));
      }
      const payload = body.value;
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
        return sendHookResponse(res, rejected({ kind: 'not-object' }, hookOptions));
      }
      const extra: Record<string, unknown> = {};
      if (config.metadataProp) RED.util.setMessageProperty(extra, config.metadataProp, requestMetadata(req, receivedAt), true);
      let violations: Violation[];
      try {
        violations = prevalidate({ payload, ...extra });
      } catch (err) {
        node.error(err);
        return sendHookResponse(res, rejected({ kind: 'server', detail: (err as Error).message }, hookOptions));
      }
      if (violations.length > 0) return sendHookResponse(res, rejected({ kind: 'schema', violations }, hookOptions));

      const runId = newRunId();
      const queueTime = receivedAt.toISOString();
      try {
        // Written down before answering: an accepted call is never lost (SPEC "Bad input").
        ctx.journal.accept({ id: runId, source: node.id, payload, extra, acceptedAt: queueTime });
      } catch (err) {
        node.error(err);
        return sendHookResponse(res, rejected({ kind: 'server', detail: 'could not queue the request' }, hookOptions));
      }
      sendHookResponse(res, queued(runId, receivedAt, hookOptions));
      accepted++;
      if (!statusTimer) statusTimer = setTimeout(showStatus, 500);
      setImmediate(() => emit(runId, payload, extra, queueTime));
    };

    endpoints.set(token, node);
    ctx.triggers.set(node.id, {
      rerun: (input: unknown, rerunOf: string) => {
        const runId = newRunId();
        const queueTime = new Date().toISOString();
        ctx.journal.accept({ id: runId, source: node.id, payload: input, acceptedAt: queueTime });
        emit(runId, input, undefined, queueTime, rerunOf);
        return runId;
      },
    });

    // Runs accepted by an earlier process but never finished: run them now (at-least-once).
    const pending = ctx.journal.pendingFor(node.id);
    if (pending.length) {
      setImmediate(() => {
        for (const entry of pending) emit(entry.id, entry.payload, entry.extra, entry.acceptedAt);
      });
      node.log(RED._('imis-webhook-in.log.replayed', { count: pending.length }));
    }

    node.on('close', (done: () => void) => {
      endpoints.delete(token, node);
      ctx.triggers.delete(node.id);
      if (statusTimer) clearTimeout(statusTimer);
      done();
    });
  }

  RED.nodes.registerType('imis-webhook-in', WebhookInNode, { credentials: { token: { type: 'text' } } });

  mountOnce(RED.httpNode, 'all', `${WEBHOOK_PATH}:token`, (req: any, res: any) => {
    const node = endpoints.get(String(req.params.token ?? ''));
    if (req.method === 'OPTIONS') return sendPreflight(res);
    if (!node) {
      req.resume();
      return sendHookResponse(res, rejected({ kind: 'unknown-url' }));
    }
    if (req.method !== 'POST') {
      req.resume();
      return sendHookResponse(res, rejected({ kind: 'method', method: req.method }));
    }
    node.handleRequest(req, res).catch((err: Error) => {
      node.error(err);
      if (!res.headersSent) sendHookResponse(res, rejected({ kind: 'server', detail: err.message }));
    });
  });

  // The editor asks for a deployed node's URL path (e.g. one generated at runtime).
  mountOnce(RED.httpAdmin, 'get', '/imis/webhook/:id/url', RED.auth.needsPermission('imis-webhook-in.read'), (req: any, res: any) => {
    const node = RED.nodes.getNode(req.params.id);
    if (!node || node.type !== 'imis-webhook-in') {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: 'not deployed' }));
      return;
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ path: node.urlPath }));
  });
};
