import type { ServerResponse } from 'node:http';
import type { HookResponse } from '../../engine/ihook.js';

/** Express apps (RED.httpNode / RED.httpAdmin) on which a route was already mounted. */
const mounted = new WeakMap<object, Set<string>>();

/**
 * Mounts `handler` on `app` for `path` once per app: nodes come and go on each deploy, the route
 * stays and dispatches by token, so no Express internals need touching to remove a route.
 */
export function mountOnce(
  app: any,
  method: 'all' | 'get' | 'post',
  path: string,
  ...handlers: ((req: any, res: ServerResponse, next: () => void) => void)[]
): void {
  const key = `${method} ${path}`;
  let paths = mounted.get(app);
  if (!paths) mounted.set(app, (paths = new Set()));
  if (paths.has(key)) return;
  paths.add(key);
  app[method](path, ...handlers);
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

export type JsonBody =
  { ok: true; value: unknown } | { ok: false; reason: 'content-type' | 'invalid'; detail: string };

/** Parses a webhook body: JSON (application/json or text/json) or no body at all (= {}). */
export function parseJsonBody(contentType: string | undefined, raw: Buffer): JsonBody {
  if (raw.length === 0) return { ok: true, value: {} };
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (!JSON_TYPES.has(mediaType)) return { ok: false, reason: 'content-type', detail: mediaType || '(none)' };
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) };
  } catch (err) {
    return { ok: false, reason: 'invalid', detail: (err as Error).message };
  }
}
