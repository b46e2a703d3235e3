/**
 * A local iMIS REST API on node:http, close to the real one as far as docs/imis-api.md allows: tokens,
 * Party, Activity, panel sources and their definitions, Event, IQA queries and the document picker,
 * change notifications sent to a verified endpoint (Event Grid style), and CSI's iUpdate task
 * webhooks. Used by the examples and by tests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { documentSummaryRoute, queryDefinitionRoute } from './documents.js';
import { entityRoute } from './entities.js';
import { HttpError, notFound, ValidationError } from './errors.js';
import { eventRoute } from './events.js';
import type { ApiRequest, Reply } from './http.js';
import { iqaRoute } from './iqa.js';
import { taskError, taskRoute } from './iupdate.js';
import { boEntityDefinitionRoute, panelDefinitionSummaryRoute } from './metadata.js';
import { changeNotificationSettingsRoute, eventGridRoute } from './notifications.js';
import { partyRoute } from './party.js';
import { EmulatorState, type FaultSpec } from './state.js';
import { authenticate, tokenRoute } from './token.js';
import { validateResults } from './wire.js';

export interface EmulatorOptions {
  /** 0 = a random free port (default 0). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 1199, the value iMIS is observed to send (docs/imis-api.md §1.2). */
  tokenTtlSeconds?: number;
  /** Default [{ username: 'MANAGER', password: 'manager' }]. */
  users?: { username: string; password: string }[];
  /** Status of a POST /api/<entity> create, default 201 (docs/imis-api.md §2.2). */
  createdStatus?: 200 | 201;
  /** Answer Ordinal/SEQN = 0 to multi-instance panel POSTs, as iMIS does (docs/imis-api.md §2.2), default false. */
  zeroOrdinalBug?: boolean;
}

export interface Emulator {
  /** Base URL, e.g. `http://127.0.0.1:5080` (the site root: `/token`, `/api/...`). */
  url: string;
  port: number;
  state: EmulatorState;
  close(): Promise<void>;
}

export const DEFAULT_USERS = [{ username: 'MANAGER', password: 'manager' }];

/** Request bodies above this size are refused with 413. */
const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size <= MAX_BODY_BYTES) chunks.push(buffer);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks);
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = { ...reply.headers };
  let payload = '';
  if (typeof reply.body === 'string') {
    payload = reply.body;
    headers['Content-Type'] = 'text/plain; charset=utf-8';
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['Content-Type'] = 'application/json; charset=utf-8';
  }
  headers['Content-Length'] = Buffer.byteLength(payload);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** Every error body is JSON (docs/imis-api.md §1.3): ValidateResultsData for 400s, `{ Message }` otherwise. */
function errorReply(error: unknown): Reply {
  if (error instanceof ValidationError) return { status: 400, body: validateResults(error.issues) };
  if (error instanceof HttpError)
    return { status: error.status, body: { Message: error.message }, headers: error.headers };
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { Message: 'An error has occurred.', ExceptionMessage: message } };
}

function faultReply(fault: FaultSpec): Reply {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers['Retry-After'] = fault.retryAfter;
  return {
    status: fault.status,
    headers,
    body: fault.body ?? { Message: `Injected fault: ${fault.status}` },
  };
}

function parseJsonBody(req: IncomingMessage, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const contentType = req.headers['content-type'];
  if (contentType !== undefined && !/json/i.test(contentType)) {
    // Web API's answer to a media type it has no formatter for.
    throw new HttpError(
      415,
      `The request entity's media type '${contentType.split(';')[0]}' is not supported for this resource.`,
    );
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new ValidationError([
      { message: `The request body is not valid JSON: ${(error as Error).message}` },
    ]);
  }
}

/** CSI's iUpdate webhooks (no bearer token: the task GUID is the secret); errors in their JSON shape. */
function iupdateRoute(
  state: EmulatorState,
  req: IncomingMessage,
  method: string,
  segments: string[],
  raw: Buffer,
): Reply {
  let body: unknown;
  try {
    body = method === 'POST' ? parseJsonBody(req, raw) : undefined;
  } catch (error) {
    const status = error instanceof HttpError ? error.status : 400;
    return taskError(status, error instanceof Error ? error.message : String(error));
  }
  return taskRoute(state.iupdate, { method, segments, body });
}

async function route(
  state: EmulatorState,
  req: IncomingMessage,
  url: URL,
  raw: Buffer,
  baseUrl: string,
): Promise<Reply> {
  const method = (req.method ?? 'GET').toUpperCase();
  const segments = url.pathname.split('/').filter((segment) => segment !== '');
  const root = segments[0]?.toLowerCase();
  // `/token` in V2_1, `/Token` in the Cloud collection (docs/imis-api.md §1.1).
  if (root === 'token' && segments.length === 1) return tokenRoute(state, method, raw.toString('utf8'));
  if (root === 'task') return iupdateRoute(state, req, method, segments.slice(1), raw);
  // The validationUrl of change notifications' asynchronous handshake (docs/imis-api.md §5).
  if (root === 'eventgrid') return eventGridRoute(state, method, segments.slice(1), url.searchParams);
  if (root !== 'api')
    throw notFound(`No HTTP resource was found that matches the request URI '${url.pathname}'.`);

  authenticate(state, req.headers.authorization);
  const [entity, id, ...rest] = segments.slice(1);
  if (entity === undefined || rest.length > 0) {
    throw notFound(`No HTTP resource was found that matches the request URI '${url.pathname}'.`);
  }
  const request: ApiRequest = {
    method,
    query: url.searchParams,
    body: method === 'POST' || method === 'PUT' ? parseJsonBody(req, raw) : undefined,
    baseUrl,
  };
  if (id !== undefined) request.id = id;
  switch (entity.toLowerCase()) {
    case 'party':
      return partyRoute(state, request);
    case 'boentitydefinition':
      return boEntityDefinitionRoute(state, request);
    case 'paneldefinitionsummary':
      return panelDefinitionSummaryRoute(state, request);
    case 'event':
      return eventRoute(state, request);
    case 'iqa':
      return iqaRoute(state, request, 'iqa');
    case 'query':
      return iqaRoute(state, request, 'query');
    case 'documentsummary':
      return documentSummaryRoute(state, request);
    case 'querydefinition':
      return queryDefinitionRoute(state, request);
    case 'changenotificationsettings':
      return changeNotificationSettingsRoute(state, request);
  }
  const def = state.definition(entity);
  if (def === undefined) throw notFound(`The entity type ${entity} is not known to this iMIS`);
  return entityRoute(state, def, request);
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? '127.0.0.1';
  const state = new EmulatorState({
    tokenTtlSeconds: opts.tokenTtlSeconds ?? 1199,
    users: (opts.users ?? DEFAULT_USERS).map((user) => ({ ...user })),
    createdStatus: opts.createdStatus ?? 201,
    zeroOrdinalBug: opts.zeroOrdinalBug ?? false,
  });
  let port = opts.port ?? 0;
  const timers = new Set<NodeJS.Timeout>();
  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const entry = state.logRequest(method, url.pathname, url.search);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    try {
      const raw = await readBody(req);
      // Injected faults come first, so that retries of /token and /api alike can be tested.
      const fault = state.takeFault(method, url.pathname);
      if (fault !== undefined) {
        if (fault.delayMs !== undefined && fault.delayMs > 0) await wait(fault.delayMs);
        if (fault.dropConnection === true) {
          req.socket.destroy();
          return;
        }
        if (fault.status !== 0) {
          send(res, faultReply(fault));
          return;
        }
      }
      if (raw === undefined) {
        send(res, {
          status: 413,
          body: { Message: 'The request body is too large.' },
          headers: { Connection: 'close' },
        });
        return;
      }
      send(res, await route(state, req, url, raw, `http://${req.headers.host ?? `${host}:${port}`}`));
    } catch (error) {
      send(res, errorReply(error));
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const url = `http://${hostInUrl}:${port}`;
  state.setBaseUrl(url);
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    state,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        // Pending change notifications and their retries end with the emulator.
        state.notifications.close();
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
