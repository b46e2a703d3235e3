import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  EVENT_GRID_TOPIC,
  MAX_ATTEMPTS,
  TENANT_ID,
  VALIDATION_EVENT_TYPE,
  type GridEvent,
  type GridEventData,
  type NotificationOptions,
  type NotificationStatus,
  type ValidationEvent,
} from '../../src/emulator/notifications.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { quietWindow, waitFor } from '../support/wait.js';
import { api, entityBody, firstError, tokenFor, type PersonAnswer } from './helpers.js';

/** What GET and PUT /api/ChangeNotificationSettings answer (src/emulator/notifications.ts `renderSettings`). */
interface ChangeSettings {
  EndpointUrl: string | null;
  Status: NotificationStatus;
  Message: string;
  VerifiedOn: string | null;
  IncludeSubject: boolean;
  BatchSize: number;
  RetryScale: number;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The record in data.Subject (includeSubject), as far as these tests read it. */
type Subject = {
  $type: string;
  PartyId: string;
  PersonName: { FirstName: string; FullName: string };
  EntityTypeName: string;
  Name: string;
};
/** An event as the receiver reads it off the wire: a notification, or the validation handshake. */
type WireEvent = Omit<GridEvent, 'data'> & {
  data: Omit<GridEventData, 'Subject'> & ValidationEvent['data'] & { Subject: Subject };
};

interface Received {
  headers: IncomingHttpHeaders;
  body: WireEvent[];
}

type Handler = (received: Received, req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A webhook receiver on 127.0.0.1: records every POST and answers with `handler`. */
interface Receiver {
  url: string;
  received: Received[];
  /** Notifications only (validation events left out). */
  events(): WireEvent[];
  handler: Handler;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body?: unknown): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
  res.end(payload);
}

/** Answers the validation handshake with the right code, and 200 to notifications. */
const echoCode: Handler = (received, _req, res) => {
  const [first] = received.body;
  if (first?.eventType === VALIDATION_EVENT_TYPE)
    json(res, 200, { validationResponse: first.data.validationCode });
  else json(res, 200);
};

async function startReceiver(handler: Handler = echoCode): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    received: [],
    events: () =>
      receiver.received.filter((r) => r.body[0]?.eventType !== VALIDATION_EVENT_TYPE).flatMap((r) => r.body),
    handler,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const received: Received = { headers: req.headers, body: text ? JSON.parse(text) : undefined };
      receiver.received.push(received);
      void receiver.handler(received, req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/imis`;
  return receiver;
}

function personUpdate(firstName: string): unknown {
  return {
    $type: 'Asi.Soa.Membership.DataContracts.PersonData, Asi.Contracts',
    PersonName: { FirstName: firstName },
  };
}

describe('emulator: change notifications (docs/imis-api.md §5)', function () {
  let emulator: Emulator;
  let token: string;
  let receiver: Receiver;

  before(async () => {
    emulator = await startEmulator();
    token = await tokenFor(emulator);
  });
  beforeEach(async () => {
    emulator.state.reset();
    emulator.state.notifications.clear();
    receiver = await startReceiver();
  });
  afterEach(() => receiver.close());
  after(() => emulator.close());

  async function verified(options: Partial<NotificationOptions> = {}): Promise<void> {
    emulator.state.notifications.configure({ endpointUrl: receiver.url, retryScale: 0.001, ...options });
    const result = await emulator.state.notifications.verify();
    assert.equal(result.status, 'Verified', result.message);
    receiver.received.length = 0;
  }

  describe('Verify and Save', () => {
    it('sends one SubscriptionValidationEvent and is verified by the echoed code', async () => {
      emulator.state.notifications.configure({ endpointUrl: receiver.url });
      assert.equal(emulator.state.notifications.status, 'NotVerified');
      const result = await emulator.state.notifications.verify();
      assert.deepEqual(result, { status: 'Verified', message: 'The endpoint URL is verified.' });
      assert.equal(emulator.state.notifications.status, 'Verified');

      assert.equal(receiver.received.length, 1);
      const { headers, body } = receiver.received[0];
      assert.match(String(headers['content-type']), /^application\/json/);
      assert.equal(headers['aeg-event-type'], 'SubscriptionValidation');
      assert.ok(Array.isArray(body));
      assert.equal(body.length, 1);
      const [event] = body;
      assert.deepEqual(Object.keys(event), [
        'id',
        'topic',
        'subject',
        'data',
        'eventType',
        'eventTime',
        'metadataVersion',
        'dataVersion',
      ]);
      assert.match(event.id, GUID);
      assert.equal(event.topic, EVENT_GRID_TOPIC);
      assert.match(
        event.topic,
        /\/providers\/microsoft\.eventgrid\/domains\/shared-region0-event-grid-domain\/topics\//,
      );
      assert.equal(event.subject, '');
      assert.equal(event.eventType, 'Microsoft.EventGrid.SubscriptionValidationEvent');
      assert.ok(!Number.isNaN(Date.parse(event.eventTime)));
      assert.equal(event.metadataVersion, '1');
      assert.equal(event.dataVersion, '2');
      assert.match(event.data.validationCode, GUID);
      const validationUrl = new URL(event.data.validationUrl);
      assert.equal(validationUrl.origin, emulator.url);
      assert.equal(validationUrl.pathname, '/eventgrid/validate');
      assert.equal(validationUrl.searchParams.get('code'), event.data.validationCode);
    });

    it('fails against an endpoint echoing the wrong code, and sends it nothing', async () => {
      receiver.handler = (_received, _req, res) =>
        json(res, 200, { validationResponse: '00000000-0000-0000-0000-000000000000' });
      emulator.state.notifications.configure({ endpointUrl: receiver.url, retryScale: 0.001 });
      const result = await emulator.state.notifications.verify();
      assert.equal(result.status, 'Failed');
      assert.match(result.message, /not the validation code/);
      assert.equal(emulator.state.notifications.status, 'Failed');

      receiver.received.length = 0;
      await api(emulator, token, 'PUT', '/api/Party/101', personUpdate('Jon'));
      await emulator.state.notifications.idle();
      // Deliberate window: nothing may reach the endpoint that failed its validation.
      await quietWindow(30);
      assert.equal(receiver.received.length, 0);
    });

    it('fails when the endpoint answers an error status or cannot be reached', async () => {
      receiver.handler = (_received, _req, res) => json(res, 404, { error: 'no such hook' });
      emulator.state.notifications.configure({ endpointUrl: receiver.url });
      const notFound = await emulator.state.notifications.verify();
      assert.equal(notFound.status, 'Failed');
      assert.match(notFound.message, /HTTP 404/);

      await receiver.close();
      const unreachable = await emulator.state.notifications.verify();
      assert.equal(unreachable.status, 'Failed');
      assert.match(unreachable.message, /could not be reached: ECONNREFUSED/);
    });

    it('verifies through a GET of the validationUrl (the asynchronous handshake)', async () => {
      let validationUrl = '';
      receiver.handler = (received, _req, res) => {
        validationUrl = received.body[0].data.validationUrl;
        json(res, 200, {});
      };
      emulator.state.notifications.configure({ endpointUrl: receiver.url, retryScale: 0.001 });
      const result = await emulator.state.notifications.verify();
      assert.equal(result.status, 'Failed');
      assert.match(result.message, /validationUrl within 10 minutes/);
      assert.equal(emulator.state.notifications.status, 'AwaitingValidation');

      const wrong = await fetch(validationUrl.replace(/code=[^&]+/, 'code=nope'));
      assert.equal(wrong.status, 400);
      const answer = await fetch(validationUrl);
      assert.equal(answer.status, 200);
      assert.match(await answer.text(), /successfully validated/);
      assert.equal(emulator.state.notifications.status, 'Verified');
      // A validationUrl works once.
      assert.equal((await fetch(validationUrl)).status, 400);

      receiver.handler = echoCode;
      receiver.received.length = 0;
      await api(emulator, token, 'PUT', '/api/Party/101', personUpdate('Jon'));
      await emulator.state.notifications.idle();
      assert.equal(receiver.events().length, 1);
    });

    it('counts a validationUrl GET made before the endpoint answers', async () => {
      receiver.handler = async (received, _req, res) => {
        const check = await fetch(received.body[0].data.validationUrl);
        assert.equal(check.status, 200);
        json(res, 200);
      };
      emulator.state.notifications.configure({ endpointUrl: receiver.url });
      const result = await emulator.state.notifications.verify();
      assert.equal(result.status, 'Verified');
    });

    it('needs a new verification when the endpoint URL changes', async () => {
      await verified();
      emulator.state.notifications.configure({ endpointUrl: receiver.url, includeSubject: true });
      assert.equal(emulator.state.notifications.status, 'Verified');
      emulator.state.notifications.configure({ endpointUrl: `${receiver.url}/other` });
      assert.equal(emulator.state.notifications.status, 'NotVerified');
      assert.throws(
        () => emulator.state.notifications.configure({ endpointUrl: 'ftp://x' }),
        /http or https/,
      );
    });
  });

  describe('events', () => {
    it('sends nothing to an endpoint that is not verified', async () => {
      emulator.state.notifications.configure({ endpointUrl: receiver.url, retryScale: 0.001 });
      const put = await api(emulator, token, 'PUT', '/api/Party/101', personUpdate('Jon'));
      assert.equal(put.status, 200);
      await emulator.state.notifications.idle();
      // Deliberate window: nothing may reach the endpoint that is not verified.
      await quietWindow(30);
      assert.equal(receiver.received.length, 0);
      assert.equal(emulator.state.notifications.deliveries.length, 0);
      assert.equal(emulator.state.notifications.published.length, 1);
    });

    it('publishes Party.Updated after PUT /api/Party/{id}, asynchronously', async () => {
      await verified();
      const put = await api(emulator, token, 'PUT', '/api/Party/101', personUpdate('Jon'));
      assert.equal(put.status, 200);
      await emulator.state.notifications.idle();

      assert.equal(receiver.received.length, 1);
      const { headers, body } = receiver.received[0];
      assert.match(String(headers['content-type']), /^application\/json/);
      assert.equal(headers['aeg-event-type'], 'Notification');
      assert.equal(headers['aeg-delivery-count'], '0');
      assert.ok(Array.isArray(body));
      assert.equal(body.length, 1);
      const [event] = body;
      assert.match(event.id, GUID);
      assert.deepEqual(event, {
        id: event.id,
        topic: EVENT_GRID_TOPIC,
        subject: 'Party/101',
        eventType: 'Party.Updated',
        eventTime: event.eventTime,
        dataVersion: '1.0',
        metadataVersion: '1',
        data: { EntityTypeName: 'Party', Action: 'Updated', Identity: '101', TenantId: TENANT_ID },
      });
      assert.ok(Math.abs(Date.parse(event.eventTime) - Date.now()) < 5000);
      const [delivery] = emulator.state.notifications.deliveries;
      assert.deepEqual(
        { ...delivery, at: 0 },
        { eventId: event.id, eventType: 'Party.Updated', attempt: 1, status: 200, at: 0 },
      );
    });

    it('puts the updated record in data.Subject with includeSubject', async () => {
      await verified({ includeSubject: true });
      await api(emulator, token, 'PUT', '/api/Party/101', personUpdate('Johnny'));
      await emulator.state.notifications.idle();
      const [event] = receiver.events();
      const subject = event.data.Subject;
      assert.equal(subject.$type, 'Asi.Soa.Membership.DataContracts.PersonData, Asi.Contracts');
      assert.equal(subject.PartyId, '101');
      assert.equal(subject.PersonName.FirstName, 'Johnny');
      assert.equal(subject.PersonName.FullName, 'Johnny Smith');
    });

    it('publishes Created events for Party, Activity, panel rows and Event', async () => {
      await verified({ includeSubject: true });
      const party = await api<PersonAnswer>(emulator, token, 'POST', '/api/Party', {
        $type: 'Asi.Soa.Membership.DataContracts.PersonData, Asi.Contracts',
        PersonName: { FirstName: 'Nia', LastName: 'Okoro' },
      });
      const activity = await api(
        emulator,
        token,
        'POST',
        '/api/Activity',
        entityBody({ PartyId: '101', ACTIVITY_TYPE: 'MEETING' }),
      );
      const panel = await api(
        emulator,
        token,
        'POST',
        '/api/ABC_AuditLog',
        entityBody({ ID: '101', EntityType: 'Party', Action: 'Updated' }),
      );
      const created = await api(emulator, token, 'POST', '/api/Event', {
        EventCode: 'GALA2026',
        Name: 'Gala dinner',
        StartDateTime: '2026-11-20T19:00:00',
      });
      assert.deepEqual([party.status, activity.status, panel.status, created.status], [201, 201, 201, 201]);
      await emulator.state.notifications.idle();
      const events = receiver.events();
      const seqn = String(emulator.state.activities.at(-1)?.SEQN);
      assert.deepEqual(events.map((event) => [event.eventType, event.subject, event.data.Identity]).sort(), [
        ['ABC_AuditLog.Created', 'ABC_AuditLog/~101|1', '~101|1'],
        ['Activity.Created', `Activity/${seqn}`, seqn],
        ['Event.Created', 'Event/GALA2026', 'GALA2026'],
        ['Party.Created', `Party/${party.body.PartyId}`, party.body.PartyId],
      ]);
      const auditLog = events.find((event) => event.eventType === 'ABC_AuditLog.Created');
      assert.equal(auditLog?.data.EntityTypeName, 'ABC_AuditLog');
      assert.equal(auditLog?.data.Action, 'Created');
      assert.equal(auditLog?.data.Subject.EntityTypeName, 'ABC_AuditLog');
      const event = events.find((e) => e.eventType === 'Event.Created');
      assert.equal(event?.data.Subject.Name, 'Gala dinner');

      // The identity is what GET /api/{Entity}/{id} takes.
      const fetched = await api(
        emulator,
        token,
        'GET',
        `/api/ABC_AuditLog/${encodeURIComponent(auditLog?.data.Identity)}`,
      );
      assert.equal(fetched.status, 200);
      const gala = await api<{ Name: string; StartDateTime: string }>(
        emulator,
        token,
        'GET',
        '/api/Event/GALA2026',
      );
      assert.equal(gala.status, 200);
      assert.equal(gala.body.Name, 'Gala dinner');
      assert.equal(gala.body.StartDateTime, '2026-11-20T19:00:00');
    });

    it('publishes Updated events for panel rows and events', async () => {
      await verified();
      await api(emulator, token, 'PUT', '/api/Name_CEU/~23179|2', entityBody({ CEU_Notes: 'changed' }));
      await api(emulator, token, 'PUT', '/api/Event/ANNUAL2026', { Name: 'Annual Conference (updated)' });
      await emulator.state.notifications.idle();
      assert.deepEqual(
        receiver.events().map((event) => [event.eventType, event.data.Identity]),
        [
          ['Name_CEU.Updated', '~23179|2'],
          ['Event.Updated', 'ANNUAL2026'],
        ],
      );
    });

    it('publishes nothing when the change is refused', async () => {
      await verified();
      const bad = await api(emulator, token, 'POST', '/api/Activity', entityBody({ PartyId: '101' }));
      assert.equal(bad.status, 400);
      const missing = await api(emulator, token, 'PUT', '/api/Party/999', personUpdate('X'));
      assert.equal(missing.status, 404);
      await emulator.state.notifications.idle();
      assert.equal(receiver.received.length, 0);
    });

    it('publish() sends arbitrary events, and deliverTwice() repeats the same id', async () => {
      await verified();
      emulator.state.notifications.deliverTwice();
      const first = emulator.state.notifications.publish('Product.Created', 'BOOK-1');
      const second = emulator.state.notifications.publish('Product.Updated', 'BOOK-1');
      await emulator.state.notifications.idle();
      const ids = receiver.events().map((event) => event.id);
      assert.deepEqual(ids.sort(), [first.id, first.id, second.id].sort());
      assert.equal(receiver.received.length, 3);
      assert.equal(first.subject, 'Product/BOOK-1');
    });

    it('batches up to batchSize events per POST', async () => {
      await verified({ batchSize: 3 });
      for (let i = 0; i < 5; i++) emulator.state.notifications.publish('Party.Updated', String(100 + i));
      await emulator.state.notifications.idle();
      assert.deepEqual(
        receiver.received.map((r) => r.body.length),
        [3, 2],
      );
    });
  });

  describe('delivery and retries', () => {
    it('retries after a 500 on the compressed Event Grid schedule', async () => {
      await verified({ retryScale: 0.01 });
      let calls = 0;
      receiver.handler = (_received, _req, res) => json(res, ++calls <= 2 ? 500 : 200);
      const event = emulator.state.notifications.publish('Party.Updated', '101');
      await emulator.state.notifications.idle();
      const log = emulator.state.notifications.deliveries;
      assert.deepEqual(
        log.map((entry) => [entry.eventId, entry.attempt, entry.status]),
        [
          [event.id, 1, 500],
          [event.id, 2, 500],
          [event.id, 3, 200],
        ],
      );
      // 10 s then 30 s, × 0.01.
      assert.ok(log[1].at - log[0].at >= 95, `first retry after ${log[1].at - log[0].at} ms`);
      assert.ok(log[2].at - log[1].at >= 290, `second retry after ${log[2].at - log[1].at} ms`);
      assert.deepEqual(
        receiver.received.map((r) => [r.body[0].id, r.headers['aeg-delivery-count']]),
        [
          [event.id, '0'],
          [event.id, '1'],
          [event.id, '2'],
        ],
      );
      assert.equal(emulator.state.notifications.deadLettered.length, 0);
    });

    for (const status of [400, 401, 403, 413]) {
      it(`does not retry a ${status}: the event is dead-lettered`, async () => {
        await verified();
        receiver.handler = (_received, _req, res) => json(res, status);
        const event = emulator.state.notifications.publish('Party.Updated', '101');
        await emulator.state.notifications.idle();
        // Deliberate window: no retry may follow (retries here come after ~1 ms).
        await quietWindow(50);
        assert.equal(receiver.received.length, 1);
        assert.deepEqual(
          emulator.state.notifications.deliveries.map((entry) => entry.status),
          [status],
        );
        assert.deepEqual(emulator.state.notifications.deadLettered, [event]);
      });
    }

    it('retries network errors and gives up after 30 attempts (the 24 h schedule)', async function () {
      this.timeout(10_000);
      await verified({ retryScale: 0.00001 });
      await receiver.close();
      const event = emulator.state.notifications.publish('Party.Updated', '101');
      await emulator.state.notifications.idle();
      const log = emulator.state.notifications.deliveries;
      assert.equal(log.length, MAX_ATTEMPTS);
      assert.ok(log.every((entry) => entry.status === 'network-error' && entry.error === 'ECONNREFUSED'));
      assert.deepEqual(
        log.map((entry) => entry.attempt),
        Array.from({ length: MAX_ATTEMPTS }, (_, i) => i + 1),
      );
      assert.deepEqual(emulator.state.notifications.deadLettered, [event]);
    });

    it('times out a receiver that does not answer, and retries', async () => {
      await verified({ timeoutMs: 100 });
      let calls = 0;
      receiver.handler = (_received, _req, res) => {
        if (++calls > 1) json(res, 202);
      };
      emulator.state.notifications.publish('Party.Updated', '101');
      await emulator.state.notifications.idle();
      assert.deepEqual(
        emulator.state.notifications.deliveries.map((entry) => [entry.status, entry.error]),
        [
          ['network-error', 'timeout'],
          [202, undefined],
        ],
      );
    });

    it('never holds up the REST call that caused the event', async () => {
      await verified();
      receiver.handler = () => undefined; // never answers
      const started = Date.now();
      const put = await api(emulator, token, 'PUT', '/api/Party/101', personUpdate('Jon'));
      assert.equal(put.status, 200);
      assert.ok(Date.now() - started < 500);
      emulator.state.notifications.reset();
      await emulator.state.notifications.idle();
    });
  });

  describe('REST settings (npm start)', () => {
    it('PUT, verify and GET /api/ChangeNotificationSettings', async () => {
      const before = await api<ChangeSettings>(emulator, token, 'GET', '/api/ChangeNotificationSettings');
      assert.equal(before.status, 200);
      assert.equal(before.body.Status, 'NotConfigured');
      assert.equal(before.body.EndpointUrl, null);

      const put = await api<ChangeSettings>(emulator, token, 'PUT', '/api/ChangeNotificationSettings', {
        EndpointUrl: receiver.url,
        IncludeSubject: true,
      });
      assert.equal(put.status, 200);
      assert.equal(put.body.EndpointUrl, receiver.url);
      assert.equal(put.body.Status, 'NotVerified');
      assert.equal(put.body.IncludeSubject, true);

      const verify = await api(emulator, token, 'POST', '/api/ChangeNotificationSettings/_verify');
      assert.equal(verify.status, 200);
      assert.deepEqual(verify.body, { Status: 'Verified', Message: 'The endpoint URL is verified.' });

      const after = await api<ChangeSettings>(emulator, token, 'GET', '/api/ChangeNotificationSettings');
      assert.equal(after.body.Status, 'Verified');
      assert.ok(!Number.isNaN(Date.parse(after.body.VerifiedOn ?? '')));
    });

    it('refuses a missing or bad EndpointUrl, and callers without a token', async () => {
      const missing = await api(emulator, token, 'PUT', '/api/ChangeNotificationSettings', {});
      assert.equal(missing.status, 400);
      assert.match(firstError(missing.body), /EndpointUrl is required/);
      const bad = await api(emulator, token, 'PUT', '/api/ChangeNotificationSettings', {
        EndpointUrl: 'nope',
      });
      assert.equal(bad.status, 400);
      const anonymous = await api(emulator, undefined, 'GET', '/api/ChangeNotificationSettings');
      assert.equal(anonymous.status, 401);
      const noVerify = await api(emulator, undefined, 'POST', '/api/ChangeNotificationSettings/_verify');
      assert.equal(noVerify.status, 401);
    });

    it('answers Failed from _verify with no endpoint configured', async () => {
      const verify = await api(emulator, token, 'POST', '/api/ChangeNotificationSettings/_verify');
      assert.deepEqual(verify.body, { Status: 'Failed', Message: 'No endpoint URL is configured.' });
    });
  });

  describe('the emulator lifecycle', () => {
    it('reset() cancels pending retries but keeps the verified endpoint', async () => {
      await verified({ retryScale: 1 });
      receiver.handler = (_received, _req, res) => json(res, 500);
      emulator.state.notifications.publish('Party.Updated', '101');
      await waitFor(() => emulator.state.notifications.deliveries.length > 0, 2000, 'the first delivery');
      assert.equal(emulator.state.notifications.pending, 1);
      emulator.state.reset();
      await emulator.state.notifications.idle();
      assert.equal(emulator.state.notifications.pending, 0);
      assert.equal(emulator.state.notifications.deliveries.length, 0);
      assert.equal(emulator.state.notifications.status, 'Verified');
    });

    it('close() cancels pending retries', async () => {
      const own = await startEmulator();
      own.state.notifications.configure({ endpointUrl: receiver.url, retryScale: 1 });
      assert.equal((await own.state.notifications.verify()).status, 'Verified');
      receiver.handler = (_received, _req, res) => json(res, 503);
      own.state.notifications.publish('Party.Updated', '101');
      await waitFor(() => own.state.notifications.deliveries.length > 0, 2000, 'the first delivery');
      const idle = own.state.notifications.idle();
      await own.close();
      await idle;
      assert.equal(own.state.notifications.pending, 0);
      own.state.notifications.publish('Party.Updated', '101');
      assert.equal(own.state.notifications.pending, 0);
    });
  });
});
