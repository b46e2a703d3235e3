import { eventSubject, eventTypeFilter, readGridBody } from '../core/event-grid.js';
import type { GridEvent } from '../core/event-grid.js';
import { rejected } from '../core/ihook.js';
import { seenScope } from '../store/index.js';
import { requestMetadata } from '../runs/request-metadata.js';
import { decodeEntity } from '../imis/generic-entity.js';
import { getEntity } from '../imis/party.js';
import { claimRequestBodies, mountHookErrorHandler, readJsonBody, sendHookResponse } from './lib/http.js';
import { migrate } from './lib/migrations.js';
import { mountSecretEndpoints, registerSecretEndpoint } from './lib/secret-endpoint.js';
import { PROTECTION_CREDENTIALS, PROTECTION_FIELDS, endpointGuard } from './lib/protect.js';
import type { ProtectionSettings } from './lib/protect.js';
import { mountRunsApi } from './lib/runs-api.js';
import { throttledStatus } from './lib/status.js';
import { triggerRuns } from './lib/trigger.js';

const NOTIFY_PATH = '/imis/notify/';
const LIMIT_BYTES = 5 * 1024 * 1024;
/** How long a delivered event id is remembered to drop its retried copies. */
const SEEN_FOR_MS = 24 * 60 * 60 * 1000;

interface ChangeInConfig extends ProtectionSettings {
  name?: string;
  server?: string;
  eventTypes: string[];
  includeFullRecord: boolean;
  recordProp: string;
  metadataProp: string;
  dropDuplicates: boolean;
}

const migrations = [
  (c: Record<string, unknown>) => ({
    eventTypes: [],
    includeFullRecord: false,
    recordProp: 'record',
    metadataProp: '',
    dropDuplicates: true,
    ...c,
  }),
  // v2: endpoint protections (shared secret, signature, allowlist, rate limit), all off.
  (c: Record<string, unknown>) => ({ ...PROTECTION_FIELDS, ...c }),
];

/** The subject entity carried by the event itself, flattened, if any. */
function recordInEvent(event: GridEvent): Record<string, unknown> | undefined {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const subject = data.Subject;
  if (!subject || typeof subject !== 'object') return undefined;
  if ('Properties' in subject) return decodeEntity(subject);
  const { $type: _type, ...plain } = subject as Record<string, unknown>;
  void _type;
  return plain;
}

export = function register(RED: any): void {
  function ChangeInNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<ChangeInConfig>(raw, migrations);
    let matches: (eventType: string) => boolean;
    try {
      matches = eventTypeFilter(Array.isArray(config.eventTypes) ? config.eventTypes : []);
    } catch (err) {
      node.error(err);
      node.status({ fill: 'red', shape: 'ring', text: RED._('imis-change-in.status.invalid') });
      return;
    }
    const server = config.server ? RED.nodes.getNode(config.server) : null;
    const counts = { events: 0, duplicates: 0 };
    let verified = false;

    // Include Full Record: from the event when it carries the subject, else fetched from iMIS. A
    // failure fails this run only; the delivery was already accepted.
    const prepare = config.includeFullRecord
      ? async (msg: Record<string, unknown>) => {
          const event = msg.payload as GridEvent;
          let record = recordInEvent(event);
          if (!record) {
            if (!server?.client) throw new Error(RED._('imis-change-in.errors.no-server'));
            const { entityType, id } = eventSubject(event);
            if (!id) throw new Error(RED._('imis-change-in.errors.no-identity', { type: event.eventType }));
            record = await getEntity(server.client, entityType, id);
          }
          RED.util.setMessageProperty(msg, config.recordProp || 'record', record, true);
          return msg;
        }
      : undefined;
    const status = throttledStatus(() => {
      const parts = [
        verified ? RED._('imis-change-in.status.verified') : RED._('imis-change-in.status.waiting'),
      ];
      if (counts.events) parts.push(RED._('imis-change-in.status.events', { count: counts.events }));
      if (counts.duplicates)
        parts.push(RED._('imis-change-in.status.duplicates', { count: counts.duplicates }));
      if (guard?.refused)
        parts.push(RED._('imis-change-in.protect.status.refused', { count: guard?.refused }));
      node.status({
        fill: verified || counts.events ? 'green' : 'yellow',
        shape: 'dot',
        text: parts.join(', '),
      });
    });
    const guard = endpointGuard(RED, node, config, status.soon);
    if (!guard) return; // a protection that cannot work: reported, and the URL is not served
    const runs = triggerRuns(RED, node, prepare, guard.protection.secretHeaderNames);
    const store = runs.ctx.store;
    registerSecretEndpoint(RED, node, NOTIFY_PATH);
    status.now();
    node.on('close', status.cancel);

    node.handleRequest = async (req: any, res: any) => {
      const receivedAt = new Date();
      // Protections answer before anything is read or run (401, 403, 429), the handshake included.
      const admission = guard.admit(req);
      if (!admission.ok) {
        req.resume();
        return sendHookResponse(res, rejected(admission.rejection));
      }
      const parsed = await readJsonBody(req, res, LIMIT_BYTES, admission.check);
      if (!parsed.ok) return sendHookResponse(res, rejected(parsed.rejection));
      // Event Grid does not retry a 400, so only a body that can never succeed gets one.
      const body = readGridBody(parsed.value);
      if (body.kind === 'invalid') {
        return sendHookResponse(res, { status: 400, body: { error: true, message: body.message } });
      }
      if (body.kind === 'validation') {
        // Event Grid validation handshake, answered synchronously (IMIS-API.md §5).
        verified = true;
        status.now();
        if (body.validationUrl)
          node.log(RED._('imis-change-in.log.validation-url', { url: body.validationUrl }));
        return sendHookResponse(res, { status: 200, body: { validationResponse: body.validationCode } });
      }
      const meta = config.metadataProp ? requestMetadata(req, receivedAt) : undefined;
      let accepted = 0;
      let duplicates = 0;
      const scope = seenScope(node.id);
      for (const event of body.events) {
        if (!matches(event.eventType)) continue;
        // Event Grid delivers at least once, and may retry across a restart: ids are remembered
        // in the store for a day (docs/imis-api.md §5).
        const expires = new Date(receivedAt.getTime() + SEEN_FOR_MS);
        if (config.dropDuplicates && !(await store.markSeen(scope, event.id, expires, receivedAt))) {
          duplicates++;
          continue;
        }
        const extra: Record<string, unknown> = { topic: event.eventType };
        if (meta) RED.util.setMessageProperty(extra, config.metadataProp, meta, true);
        try {
          await runs.accept({ payload: event, extra }, receivedAt);
        } catch (err) {
          // Not accepted: the retry Event Grid makes after our 500 must not count as a duplicate.
          if (config.dropDuplicates) await store.unmarkSeen(scope, event.id).catch(() => undefined);
          throw err;
        }
        accepted++;
      }
      counts.events += accepted;
      counts.duplicates += duplicates;
      if (accepted || duplicates) status.soon();
      sendHookResponse(res, {
        status: 200,
        body: { error: false, accepted, duplicates, filtered: body.events.length - accepted - duplicates },
      });
    };
  }

  RED.nodes.registerType('imis-change-in', ChangeInNode, {
    credentials: { token: { type: 'text' }, ...PROTECTION_CREDENTIALS },
  });
  mountSecretEndpoints(RED, 'imis-change-in', NOTIFY_PATH);
  claimRequestBodies(RED, NOTIFY_PATH);
  mountHookErrorHandler(RED, NOTIFY_PATH);
  mountRunsApi(RED);
};
