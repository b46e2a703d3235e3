import { isWellFormedToken, newUrlToken } from '../../core/tokens.js';
import type { TokenRegistry } from '../../core/tokens.js';
import { rejected } from '../../core/ihook.js';
import type { HookRejection } from '../../core/ihook.js';
import { HOOK_CORS, nodeRouteMiddleware } from './http/cors.js';
import { mountHookErrorHandler } from './http/errors.js';
import { mountOnce } from './http/routes.js';
import { sendHookResponse } from './http/hook-response.js';
import type {
  HookEndpointNode,
  HookEndpointType,
  Red,
  Request,
  Response,
  SecretEndpointTypes,
} from './red.js';
import { packageRuntime } from './package-runtime.js';
import { recordUnknownCall } from './rejections.js';

/** The deployed nodes of `type` with a secret URL, by token (kept by the package runtime). */
function registryFor<T extends keyof SecretEndpointTypes>(
  RED: Red,
  type: T,
): TokenRegistry<SecretEndpointTypes[T]> {
  return packageRuntime(RED).endpoints[type];
}

/**
 * Mounts the shared route `<base>:token` of a trigger endpoint type (once per app), behind
 * Node-RED's `httpNodeMiddleware` and CORS (`httpNodeCors`, else iHook's open CORS, which also
 * answers preflights), and the iHook answer to errors raised before it (mountHookErrorHandler).
 * Unknown tokens get 401 (503 while the flows start or stop), other methods than POST 405. Each
 * rejection is recorded (src/nodes/lib/rejections.ts): by its endpoint, or, for an unknown URL,
 * by the type, without the token; a 503 while the flows start is not a rejection.
 */
export function mountSecretEndpoints(RED: Red, type: HookEndpointType, base: string): void {
  // Created now, before the flows start: it follows their starting and stopping (flowsRunning).
  packageRuntime(RED);
  const reject = (req: Request, res: Response, rejection: HookRejection, node?: HookEndpointNode) => {
    if (node) return node.reject(req, res, rejection);
    if (rejection.kind !== 'starting') recordUnknownCall(RED, type, req, rejection);
    sendHookResponse(res, rejected(rejection));
  };
  mountOnce(RED.httpNode, 'all', `${base}:token`, ...nodeRouteMiddleware(RED, HOOK_CORS), (req, res) => {
    // A preflight the CORS settings pass on (`preflightContinue`).
    if (req.method === 'OPTIONS') return void res.status(204).end();
    const runtime = packageRuntime(RED);
    const node = runtime.endpoints[type].get(String(req.params.token ?? ''));
    if (!node) {
      req.resume();
      // While the flows (re)start, after a restart or a deploy, a URL is not known *yet*: a 401
      // would tell an iHook caller never to retry a webhook it should send again in a moment.
      return reject(req, res, { kind: runtime.flowsRunning ? 'unknown-url' : 'starting' });
    }
    if (req.method !== 'POST') {
      req.resume();
      return reject(req, res, { kind: 'method', method: req.method }, node);
    }
    node.handleRequest(req, res).catch((err: Error) => {
      node.error(err);
      if (!res.headersSent) reject(req, res, { kind: 'server', detail: err.message }, node);
    });
  });
  mountHookErrorHandler(RED, base, (req, res, rejection) =>
    reject(req, res, rejection, registryFor(RED, type).get(tokenIn(req.originalUrl ?? req.url ?? '', base))),
  );
}

/** The token of a URL `…<base><token>[?…]`, or '' (not there, or not decodable). */
function tokenIn(url: string, base: string): string {
  const path = url.split('?', 1)[0];
  const at = path.toLowerCase().lastIndexOf(base.toLowerCase());
  if (at < 0) return '';
  try {
    return decodeURIComponent(path.slice(at + base.length));
  } catch {
    return '';
  }
}

/**
 * Registers a node under its token credential. A node without a well-formed token (a flow written by
 * hand, or imported without credentials) gets a new one now, saved with the credentials at the next
 * deploy. Returns the token; the registration ends when the node closes.
 */
export function registerSecretEndpoint<T extends keyof SecretEndpointTypes>(
  RED: Red,
  type: T,
  node: SecretEndpointTypes[T],
  base: string,
): string {
  let token = node.credentials.token;
  if (!isWellFormedToken(token)) {
    token = newUrlToken();
    void RED.nodes.addCredentials(node.id, { ...node.credentials, token });
    node.warn(RED._(`${type}.warn.generated`));
  }
  node.urlPath = base + token;
  const registry = registryFor(RED, type);
  const registered = token;
  registry.set(registered, node);
  node.on('close', () => registry.delete(registered, node));
  return token;
}

/** The deployed node of `type` whose token is `token`, if any (constant-time comparison). */
export function findSecretEndpoint<T extends keyof SecretEndpointTypes>(
  RED: Red,
  type: T,
  token: string,
): SecretEndpointTypes[T] | undefined {
  return registryFor(RED, type).get(token);
}
