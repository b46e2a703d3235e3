import { TokenRegistry, isWellFormedToken, newUrlToken } from '../../core/tokens.js';
import { mountOnce, sendHookResponse, sendPreflight } from './http.js';
import { rejected } from '../../core/ihook.js';

/** A node reachable at `<base><token>`; the token is its `token` credential. */
export interface EndpointNode {
  type: string;
  urlPath: string;
  handleRequest(req: any, res: any): Promise<void>;
  error(err: unknown): void;
}

const registries = new Map<string, TokenRegistry<EndpointNode>>();

/**
 * Mounts the shared route `<base>:token` for one node type (once per app), and the editor's
 * admin endpoint that tells a deployed node's URL path. Unknown tokens get 401 (503 while the
 * flows start or stop), OPTIONS a CORS preflight, other methods than POST 405.
 */
export function mountSecretEndpoints(RED: any, type: string, base: string): void {
  const registry = registryFor(type);
  const running = flowsRunning(RED);
  mountOnce(RED.httpNode, 'all', `${base}:token`, (req: any, res: any) => {
    if (req.method === 'OPTIONS') return sendPreflight(res);
    const node = registry.get(String(req.params.token ?? ''));
    if (!node) {
      req.resume();
      // While the flows (re)start, after a restart or a deploy, a URL is not known *yet*: a 401
      // would tell an iHook caller never to retry a webhook it should send again in a moment.
      return sendHookResponse(res, rejected({ kind: running() ? 'unknown-url' : 'starting' }));
    }
    if (req.method !== 'POST') {
      req.resume();
      return sendHookResponse(res, rejected({ kind: 'method', method: req.method }));
    }
    node.handleRequest(req, res).catch((err: Error) => {
      node.error(err);
      if (!res.headersSent) sendHookResponse(res, rejected({ kind: 'server', detail: err.message }));
    });
  });
  mountOnce(
    RED.httpAdmin,
    'get',
    `/imis/${type}/:id/url`,
    RED.auth.needsPermission(`${type}.read`),
    (req: any, res: any) => {
      const node = RED.nodes.getNode(req.params.id);
      if (!node || node.type !== type) {
        res.status(404).json({ error: 'not deployed' });
        return;
      }
      res.json({ path: node.urlPath });
    },
  );
}

/**
 * Registers a node under its token credential. A node without a well-formed token (a flow written by
 * hand, or imported without credentials) gets a new one now, saved with the credentials at the next
 * deploy. Returns the token; the registration ends when the node closes.
 */
export function registerSecretEndpoint(RED: any, node: any, base: string): string {
  let token: string = node.credentials?.token;
  if (!isWellFormedToken(token)) {
    token = newUrlToken();
    RED.nodes.addCredentials(node.id, { ...(node.credentials ?? {}), token });
    node.warn(RED._(`${node.type}.warn.generated`));
  }
  node.urlPath = base + token;
  const registry = registryFor(node.type);
  registry.set(token, node);
  node.on('close', () => registry.delete(token, node));
  return token;
}

/** The deployed node of `type` whose token is `token`, if any (constant-time comparison). */
export function findSecretEndpoint(type: string, token: string): any {
  return registryFor(type).get(token);
}

const flowStates = new WeakMap<object, { running: boolean }>();

/**
 * Whether the runtime's flows are running, from its `flows:started` / `flows:stopping` events. The
 * package is loaded before the flows first start, so until then they are not running.
 */
function flowsRunning(RED: any): () => boolean {
  const events = RED.events;
  if (typeof events?.on !== 'function') return () => true;
  let state = flowStates.get(events);
  if (!state) {
    const tracked = { running: false };
    flowStates.set(events, (state = tracked));
    events.on('flows:started', () => (tracked.running = true));
    events.on('flows:stopping', () => (tracked.running = false));
  }
  const current = state;
  return () => current.running;
}

function registryFor(type: string): TokenRegistry<EndpointNode> {
  let registry = registries.get(type);
  if (!registry) registries.set(type, (registry = new TokenRegistry()));
  return registry;
}
