/**
 * iMIS change notifications, iMIS's side (docs/imis-api.md §5): "Verify and Save" of an endpoint URL with
 * Event Grid's SubscriptionValidationEvent handshake, then delivery of `<Entity>.<Action>` events to
 * the verified endpoint as Azure Event Grid does it: a JSON array per POST, asynchronous, at least
 * once, retried on Event Grid's schedule, dead-lettered on 400/401/403/413 or after 24 hours.
 *
 * The transport (Event Grid domain topic, validation handshake) is CONFIRMED; the event body, in
 * particular `subject` and the fields of `data`, is the INFERRED proposal of docs/imis-api.md §5. So is
 * the REST surface `/api/ChangeNotificationSettings`, which iMIS does not document: it stands for
 * the Settings > Change notifications page, for people running the emulator with `npm start`.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { invalid, methodNotAllowed, notFound } from './errors.js';
import type { ApiRequest, Reply } from './http.js';
import type { EmulatorState } from './state.js';
import { isRecord } from '../imis/json-net.js';

/** Fixed ids of the emulated tenant (a real tenant has its own). */
export const EVENT_GRID_SUBSCRIPTION_ID = '5c3d7f4e-2a61-4b8e-9d0f-0a1b2c3d4e5f';
export const TENANT_ID = '8f2e6a1c-7b3d-4e9a-b5c0-1d2e3f4a5b6c';
/** An Event Grid domain topic, as in the validation example of docs/imis-api.md §5. */
export const EVENT_GRID_TOPIC =
  `/subscriptions/${EVENT_GRID_SUBSCRIPTION_ID}/resourceGroups/imis/providers/microsoft.eventgrid` +
  '/domains/shared-region0-event-grid-domain/topics/tenant1-emulator';
export const VALIDATION_EVENT_TYPE = 'Microsoft.EventGrid.SubscriptionValidationEvent';

/** Event Grid's retry delays after the 1st, 2nd, ... failed attempt; hourly after these. */
export const RETRY_SCHEDULE_MS = [10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000];
const HOUR_MS = 3_600_000;
/** Undelivered events expire after 24 hours (Event Grid's default time to live). */
export const EVENT_TTL_MS = 24 * HOUR_MS;
/** Event Grid's default cap on delivery attempts; the schedule reaches it at 23 h 46 min anyway. */
export const MAX_ATTEMPTS = 30;
/** Event Grid does not retry these answers of a webhook: the event is dead-lettered at once. */
export const NO_RETRY_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 413]);
/** A validationUrl is valid this long (Microsoft documents about 10 minutes). */
const VALIDATION_URL_TTL_MS = 10 * 60_000;
/** The request log's bound, as for the emulator's request log. */
const LOG_LIMIT = 10_000;

export interface GridEventData {
  EntityTypeName: string;
  Action: string;
  /** The record's id as `/api/<Entity>/<Identity>` takes it (`~ID|Ordinal` for multi-instance panels). */
  Identity: string;
  TenantId: string;
  /** The full record, only with `includeSubject` ("Include Full Record", docs/imis-api.md §5). */
  Subject?: unknown;
}

/** One change notification in Event Grid schema (INFERRED body, docs/imis-api.md §5). */
export interface GridEvent {
  id: string;
  topic: string;
  subject: string;
  eventType: string;
  eventTime: string;
  dataVersion: string;
  metadataVersion: string;
  data: GridEventData;
}

export interface ValidationEvent {
  id: string;
  topic: string;
  subject: string;
  data: { validationCode: string; validationUrl: string };
  eventType: typeof VALIDATION_EVENT_TYPE;
  eventTime: string;
  metadataVersion: string;
  dataVersion: string;
}

export interface NotificationOptions {
  endpointUrl: string;
  /** Multiplies Event Grid's retry delays (tests use e.g. 0.001). Default 1. */
  retryScale?: number;
  /** Put the full record in `data.Subject`. Default false. */
  includeSubject?: boolean;
  /** Events per POST, at most. Default 1 (Event Grid's default). */
  batchSize?: number;
  /** Per request, handshake included. Default 30 s × retryScale, at least 1 s. */
  timeoutMs?: number;
}

export interface NotificationSettings {
  endpointUrl: string;
  retryScale: number;
  includeSubject: boolean;
  batchSize: number;
  timeoutMs: number;
}

/**
 * `NotConfigured` → (configure) `NotVerified` → (verify) `Verified` | `Failed`, or
 * `AwaitingValidation` when the endpoint answered 2xx without the code: a GET of the validationUrl
 * within 10 minutes then verifies it (Event Grid's asynchronous handshake).
 */
export type NotificationStatus =
  'NotConfigured' | 'NotVerified' | 'AwaitingValidation' | 'Verified' | 'Failed';

export interface VerifyResult {
  status: 'Verified' | 'Failed';
  message: string;
}

export interface DeliveryAttempt {
  eventId: string;
  eventType: string;
  /** 1 for the first delivery of a batch, 2 for its first retry, ... */
  attempt: number;
  status: number | 'network-error';
  /** Epoch ms when the answer (or the failure) came. */
  at: number;
  /** Why a network error happened (`timeout`, `ECONNREFUSED`, ...). */
  error?: string;
}

interface Batch {
  url: string;
  events: GridEvent[];
  attempts: number;
  /** Sum of the nominal (unscaled) delays waited so far, measured against EVENT_TTL_MS. */
  waitedMs: number;
  timer?: NodeJS.Timeout;
  controller?: AbortController;
}

interface PendingValidation {
  code: string;
  endpointUrl: string;
  expiresAt: number;
}

interface PostAnswer {
  status: number;
  body: string;
}

class NetworkError extends Error {}

/** One POST of JSON, with a hard timeout; rejects with NetworkError when no answer came. */
function postJson(
  url: string,
  payload: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, answer?: PostAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== undefined) reject(error);
      else if (answer !== undefined) resolve(answer);
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      finish(new NetworkError(`invalid URL ${url}`));
      return;
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    // No keep-alive agent: nothing lingers after the emulator closes.
    const req = send(
      target,
      {
        method: 'POST',
        agent: false,
        signal,
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(payload)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= 64 * 1024) chunks.push(chunk);
        });
        res.on('end', () =>
          finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (error) => finish(new NetworkError(error.message)));
        res.on('aborted', () => finish(new NetworkError('the answer was cut off')));
      },
    );
    const timer = setTimeout(() => {
      finish(new NetworkError('timeout'));
      req.destroy();
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      const reason = signal.aborted ? 'cancelled' : (error.code ?? error.message);
      finish(new NetworkError(reason));
    });
    req.end(payload);
  });
}

const isSuccess = (status: number | 'network-error'): status is number =>
  typeof status === 'number' && status >= 200 && status < 300;

/** Reads `validationResponse` (any case) from a handshake answer. */
function validationResponseOf(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  for (const [key, value] of Object.entries(parsed)) {
    if (key.toLowerCase() === 'validationresponse' && typeof value === 'string') return value;
  }
  return undefined;
}

export class ChangeNotifications {
  /** Every delivery attempt, oldest first (bounded). */
  readonly deliveries: DeliveryAttempt[] = [];
  /** Events given up on: a 400/401/403/413 answer, or 24 hours of failures. */
  readonly deadLettered: GridEvent[] = [];
  /** Every event published, delivered or not (an unverified endpoint receives nothing), bounded. */
  readonly published: GridEvent[] = [];

  private current?: NotificationSettings;
  private state: NotificationStatus = 'NotConfigured';
  private statusMessage = 'No endpoint URL is configured.';
  private verifiedAt?: number;
  private validation?: PendingValidation;
  private queue: GridEvent[] = [];
  private readonly batches = new Set<Batch>();
  private flushScheduled = false;
  private twice = 0;
  private closed = false;
  private verifying?: AbortController;
  private waiters: (() => void)[] = [];

  /** `baseUrl` gives the emulator's own URL, for the validationUrl. */
  constructor(private readonly baseUrl: () => string) {}

  get settings(): Readonly<NotificationSettings> | undefined {
    return this.current;
  }

  get status(): NotificationStatus {
    return this.state;
  }

  get message(): string {
    return this.statusMessage;
  }

  /** Epoch ms of the last successful verification. */
  get verifiedOn(): number | undefined {
    return this.verifiedAt;
  }

  /** Sets the endpoint; a new URL must be verified again before it receives events. */
  configure(options: NotificationOptions): NotificationSettings {
    let url: URL;
    try {
      url = new URL(options.endpointUrl);
    } catch {
      throw new Error(`The endpoint URL "${options.endpointUrl}" is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`The endpoint URL "${options.endpointUrl}" must be http or https`);
    }
    const retryScale = options.retryScale ?? 1;
    if (!Number.isFinite(retryScale) || retryScale < 0) throw new Error('retryScale must be 0 or more');
    const batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error('batchSize must be 1 or more');
    const timeoutMs = options.timeoutMs ?? Math.max(1000, 30_000 * retryScale);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error('timeoutMs must be positive');
    const changed = this.current?.endpointUrl !== options.endpointUrl;
    this.current = {
      endpointUrl: options.endpointUrl,
      retryScale,
      includeSubject: options.includeSubject ?? false,
      batchSize,
      timeoutMs,
    };
    if (changed || this.state === 'NotConfigured') {
      this.state = 'NotVerified';
      this.statusMessage = 'The endpoint URL has not been verified.';
      this.verifiedAt = undefined;
      this.validation = undefined;
    }
    return { ...this.current };
  }

  /**
   * "Verify and Save": POSTs `[SubscriptionValidationEvent]` and expects 200
   * `{"validationResponse": "<code>"}`; a GET of the validationUrl (even while the POST is open)
   * verifies too.
   */
  async verify(): Promise<VerifyResult> {
    const settings = this.current;
    if (settings === undefined) return this.fail('No endpoint URL is configured.');
    const code = randomUUID().toUpperCase();
    const validation: PendingValidation = {
      code,
      endpointUrl: settings.endpointUrl,
      expiresAt: Date.now() + VALIDATION_URL_TTL_MS,
    };
    this.validation = validation;
    this.state = 'AwaitingValidation';
    this.statusMessage = 'Waiting for the endpoint to answer the validation event.';
    const event: ValidationEvent = {
      id: randomUUID(),
      topic: EVENT_GRID_TOPIC,
      subject: '',
      data: { validationCode: code, validationUrl: this.validationUrl(code) },
      eventType: VALIDATION_EVENT_TYPE,
      eventTime: new Date().toISOString(),
      metadataVersion: '1',
      dataVersion: '2',
    };
    let answer: PostAnswer | undefined;
    let failure: string | undefined;
    const controller = new AbortController();
    this.verifying = controller;
    try {
      answer = await postJson(
        settings.endpointUrl,
        JSON.stringify([event]),
        this.headers('SubscriptionValidation', 0, '2'),
        settings.timeoutMs,
        controller.signal,
      );
    } catch (error) {
      failure = (error as Error).message;
    } finally {
      if (this.verifying === controller) this.verifying = undefined;
    }
    // Settings changed or another verification started meanwhile: this one is moot.
    // (Read through the getter: the handshake may have changed the status meanwhile.)
    const now = this.status;
    if (this.validation !== validation && now !== 'Verified') {
      return { status: 'Failed', message: 'The verification was superseded.' };
    }
    if (now === 'Verified' && this.validation === undefined) {
      return { status: 'Verified', message: this.statusMessage };
    }
    if (answer === undefined) {
      this.validation = undefined;
      return this.fail(`The endpoint could not be reached: ${failure ?? 'no answer'}.`);
    }
    if (!isSuccess(answer.status)) {
      this.validation = undefined;
      return this.fail(`The endpoint answered the validation event with HTTP ${answer.status}.`);
    }
    const response = validationResponseOf(answer.body);
    if (response === undefined) {
      // Event Grid's asynchronous handshake: the endpoint may still GET the validationUrl.
      this.statusMessage =
        'The endpoint answered without a validationResponse; it can still be verified by a GET of ' +
        'the validationUrl within 10 minutes.';
      return { status: 'Failed', message: this.statusMessage };
    }
    this.validation = undefined;
    if (response.toUpperCase() !== code) {
      return this.fail(
        `The endpoint answered validationResponse "${response}", not the validation code that was sent.`,
      );
    }
    return this.verified('The endpoint URL is verified.');
  }

  /** The GET of a validationUrl: true when it verified the endpoint. */
  validateByCode(code: string, now: number = Date.now()): boolean {
    const pending = this.validation;
    if (pending === undefined || now > pending.expiresAt) return false;
    if (pending.code !== code.toUpperCase() || this.current?.endpointUrl !== pending.endpointUrl) {
      return false;
    }
    this.validation = undefined;
    this.verified('The endpoint URL is verified (through its validationUrl).');
    return true;
  }

  /**
   * Publishes `eventType` (`<Entity>.<Action>`) for the record `identity`; `subject` is the full
   * record, sent in `data.Subject` with includeSubject. Only a verified endpoint receives events.
   */
  publish(eventType: string, identity: string, subject?: unknown): GridEvent {
    const dot = eventType.indexOf('.');
    const entity = dot > 0 ? eventType.slice(0, dot) : eventType;
    const action = dot > 0 ? eventType.slice(dot + 1) : '';
    const data: GridEventData = {
      EntityTypeName: entity,
      Action: action,
      Identity: identity,
      TenantId: TENANT_ID,
    };
    if (this.current?.includeSubject === true && subject !== undefined) data.Subject = subject;
    const event: GridEvent = {
      id: randomUUID(),
      topic: EVENT_GRID_TOPIC,
      subject: `${entity}/${identity}`,
      eventType,
      eventTime: new Date().toISOString(),
      dataVersion: '1.0',
      metadataVersion: '1',
      data,
    };
    this.published.push(event);
    if (this.published.length > LOG_LIMIT) this.published.splice(0, this.published.length - LOG_LIMIT);
    if (this.closed || this.state !== 'Verified' || this.current === undefined) return event;
    this.queue.push(event);
    if (this.twice > 0) {
      // At-least-once delivery: the same event (same id) goes out again.
      this.twice -= 1;
      this.queue.push(event);
    }
    this.scheduleFlush();
    return event;
  }

  /** The next `n` events delivered are delivered twice, with the same id. */
  deliverTwice(n = 1): void {
    if (!Number.isInteger(n) || n < 0) throw new Error('deliverTwice: n must be a whole number');
    this.twice = n;
  }

  /** Resolves when no event is queued, in flight or waiting for a retry. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Events queued, in flight or waiting for a retry. */
  get pending(): number {
    let count = this.queue.length;
    for (const batch of this.batches) count += batch.events.length;
    return count;
  }

  /** Cancels pending deliveries and clears the logs; the endpoint and its verification stay. */
  reset(): void {
    this.cancelAll();
    this.deliveries.length = 0;
    this.deadLettered.length = 0;
    this.published.length = 0;
    this.twice = 0;
  }

  /** Back to "no endpoint configured" (and reset()). */
  clear(): void {
    this.reset();
    this.current = undefined;
    this.validation = undefined;
    this.verifiedAt = undefined;
    this.state = 'NotConfigured';
    this.statusMessage = 'No endpoint URL is configured.';
  }

  /** For the emulator's close(): nothing is delivered any more. */
  close(): void {
    this.closed = true;
    this.verifying?.abort();
    this.cancelAll();
  }

  private validationUrl(code: string): string {
    return `${this.baseUrl()}/eventgrid/validate?id=${EVENT_GRID_SUBSCRIPTION_ID}&code=${encodeURIComponent(code)}`;
  }

  private fail(message: string): VerifyResult {
    this.state = this.current === undefined ? 'NotConfigured' : 'Failed';
    this.statusMessage = message;
    this.verifiedAt = undefined;
    return { status: 'Failed', message };
  }

  private verified(message: string): VerifyResult {
    this.state = 'Verified';
    this.statusMessage = message;
    this.verifiedAt = Date.now();
    return { status: 'Verified', message };
  }

  /** Event Grid's webhook headers (Microsoft docs; INFERRED to reach iMIS endpoints unchanged). */
  private headers(
    kind: 'Notification' | 'SubscriptionValidation',
    deliveryCount: number,
    dataVersion: string,
  ) {
    return {
      'Content-Type': 'application/json',
      'aeg-event-type': kind,
      'aeg-subscription-name': 'IMIS-CHANGE-NOTIFICATIONS',
      'aeg-delivery-count': String(deliveryCount),
      'aeg-data-version': dataVersion,
      'aeg-metadata-version': '1',
    };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Never inside the REST call that caused the event: delivery is asynchronous.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const settings = this.current;
    if (this.closed || settings === undefined) {
      this.queue = [];
      this.notifyIdle();
      return;
    }
    while (this.queue.length > 0) {
      const events: GridEvent[] = [];
      // A batch never carries the same event twice: a duplicate opens the next batch.
      while (
        this.queue.length > 0 &&
        events.length < settings.batchSize &&
        !events.some((event) => event.id === this.queue[0].id)
      ) {
        events.push(this.queue.shift() as GridEvent);
      }
      const batch: Batch = { url: settings.endpointUrl, events, attempts: 0, waitedMs: 0 };
      this.batches.add(batch);
      void this.attempt(batch);
    }
  }

  private async attempt(batch: Batch): Promise<void> {
    const settings = this.current;
    if (settings === undefined || this.closed || !this.batches.has(batch)) return;
    batch.timer = undefined;
    batch.attempts += 1;
    const controller = new AbortController();
    batch.controller = controller;
    let status: number | 'network-error';
    let error: string | undefined;
    try {
      const answer = await postJson(
        batch.url,
        JSON.stringify(batch.events),
        this.headers('Notification', batch.attempts - 1, '1.0'),
        settings.timeoutMs,
        controller.signal,
      );
      status = answer.status;
    } catch (failure) {
      status = 'network-error';
      error = (failure as Error).message;
    }
    batch.controller = undefined;
    // Cancelled meanwhile (reset/close): no log, no retry.
    if (!this.batches.has(batch)) return;
    const at = Date.now();
    for (const event of batch.events) {
      const entry: DeliveryAttempt = {
        eventId: event.id,
        eventType: event.eventType,
        attempt: batch.attempts,
        status,
        at,
      };
      if (error !== undefined) entry.error = error;
      this.deliveries.push(entry);
    }
    if (this.deliveries.length > LOG_LIMIT) this.deliveries.splice(0, this.deliveries.length - LOG_LIMIT);

    if (isSuccess(status)) return this.done(batch);
    if (typeof status === 'number' && NO_RETRY_STATUSES.has(status)) return this.deadLetter(batch);
    const delay = RETRY_SCHEDULE_MS[batch.attempts - 1] ?? HOUR_MS;
    if (batch.attempts >= MAX_ATTEMPTS || batch.waitedMs + delay > EVENT_TTL_MS)
      return this.deadLetter(batch);
    batch.waitedMs += delay;
    batch.timer = setTimeout(() => void this.attempt(batch), delay * settings.retryScale);
  }

  private deadLetter(batch: Batch): void {
    this.deadLettered.push(...batch.events);
    if (this.deadLettered.length > LOG_LIMIT)
      this.deadLettered.splice(0, this.deadLettered.length - LOG_LIMIT);
    this.done(batch);
  }

  private done(batch: Batch): void {
    this.batches.delete(batch);
    this.notifyIdle();
  }

  private cancelAll(): void {
    this.queue = [];
    for (const batch of this.batches) {
      if (batch.timer !== undefined) clearTimeout(batch.timer);
      batch.controller?.abort();
    }
    this.batches.clear();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.pending > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Settings as `GET/PUT /api/ChangeNotificationSettings` shows them (INFERRED names). */
function renderSettings(notifications: ChangeNotifications): Record<string, unknown> {
  const settings = notifications.settings;
  const verifiedOn = notifications.verifiedOn;
  return {
    EndpointUrl: settings?.endpointUrl ?? null,
    Status: notifications.status,
    Message: notifications.message,
    VerifiedOn: verifiedOn === undefined ? null : new Date(verifiedOn).toISOString(),
    IncludeSubject: settings?.includeSubject ?? false,
    BatchSize: settings?.batchSize ?? 1,
    RetryScale: settings?.retryScale ?? 1,
  };
}

function field(body: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(body)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function optionalNumber(body: Record<string, unknown>, name: string): number | undefined {
  const value = field(body, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw invalid(`${name} must be a number`, name);
  return value;
}

/**
 * `GET|PUT /api/ChangeNotificationSettings` and `POST /api/ChangeNotificationSettings/_verify`
 * (INFERRED: the emulator's REST stand-in for Settings > Change notifications, "Verify and Save").
 * PUT takes `{ "EndpointUrl": "..." }` and, as emulator extras, IncludeSubject, BatchSize, RetryScale.
 */
export async function changeNotificationSettingsRoute(
  state: EmulatorState,
  request: ApiRequest,
): Promise<Reply> {
  const notifications = state.notifications;
  if (request.id === undefined) {
    if (request.method === 'GET') return { status: 200, body: renderSettings(notifications) };
    if (request.method !== 'PUT') throw methodNotAllowed(request.method, ['GET', 'PUT']);
    const body = request.body;
    if (!isRecord(body)) throw invalid('The request body must be a JSON object with an EndpointUrl');
    const endpointUrl = field(body, 'EndpointUrl');
    if (typeof endpointUrl !== 'string' || endpointUrl.trim() === '') {
      throw invalid('EndpointUrl is required', 'EndpointUrl');
    }
    const includeSubject = field(body, 'IncludeSubject');
    if (includeSubject !== undefined && includeSubject !== null && typeof includeSubject !== 'boolean') {
      throw invalid('IncludeSubject must be true or false', 'IncludeSubject');
    }
    const options: NotificationOptions = { endpointUrl: endpointUrl.trim() };
    if (typeof includeSubject === 'boolean') options.includeSubject = includeSubject;
    const batchSize = optionalNumber(body, 'BatchSize');
    if (batchSize !== undefined) options.batchSize = batchSize;
    const retryScale = optionalNumber(body, 'RetryScale');
    if (retryScale !== undefined) options.retryScale = retryScale;
    try {
      notifications.configure(options);
    } catch (error) {
      throw invalid((error as Error).message, 'EndpointUrl');
    }
    return { status: 200, body: renderSettings(notifications) };
  }
  if (request.id.toLowerCase() !== '_verify') {
    throw notFound(
      `No HTTP resource was found that matches the request URI '/api/ChangeNotificationSettings/${request.id}'.`,
    );
  }
  if (request.method !== 'POST') throw methodNotAllowed(request.method, ['POST']);
  const result = await notifications.verify();
  return { status: 200, body: { Status: result.status, Message: result.message } };
}

/** `GET /eventgrid/validate?code=...`: the validationUrl of the asynchronous handshake (no auth). */
export function eventGridRoute(
  state: EmulatorState,
  method: string,
  rest: string[],
  query: URLSearchParams,
): Reply {
  if (rest.length !== 1 || rest[0].toLowerCase() !== 'validate') {
    throw notFound('No HTTP resource was found that matches the request URI.');
  }
  if (method !== 'GET') throw methodNotAllowed(method, ['GET']);
  const code = query.get('code') ?? '';
  if (!state.notifications.validateByCode(code)) {
    return { status: 400, body: 'The validation code is unknown or has expired.' };
  }
  return { status: 200, body: 'Webhook successfully validated as a part of the subscription creation.' };
}
