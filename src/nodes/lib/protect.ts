import { Server as TlsServer } from 'node:tls';
import { rejected, rejectionMessage } from '../../core/ihook.js';
import type { HookRejection } from '../../core/ihook.js';
import { PROTECTION_DEFAULTS, Protection } from '../../core/protect/index.js';
import type { ProtectionSettings, Refusal } from '../../core/protect/index.js';
import { localUrl, postTestPayload } from '../../core/protect/test-payload.js';
import { formatRoot, mountOnce } from './http.js';
import type { BodyCheck } from './http.js';

export type { ProtectionSettings } from '../../core/protect/index.js';

/*
 * Endpoint protections (src/core/protect) for the secret-URL nodes, Webhook in and change
 * notification in: the config fields and credentials they add, the checks made before any run
 * starts, counting and logging each refusal, and the editor's "Send test payload".
 * Messages are `<node type>.protect…` keys of each node's own catalog.
 */

/** Defaults of the protection fields (all off), added by each node's config migration. */
export const PROTECTION_FIELDS: ProtectionSettings = PROTECTION_DEFAULTS;

/** The secret values, kept as credentials (never in the flow file, never sent to the editor). */
export const PROTECTION_CREDENTIALS = {
  headerSecret: { type: 'password' },
  signatureSecret: { type: 'password' },
} as const;

/** At most one log line per refusal kind in this period; the ones in between are counted in the next. */
const LOG_EVERY_MS = 10_000;

export interface EndpointGuard {
  protection: Protection;
  /** Requests refused so far (shown in the node status). */
  readonly refused: number;
  /**
   * The checks before the body is read (address, rate, shared secret, signature header). A
   * refusal is counted and logged already: answer it with `rejected(rejection, options)`. `check`
   * goes to readJsonBody when the body's signature must be verified.
   */
  admit(req: any): { ok: true; check?: BodyCheck } | { ok: false; rejection: HookRejection };
}

/**
 * The guard of `node` from its config and credentials; `onRefused` is called on each refusal (to
 * update the status). When a protection is on but cannot work (a secret header without a value, a
 * bad address, ...), reports it (error and status) and answers undefined: the node must then not
 * register its URL, which stays unknown (401) rather than unprotected.
 */
export function endpointGuard(
  RED: any,
  node: any,
  config: ProtectionSettings,
  onRefused: () => void,
): EndpointGuard | undefined {
  const credentials = node.credentials ?? {};
  let protection: Protection;
  try {
    protection = new Protection(config, {
      headerSecret: credentials.headerSecret,
      signatureSecret: credentials.signatureSecret,
    });
  } catch (err) {
    node.error(RED._(`${node.type}.protect.errors.config`, { message: (err as Error).message }));
    node.status({ fill: 'red', shape: 'ring', text: RED._(`${node.type}.protect.status.invalid`) });
    return undefined;
  }
  let refused = 0;
  const lastLogged = new Map<Refusal['kind'], { at: number; skipped: number }>();

  const refuse = (refusal: Refusal, address: string | undefined): HookRejection => {
    const rejection: HookRejection = { kind: 'refused', refusal };
    refused++;
    onRefused();
    const now = Date.now();
    const last = lastLogged.get(refusal.kind);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.skipped++;
      return rejection;
    }
    const values = {
      address: address ?? '?',
      status: rejected(rejection).status,
      reason: rejectionMessage(rejection),
      count: last?.skipped ?? 0,
    };
    node.warn(RED._(`${node.type}.protect.log.${last?.skipped ? 'refused-more' : 'refused'}`, values));
    lastLogged.set(refusal.kind, { at: now, skipped: 0 });
    return rejection;
  };

  return {
    protection,
    get refused() {
      return refused;
    },
    admit(req: any) {
      if (!protection.active) return { ok: true };
      const address = clientAddress(req);
      const admission = protection.admit({ address, headers: req.headers });
      if (!admission.ok) return { ok: false, rejection: refuse(admission.refusal, address) };
      const verify = admission.verifyBody;
      if (!verify) return { ok: true };
      return {
        ok: true,
        check: (raw: Buffer | undefined) => {
          const refusal = verify(raw);
          if (refusal) refuse(refusal, address);
          return refusal;
        },
      };
    },
  };
}

/**
 * The client's address as Express tells it (`req.ip`): the socket's peer, or, when Node-RED's
 * `httpServerOptions: { 'trust proxy': ... }` trusts that peer, the nearest untrusted address of
 * X-Forwarded-For. Express compiles the setting on the apps Node-RED creates (the flows' app
 * inherits it when mounted), so X-Forwarded-For is ignored unless a proxy is trusted.
 */
function clientAddress(req: any): string | undefined {
  return req.ip ?? req.socket?.remoteAddress;
}

/**
 * POST `/imis/<type>/:id/test` `{"payload": "<JSON text>"}` (editor, write permission): posts the
 * text to the deployed node's live URL through this server's own port, with the headers a sender
 * would add (shared secret, signature, timestamp; made here, so no secret reaches the browser),
 * and answers `{status, body, signed}` as the endpoint answered it. It goes through every
 * protection like any call: an allowlist without this machine's address answers 403.
 */
export function mountTestPayloadEndpoint(RED: any, type: string): void {
  mountOnce(
    RED.httpAdmin,
    'post',
    `/imis/${type}/:id/test`,
    RED.auth.needsPermission(`${type}.write`),
    (req: any, res: any) => {
      const node = RED.nodes.getNode(req.params.id);
      const fail = (status: number, key: string, values?: Record<string, unknown>) =>
        res.status(status).json({ error: RED._(`${type}.protect.errors.${key}`, values) });
      if (!node || node.type !== type || !node.urlPath) return fail(404, 'not-deployed');
      const payload = req.body?.payload;
      if (typeof payload !== 'string') return fail(400, 'no-payload');
      const root = RED.settings?.httpNodeRoot;
      const server = RED.server;
      const url =
        root === false || !server
          ? undefined
          : localUrl(server.address(), server instanceof TlsServer, formatRoot(root) + node.urlPath.slice(1));
      if (!url) return fail(409, 'no-route');
      const body = Buffer.from(payload, 'utf8');
      const guard: EndpointGuard | undefined = node.guard;
      const headers = {
        'Content-Type': 'application/json',
        'User-Agent': 'Node-RED iMIS test payload',
        ...guard?.protection.senderHeaders(body),
      };
      postTestPayload(url, body, headers).then(
        (answer) => res.json({ ...answer, signed: Boolean(guard?.protection.signs) }),
        (err: Error) => fail(502, 'failed', { message: err.message }),
      );
    },
  );
}
