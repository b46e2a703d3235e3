import type { ServerResponse } from 'node:http';
import { rejected } from '../../engine/ihook.js';
import type { HookRejection, HookResponse } from '../../engine/ihook.js';
import { BodyTooLargeError, readBody } from '../../engine/secret-url.js';

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

const JSON_TYPES = new Set(['application/json', 'text/json']);

export type JsonBody = { ok: true; value: unknown } | { ok: false; rejection: HookRejection };

/**
 * Reads a webhook's JSON body. With Node-RED's default settings the editor and the flows share
 * the root path, so the admin app's body parser may already have consumed and parsed a JSON body
 * (`req._body`, body-parser's mark): use its result then, and read the stream otherwise.
 */
export async function readJsonBody(req: any, limitBytes: number): Promise<JsonBody> {
  if (req._body) {
    if (Number(req.headers['content-length']) > limitBytes)
      return { ok: false, rejection: { kind: 'too-large', limitBytes } };
    const mediaType = mediaTypeOf(req.headers['content-type']);
    if (!JSON_TYPES.has(mediaType)) {
      return { ok: false, rejection: { kind: 'content-type', contentType: mediaType || '(none)' } };
    }
    return { ok: true, value: req.body };
  }
  try {
    return parseJsonBody(req.headers['content-type'], await readBody(req, limitBytes));
  } catch (err) {
    if (err instanceof BodyTooLargeError) return { ok: false, rejection: { kind: 'too-large', limitBytes } };
    throw err;
  }
}

/**
 * Body-parser errors raised for our webhook paths by an upstream parser (the admin app's, see
 * readJsonBody) become iHook answers (400, 413) instead of Express's HTML error page.
 */
export function mountBodyErrorHandler(app: any, prefixes: string[]): void {
  mountOnce(
    app,
    'use',
    `body-errors ${prefixes.join(',')}`,
    (err: any, req: any, res: ServerResponse, next: (e?: unknown) => void) => {
      const path = String(req.originalUrl ?? req.url ?? '');
      if (!err || !prefixes.some((p) => path.includes(p))) return next(err);
      if (err.type === 'entity.too.large')
        return sendHookResponse(res, rejected({ kind: 'too-large', limitBytes: err.limit ?? 0 }));
      if (err.type === 'entity.parse.failed')
        return sendHookResponse(res, rejected({ kind: 'invalid-json', detail: err.message }));
      return next(err);
    },
  );
}

function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** Parses a webhook body: JSON (application/json or text/json) or no body at all (= {}). */
function parseJsonBody(contentType: string | undefined, raw: Buffer): JsonBody {
  if (raw.length === 0) return { ok: true, value: {} };
  const mediaType = mediaTypeOf(contentType);
  if (!JSON_TYPES.has(mediaType))
    return { ok: false, rejection: { kind: 'content-type', contentType: mediaType || '(none)' } };
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) };
  } catch (err) {
    return { ok: false, rejection: { kind: 'invalid-json', detail: (err as Error).message } };
  }
}
