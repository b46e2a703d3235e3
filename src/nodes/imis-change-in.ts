import { ExpectedError } from '../core/errors.js';
import {
  EVENT_TYPE_ENTRY_PATTERN,
  carriedSubject,
  eventSubject,
  eventTypeFilter,
  readGridBody,
} from '../core/event-grid.js';
import type { GridEvent } from '../core/event-grid.js';
import { TOKEN_PATTERN } from '../core/tokens.js';
import { seenScope } from '../store/index.js';
import { acceptDeliveries } from '../runs/deliveries.js';
import { requestMetadata } from '../runs/request-metadata.js';
import { decodeEntity } from '../imis/generic-entity.js';
import { getEntity } from '../imis/party.js';
import { sendHookResponse } from './lib/http/hook-response.js';
import {
  ENDPOINT_TRIGGER_CREDENTIALS,
  ENDPOINT_TRIGGER_MIGRATIONS,
  mountEndpointTrigger,
  startEndpointTrigger,
} from './lib/endpoint-trigger.js';
import type { EndpointTriggerSettings } from './lib/endpoint-trigger.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType, serverNode } from './lib/red.js';
import type { HookEndpointNode, NodeDef, NodeMessage, NodeModule } from './lib/red.js';
import { rejectedStatus } from './lib/rejections.js';
import { StoreUnavailableError } from '../store/index.js';
import { fromConfig, throttledStatus } from './lib/status.js';

const NOTIFY_PATH = '/imis/notify/';
const LIMIT_BYTES = 5 * 1024 * 1024;
/** How long a delivered event id is remembered to drop its retried copies. */
const SEEN_FOR_MS = 24 * 60 * 60 * 1000;

interface ChangeInConfig extends EndpointTriggerSettings {
  server?: string;
  eventTypes: string[];
  includeFullRecord: boolean;
  recordProp: string;
  metadataProp: string;
  dropDuplicates: boolean;
}

const config = new NodeConfig<ChangeInConfig>(
  'imis-change-in',
  [
    (c) => ({
      eventTypes: [],
      includeFullRecord: false,
      recordProp: 'record',
      metadataProp: '',
      dropDuplicates: true,
      ...c,
    }),
    ...ENDPOINT_TRIGGER_MIGRATIONS,
  ],
  ['recordProp'],
);

const register: NodeModule = (RED) => {
  function ChangeInNode(this: HookEndpointNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const {
      eventTypes,
      includeFullRecord,
      recordProp,
      metadataProp,
      dropDuplicates,
      server: serverId,
      ...settings
    } = config.read(def);
    const matches = fromConfig(node, RED._('imis-change-in.status.invalid'), () =>
      eventTypeFilter(eventTypes),
    );
    if (!matches) return;
    const server = serverNode(RED, serverId);
    const counts = { events: 0, duplicates: 0 };
    let verified = false;

    // Include Full Record: from the event when it carries the subject, else fetched from iMIS. A
    // failure fails this run only; the delivery was already accepted.
    const prepare = includeFullRecord
      ? async (msg: NodeMessage) => {
          const event = msg.payload as GridEvent;
          const carried = carriedSubject(event);
          let record = carried && decodeEntity(carried);
          if (!record) {
            if (!server) throw new ExpectedError(RED._('imis-change-in.errors.no-server'));
            const { entityType, id } = eventSubject(event);
            if (!id)
              throw new ExpectedError(RED._('imis-change-in.errors.no-identity', { type: event.eventType }));
            record = await getEntity(server.client, entityType, id);
          }
          RED.util.setMessageProperty(msg, recordProp, record, true);
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
      parts.push(...rejectedStatus(RED, rejections));
      node.status({
        fill: verified || counts.events ? 'green' : 'yellow',
        shape: 'dot',
        text: parts.join(', '),
      });
    });
    const started = startEndpointTrigger(RED, node, 'imis-change-in', NOTIFY_PATH, settings, {
      prepare,
      onRejected: status.soon,
    });
    if (!started) return;
    const { guard, rejections, runs } = started;
    const store = runs.ctx.store;
    status.now();
    node.on('close', status.cancel);

    node.handleRequest = async (req, res) => {
      const receivedAt = new Date();
      // Protections answer before anything is parsed or run (401, 403, 429), the handshake included.
      const parsed = await guard.readBody(req, LIMIT_BYTES);
      if (!parsed.ok) return node.reject(req, res, parsed.rejection);
      // Event Grid does not retry a 400, so only a body that can never succeed gets one.
      const body = readGridBody(parsed.value);
      if (body.kind === 'invalid') return node.reject(req, res, { kind: 'bad-events', detail: body.message });
      if (body.kind === 'validation') {
        // Event Grid validation handshake, answered synchronously (docs/imis-api.md §5).
        verified = true;
        status.now();
        if (body.validationUrl)
          node.log(RED._('imis-change-in.log.validation-url', { url: body.validationUrl }));
        return sendHookResponse(res, { status: 200, body: { validationResponse: body.validationCode } });
      }
      const meta = metadataProp ? requestMetadata(req, receivedAt) : undefined;
      const scope = seenScope(node.id);
      // Event Grid delivers at least once, and may retry across a restart: ids are remembered in
      // the store for a day (docs/imis-api.md §5).
      const delivered = acceptDeliveries(body.events, receivedAt, {
        matches,
        rememberMs: SEEN_FOR_MS,
        seen: dropDuplicates
          ? {
              mark: (id, expires, now) => store.seen.mark(scope, id, expires, now),
              forget: (id) => store.seen.unmark(scope, id),
            }
          : undefined,
        accept: async (event) => {
          const extra: NodeMessage = { topic: event.eventType };
          if (meta) RED.util.setMessageProperty(extra, metadataProp, meta, true);
          await runs.accept({ payload: event, extra }, receivedAt);
        },
      }).catch((err: unknown) => {
        // The store cannot open (the log says why and how to fix it): Event Grid retries a 503.
        if (!(err instanceof StoreUnavailableError)) throw err;
        node.reject(req, res, {
          kind: 'unavailable',
          reason: err.problem.short,
          retryAfterSec: err.retryAfterSec,
        });
        return undefined;
      });
      const result = await delivered;
      if (!result) return;
      const { accepted, duplicates, filtered } = result;
      counts.events += accepted;
      counts.duplicates += duplicates;
      if (accepted || duplicates) status.soon();
      sendHookResponse(res, { status: 200, body: { error: false, accepted, duplicates, filtered } });
    };
  }

  registerType(RED, 'imis-change-in', ChangeInNode, {
    credentials: ENDPOINT_TRIGGER_CREDENTIALS,
    settings: config.settings({ tokenPattern: TOKEN_PATTERN, eventTypePattern: EVENT_TYPE_ENTRY_PATTERN }),
  });
  mountEndpointTrigger(RED, 'imis-change-in', NOTIFY_PATH);
};

export = register;
