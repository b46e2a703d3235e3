import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { json } from 'body-parser';
import { parse as parseContentType } from 'content-type';
import cors from 'cors';
import type { CorsOptions } from 'cors';
import type { ErrorRequestHandler, Express, Request, Response } from 'express';
import { rejected } from '../../core/ihook.js';
import type { HookRejection, HookResponse } from '../../core/ihook.js';
import { httpNodeMiddleware, outermostApp } from './red.js';
import type { Red, RequestHandler } from './red.js';
import type { Refusal } from '../../core/protect/index.js';

/** Express apps (RED.httpNode / RED.httpAdmin) on which a route was already mounted. */
const mounted = new WeakMap<object, Set<string>>();

function firstTime(app: Express, key: string): boolean {
  let keys = mounted.get(app);
  if (!keys) mounted.set(app, (keys = new Set()));
  if (keys.has(key)) return false;
  keys.add(key);
  return true;
}

/**
 * Mounts `handlers` on `app` for `method path` once per app: nodes come and go on each deploy, the
 * route stays and dispatches by token, so no Express internals need touching to remove a route.
 */
export function mountOnce(
  app: Express,
  method: 'all' | 'get' | 'post',
  path: string,
  ...handlers: RequestHandler[]
): void {
  if (firstTime(app, `${method} ${path}`)) app[method](path, ...handlers);
}

/** Mounts an app-wide error handler once per app and `name`. */
function useOnce(app: Express, name: string, handler: ErrorRequestHandler): void {
  if (firstTime(app, `use ${name}`)) app.use(handler);
}

/**
 * iHook's CORS, used when Node-RED's `httpNodeCors` is not set: any origin may POST JSON
 * (docs/idms.md: "CORS is enabled"), and a browser may cache the preflight for a day.
 */
export const HOOK_CORS: CorsOptions = {
  origin: '*',
  methods: ['POST', 'OPTIONS'],
  allowedHeaders: ['Content-Type'],
  maxAge: 86400,
};

/**
 * What runs before our handler on our routes under `RED.httpNode`, as on Node-RED's HTTP In
 * routes: the `httpNodeMiddleware` setting, then CORS as the `httpNodeCors` setting says (the
 * `cors` package, as Node-RED uses it; it answers preflights), else `fallbackCors` (none: no CORS
 * headers, as HTTP In without the setting).
 */
export function nodeRouteMiddleware(RED: Red, fallbackCors?: CorsOptions): RequestHandler[] {
  const withCors = nodeCors(RED, fallbackCors);
  return [...httpNodeMiddleware(RED), ...(withCors ? [withCors] : [])];
}

/** CORS by the `httpNodeCors` setting, else by `fallback` (none: no CORS headers). */
function nodeCors(RED: Red, fallback?: CorsOptions): RequestHandler | undefined {
  const options = RED.settings.httpNodeCors ?? fallback;
  return options ? cors(options) : undefined;
}

export function sendHookResponse(res: ServerResponse, response: HookResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  if (response.body === undefined) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(response.body);
  headers['Content-Type'] = 'application/json; charset=utf-8';
  headers['Content-Length'] = String(Buffer.byteLength(text));
  res.writeHead(response.status, headers);
  res.end(text);
}

/*
 * Who reads the body of a request to our endpoints.
 *
 * With Node-RED's default settings the editor (admin app) and the flows (node app) share the root
 * path, and the admin app comes first: its body parsers (body-parser 1.x, JSON and urlencoded, up
 * to `apiMaxLength`) would read a JSON request to `/imis/hook/<token>` before our route runs. That
 * parser knows nothing of a node's size limit (a chunked body has no Content-Length to check), and
 * its errors (invalid JSON, charset, Content-Encoding) bypass every app mounted after it and end in
 * Express's HTML error page, stack trace included.
 *
 * So the body is claimed for our route before Express sees the request: a listener prepended to
 * the HTTP server's 'request' event (RED.server, the server Node-RED routes; core's WebSocket nodes
 * listen on it too) marks requests below `<httpNodeRoot>imis/hook/` (resp. `imis/notify/`) with
 * the "body already read" mark of body-parser 1.x, `req._body`, which every such parser in front
 * of us honours by passing the request on untouched (Node-RED's HTTP In node sets and reads the
 * same mark). Our route then reads the raw stream itself with body-parser's JSON reader (charset,
 * Content-Encoding, the node's byte limit on what actually arrives, chunked or not) and maps each
 * failure to iHook's JSON answer. No Express internals are touched (HTTP In, for its raw bodies,
 * moves a middleware to the top of the root app's router stack instead, which breaks when Express
 * changes).
 *
 * Two safety nets for set-ups the claim cannot see (Node-RED embedded in an app that serves the
 * flows elsewhere than `httpNodeRoot`, or that parses bodies in its own server): a body already
 * parsed upstream is checked against the limit by its size once serialised (a lower bound of what
 * was sent), and an error handler at the end of the outermost Express app answers any error on our
 * paths (an upstream parser's, a malformed `%` escape in the token) with iHook's JSON.
 */

/** Requests whose body our route reads (claimed before Express saw them). */
const claimedRequests = new WeakSet<object>();
/** Claimed path prefixes (lower case, from the server root) per HTTP server. */
const claimedPrefixes = new WeakMap<object, string[]>();

/**
 * Claims the bodies of requests below `<httpNodeRoot><prefix>` (prefix like `/imis/hook/`) for
 * our route, so that no body parser in front of it reads them (see above). Once per server and
 * prefix.
 */
export function claimRequestBodies(RED: Red, prefix: string): void {
  // Absent until the runtime has its server (Node-RED embedded, or a test harness).
  const server: Server | undefined = RED.server;
  const root = RED.settings.httpNodeRoot;
  if (!server || typeof server.prependListener !== 'function' || root === false) return;
  const full = (formatRoot(root) + prefix.replace(/^\//, '')).toLowerCase();
  let prefixes = claimedPrefixes.get(server);
  if (!prefixes) {
    const list: string[] = [];
    claimedPrefixes.set(server, (prefixes = list));
    server.prependListener('request', (req: ClaimableRequest) => {
      // Express matches routes case-insensitively by default: so does the claim.
      const path = (req.url ?? '').split('?', 1)[0].toLowerCase();
      if (!list.some((p) => path.startsWith(p))) return;
      req._body = true;
      claimedRequests.add(req);
    });
  }
  if (!prefixes.includes(full)) prefixes.push(full);
}

/** Node-RED's form of a root path: leading and trailing slash ("/" when unset). */
export function formatRoot(root: unknown): string {
  const path = typeof root === 'string' ? root : '/';
  return `/${path.replace(/^\/+|\/+$/g, '')}/`.replace(/^\/\/$/, '/');
}

/**
 * Answers any error raised for a request to our endpoints with iHook's JSON instead of Express's
 * HTML page (stack trace and server paths included): mounted at the end of the outermost Express
 * app, which every error of a sub-app (the editor's, the flows') reaches. `answer` records and
 * sends the rejection (default: sends it).
 */
export function mountHookErrorHandler(
  RED: Red,
  prefix: string,
  answer: (req: Request, res: Response, rejection: HookRejection) => void = (_req, res, r) =>
    sendHookResponse(res, rejected(r)),
): void {
  const app = outermostApp(RED.httpNode);
  const needle = prefix.toLowerCase();
  const withCors = nodeCors(RED, HOOK_CORS);
  useOnce(app, `hook-errors ${prefix}`, (err: unknown, req: Request, res, next) => {
    const path = String(req.originalUrl ?? req.url ?? '')
      .split('?', 1)[0]
      .toLowerCase();
    if (!path.includes(needle) || res.headersSent) return next(err);
    req.resume();
    const send = () => answer(req, res, rejectionFor(err, req));
    if (withCors) withCors(req, res, send);
    else send();
  });
}

/**
 * A request whose body a parser may have read: body-parser 1.x marks it `_body` and leaves the
 * value in `body` (the mark Node-RED's HTTP In node sets and reads too).
 */
type ClaimableRequest = IncomingMessage & {
  _body?: boolean;
  body?: unknown;
  /** The exact body bytes, which some set-ups parsing upstream keep. */
  rawBody?: unknown;
  /** The body check of a request read by a checking parser (see jsonParser). */
  [BODY_CHECK]?: BodyCheck;
};

/** What the body readers (body-parser, raw-body, zlib) put on their errors. */
interface ReaderError {
  type?: unknown;
  limit?: unknown;
  message?: unknown;
  charset?: unknown;
  encoding?: unknown;
  status?: unknown;
  statusCode?: unknown;
}

const JSON_TYPES = new Set(['application/json', 'text/json']);

export type JsonBody = { ok: true; value: unknown } | { ok: false; rejection: HookRejection };

/**
 * Checks a body's exact bytes before it is parsed (an endpoint's signature): given undefined when
 * the bytes are gone (parsed upstream); a refusal refuses the request.
 */
export type BodyCheck = (raw: Buffer | undefined) => Refusal | undefined;

/** Where a request being read by a checking parser carries its check (body-parser calls `verify`). */
const BODY_CHECK = Symbol('imis body check');

/** Thrown from body-parser's `verify` hook; body-parser passes this very error on. */
class RefusedBody extends Error {
  constructor(readonly refusal: Refusal) {
    super('refused');
  }
}

/**
 * body-parser's JSON reader per byte limit, with and without a body check; the media type is
 * checked before (see readJsonBody). The checking one has body-parser keep the body's bytes as a
 * Buffer for its `verify` hook (the one it decodes from): no copy is made, and readers without a
 * check keep decoding straight to text.
 */
const parsers = {
  plain: new Map<number, ReturnType<typeof json>>(),
  checked: new Map<number, ReturnType<typeof json>>(),
};

function jsonParser(limitBytes: number, checked: boolean): ReturnType<typeof json> {
  const cache = checked ? parsers.checked : parsers.plain;
  let parser = cache.get(limitBytes);
  if (!parser) {
    // strict: false so that `"str"`, `42` or `null` parse and get the caller-facing "must be a
    // JSON object" answer from the node rather than a parser message.
    parser = json({
      limit: limitBytes,
      strict: false,
      type: () => true,
      verify: checked
        ? (req, _res, raw) => {
            const refusal = (req as ClaimableRequest)[BODY_CHECK]?.(raw);
            if (refusal) throw new RefusedBody(refusal);
          }
        : undefined,
    });
    cache.set(limitBytes, parser);
  }
  return parser;
}

/**
 * Reads a webhook's JSON body (application/json or text/json, UTF-8/16/32, optionally gzip,
 * deflate or br), or no body at all (= {}), refusing more than `limitBytes` of decoded body.
 * `check`, if given, judges the body's exact bytes (after Content-Encoding is undone, before the
 * charset is decoded) before they are parsed.
 */
export async function readJsonBody(
  req: ClaimableRequest,
  res: ServerResponse,
  limitBytes: number,
  check?: BodyCheck,
): Promise<JsonBody> {
  if (req.readableEnded || (req._body && !claimedRequests.has(req)))
    return parsedUpstream(req, limitBytes, check);
  const mediaType = mediaTypeOf(req);
  if (!JSON_TYPES.has(mediaType)) {
    if (declaresNoBody(req)) return checked({ ok: true, value: {} }, check, Buffer.alloc(0));
    req.resume();
    return { ok: false, rejection: { kind: 'content-type', contentType: mediaType || '(none)' } };
  }
  if (check) req[BODY_CHECK] = check;
  const error = await new Promise<unknown>((resolve) =>
    jsonParser(limitBytes, Boolean(check))(req, res, resolve),
  );
  if (error) return { ok: false, rejection: rejectionFor(error, req) };
  return { ok: true, value: req.body === undefined ? {} : req.body };
}

/** `body` unless `check` refuses `raw`. */
function checked(body: JsonBody, check: BodyCheck | undefined, raw: Buffer | undefined): JsonBody {
  const refusal = check?.(raw);
  return refusal ? { ok: false, rejection: { kind: 'refused', refusal } } : body;
}

/**
 * A body read by a parser in front of ours (only where the claim could not run, see above): its
 * media type and size are checked on what that parser left. The size is that of the value
 * serialised again, a lower bound of the bytes sent (whitespace is gone), so a body the node's
 * limit refuses is refused here too unless it was mostly whitespace.
 */
function parsedUpstream(req: ClaimableRequest, limitBytes: number, check: BodyCheck | undefined): JsonBody {
  const mediaType = mediaTypeOf(req);
  if (!JSON_TYPES.has(mediaType)) {
    if (declaresNoBody(req)) return checked({ ok: true, value: {} }, check, Buffer.alloc(0));
    return { ok: false, rejection: { kind: 'content-type', contentType: mediaType || '(none)' } };
  }
  if (check) {
    // The exact bytes survive only where the upstream parser kept them: a raw (Buffer) body, or the
    // `rawBody` Buffer some set-ups add. Text was decoded (and maybe re-encoded): not the bytes sent.
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.isBuffer(req.rawBody) ? req.rawBody : undefined;
    const refusal = check(raw);
    if (refusal) return { ok: false, rejection: { kind: 'refused', refusal } };
  }
  let value: unknown = req.body;
  if (Buffer.isBuffer(value) || typeof value === 'string') {
    const text = value.toString();
    if (Buffer.byteLength(text) > limitBytes)
      return { ok: false, rejection: { kind: 'too-large', limitBytes } };
    if (text.trim() === '') return { ok: true, value: {} };
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { ok: false, rejection: { kind: 'invalid-json', detail: (err as Error).message } };
    }
  }
  if (value === undefined) value = {};
  const declared = Number(req.headers['content-length']);
  if (declared > limitBytes || Buffer.byteLength(JSON.stringify(value) ?? '') > limitBytes) {
    return { ok: false, rejection: { kind: 'too-large', limitBytes } };
  }
  return { ok: true, value };
}

/** What a body reader's error (body-parser, raw-body, zlib, Express) means for the caller. */
function rejectionFor(thrown: unknown, req: IncomingMessage): HookRejection {
  if (thrown instanceof RefusedBody) return { kind: 'refused', refusal: thrown.refusal };
  const err: ReaderError = typeof thrown === 'object' && thrown !== null ? thrown : {};
  switch (err.type) {
    case 'entity.too.large':
      return { kind: 'too-large', limitBytes: Number(err.limit) || 0 };
    case 'entity.parse.failed':
      // The message of JSON.parse (what is wrong, and where), never a stack or a path.
      return { kind: 'invalid-json', detail: String(err.message) };
    case 'charset.unsupported':
      return { kind: 'charset', charset: String(err.charset ?? '').toUpperCase() };
    case 'encoding.unsupported':
      return { kind: 'content-encoding', encoding: String(err.encoding ?? contentEncodingOf(req)) };
    case 'request.aborted':
      return { kind: 'unreadable', reason: 'the connection closed before the body was complete' };
    case 'request.size.invalid':
      return { kind: 'unreadable', reason: 'its length does not match its Content-Length' };
  }
  // Express could not decode a `%` escape of the path: no token can match it.
  if (thrown instanceof URIError) return { kind: 'unknown-url' };
  const encoding = contentEncodingOf(req);
  // A decompression error (zlib's, with no type): the body is not what its Content-Encoding says.
  if (encoding !== 'identity') return { kind: 'encoding-mismatch', encoding };
  const status = Number(err.status ?? err.statusCode);
  if (status >= 400 && status < 500) return { kind: 'unreadable', reason: 'the request was malformed' };
  return { kind: 'server', detail: 'could not read the request' };
}

function mediaTypeOf(req: IncomingMessage): string {
  return parseContentType(req.headers['content-type'] ?? '', { parameters: false }).type;
}

function contentEncodingOf(req: IncomingMessage): string {
  return String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
}

/** No Content-Length (or 0) and no Transfer-Encoding: the request has no body to judge. */
function declaresNoBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || Number(length) === 0);
}
