import type { IncomingMessage, ServerResponse } from 'node:http';
import { json } from 'body-parser';
import { parse as parseContentType } from 'content-type';
import { rejected } from '../../core/ihook.js';
import type { HookRejection, HookResponse } from '../../core/ihook.js';
import type { Refusal } from '../../core/protect/index.js';

/** Express apps (RED.httpNode / RED.httpAdmin) on which a route was already mounted. */
const mounted = new WeakMap<object, Set<string>>();

/**
 * Mounts `handler` on `app` for `path` once per app: nodes come and go on each deploy, the route
 * stays and dispatches by token, so no Express internals need touching to remove a route.
 */
export function mountOnce(
  app: any,
  method: 'all' | 'get' | 'post' | 'use',
  path: string,
  ...handlers: ((...args: any[]) => void)[]
): void {
  const key = `${method} ${path}`;
  let paths = mounted.get(app);
  if (!paths) mounted.set(app, (paths = new Set()));
  if (paths.has(key)) return;
  paths.add(key);
  // 'use' mounts app-wide middleware (e.g. an error handler); `path` is then only its name.
  if (method === 'use') app.use(...handlers);
  else app[method](path, ...handlers);
}

export function sendHookResponse(res: ServerResponse, response: HookResponse, cors = true): void {
  const headers: Record<string, string> = { ...response.headers };
  if (cors) headers['Access-Control-Allow-Origin'] = '*';
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

/** CORS preflight for a webhook (iHook: "CORS is enabled"). */
export function sendPreflight(res: ServerResponse): void {
  res.writeHead(204, {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type',
    'Access-Control-Max-Age': '86400',
  });
  res.end();
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
export function claimRequestBodies(RED: any, prefix: string): void {
  const server = RED.server;
  const root = RED.settings?.httpNodeRoot;
  if (!server || typeof server.prependListener !== 'function' || root === false) return;
  const full = (formatRoot(root) + prefix.replace(/^\//, '')).toLowerCase();
  let prefixes = claimedPrefixes.get(server);
  if (!prefixes) {
    const list: string[] = [];
    claimedPrefixes.set(server, (prefixes = list));
    server.prependListener('request', (req: IncomingMessage & { _body?: boolean }) => {
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
 * app, which every error of a sub-app (the editor's, the flows') reaches.
 */
export function mountHookErrorHandler(RED: any, prefix: string): void {
  const app = outermostApp(RED.httpNode);
  if (!app) return;
  const needle = prefix.toLowerCase();
  mountOnce(
    app,
    'use',
    `hook-errors ${prefix}`,
    (err: any, req: any, res: any, next: (e?: unknown) => void) => {
      const path = String(req.originalUrl ?? req.url ?? '')
        .split('?', 1)[0]
        .toLowerCase();
      if (!path.includes(needle) || res.headersSent) return next(err);
      req.resume?.();
      sendHookResponse(res, rejected(rejectionFor(err, req)));
    },
  );
}

/** The app at the top of the mount chain (Express sets `parent` when an app is mounted). */
function outermostApp(app: any): any {
  let top = app;
  while (top?.parent) top = top.parent;
  return typeof top?.use === 'function' ? top : undefined;
}

const JSON_TYPES = new Set(['application/json', 'text/json']);

export type JsonBody = { ok: true; value: unknown } | { ok: false; rejection: HookRejection };

/**
 * Checks a body's exact bytes before it is parsed (an endpoint's signature): given undefined when
 * the bytes are gone (parsed upstream); a refusal refuses the request.
 */
export type BodyCheck = (raw: Buffer | undefined) => Refusal | undefined;

/** The body check of each request being read by a checking parser (body-parser calls `verify`). */
const bodyChecks = new WeakMap<object, BodyCheck>();

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
const parsers = new Map<string, ReturnType<typeof json>>();

function jsonParser(limitBytes: number, checked: boolean): ReturnType<typeof json> {
  const key = `${limitBytes}${checked ? ' checked' : ''}`;
  let parser = parsers.get(key);
  if (!parser) {
    // strict: false so that `"str"`, `42` or `null` parse and get the caller-facing "must be a
    // JSON object" answer from the node rather than a parser message.
    parser = json({
      limit: limitBytes,
      strict: false,
      type: () => true,
      verify: checked
        ? (req, _res, raw) => {
            const refusal = bodyChecks.get(req)?.(raw);
            if (refusal) throw new RefusedBody(refusal);
          }
        : undefined,
    });
    parsers.set(key, parser);
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
  req: any,
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
  if (check) bodyChecks.set(req, check);
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
function parsedUpstream(req: any, limitBytes: number, check: BodyCheck | undefined): JsonBody {
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
function rejectionFor(err: any, req: IncomingMessage): HookRejection {
  if (err instanceof RefusedBody) return { kind: 'refused', refusal: err.refusal };
  switch (err?.type) {
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
  if (err instanceof URIError) return { kind: 'unknown-url' };
  const encoding = contentEncodingOf(req);
  // A decompression error (zlib's, with no type): the body is not what its Content-Encoding says.
  if (encoding !== 'identity') return { kind: 'encoding-mismatch', encoding };
  const status = Number(err?.status ?? err?.statusCode);
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
