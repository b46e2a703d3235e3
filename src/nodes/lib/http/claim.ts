import type { IncomingMessage, Server } from 'node:http';
import type { Red } from '../red.js';

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
 * same mark). Our route then reads the raw stream itself (charset, Content-Encoding, the node's
 * byte limit on what actually arrives, chunked or not: json-body.ts) and maps each failure to
 * iHook's JSON answer (errors.ts). No Express internals are touched (HTTP
 * In, for its raw bodies, moves a middleware to the top of the root app's router stack instead,
 * which breaks when Express changes).
 *
 * Two safety nets for set-ups the claim cannot see (Node-RED embedded in an app that serves the
 * flows elsewhere than `httpNodeRoot`, or that parses bodies in its own server): a body already
 * parsed upstream is checked against the limit by its size once serialised (a lower bound of what
 * was sent; json-body.ts), and an error handler at the end of the outermost Express app answers
 * any error on our paths (an upstream parser's, a malformed `%` escape in the token) with iHook's
 * JSON (errors.ts).
 *
 * The listener and the requests it marked belong to the HTTP server (kept beside it, keyed by it),
 * not to the package runtime: the server outlives a package runtime and takes one listener only.
 */

/**
 * A request whose body a parser may have read: body-parser 1.x marks it `_body` and leaves the
 * value in `body` (the mark Node-RED's HTTP In node sets and reads too).
 */
export type ClaimableRequest = IncomingMessage & {
  _body?: boolean;
  body?: unknown;
  /** The exact body bytes, which some set-ups parsing upstream keep. */
  rawBody?: unknown;
};

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

/** Whether a parser in front of our route read the body of `req` (it was not claimed for us). */
export function parsedInFront(req: ClaimableRequest): boolean {
  return req.readableEnded || (req._body === true && !claimedRequests.has(req));
}

/** Node-RED's form of a root path: leading and trailing slash ("/" when unset). */
export function formatRoot(root: unknown): string {
  const path = typeof root === 'string' ? root : '/';
  return `/${path.replace(/^\/+|\/+$/g, '')}/`.replace(/^\/\/$/, '/');
}
