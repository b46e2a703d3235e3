import { Server as TlsServer } from 'node:tls';
import type { HookRejection } from '../../core/ihook.js';
import { PROTECTION_DEFAULTS, Protection } from '../../core/protect/index.js';
import type { ProtectionSettings, Refusal, SignedDelivery } from '../../core/protect/index.js';
import { localUrl, postTestPayload } from '../../core/protect/test-payload.js';
import { formatRoot } from './http/claim.js';
import { mountOnce } from './http/routes.js';
import { readJsonBody } from './http/json-body.js';
import type { JsonBody } from './http/json-body.js';
import { protectMessage } from './messages.js';
import type { Migration } from './migrations.js';
import { hookEndpointNode } from './red.js';
import { clientAddress } from './rejections.js';
import type { HookEndpointNode, HookEndpointType, Red, Request } from './red.js';
import { fromConfig } from './status.js';

export type { ProtectionSettings } from '../../core/protect/index.js';

/*
 * Endpoint protections (src/core/protect) for the secret-URL nodes, Webhook in and change
 * notification in: the config fields and credentials they add, the checks made before any run
 * starts (each refusal is then recorded as any rejection, src/nodes/lib/rejections.ts), and the
 * editor's "Send test payload".
 * Their texts are in the imis-editor catalog (protectMessage), which the shared dialog rows use too.
 */

/** The config migration adding the protection fields, each off: existing flows keep the secret URL alone. */
export const addProtections: Migration = (config) => ({ ...PROTECTION_DEFAULTS, ...config });

/** The secret values, kept as credentials (never in the flow file, never sent to the editor). */
export const PROTECTION_CREDENTIALS = {
  headerSecret: { type: 'password' },
  signatureSecret: { type: 'password' },
} as const;

/** A body the protections let in; `delivery`: the id its sender signed with it (Standard Webhooks). */
export type GuardedBody =
  { ok: true; value: unknown; delivery?: SignedDelivery } | Extract<JsonBody, { ok: false }>;

export interface EndpointGuard {
  /** Names of the headers that carry the endpoint's secrets (never stored, whatever their names). */
  readonly secretHeaders: readonly string[];
  /**
   * Reads the JSON body of a request (readJsonBody) once the protections let it in: those that
   * need no body first (address, rate, shared secret, signature header), then the signature of the
   * body's exact bytes before they are parsed. A refusal is a rejection like a body's: the node
   * answers it with `node.reject` (src/nodes/lib/rejections.ts), which records it.
   */
  readBody(req: Request, limitBytes: number): Promise<GuardedBody>;
}

/**
 * The guard of `node` from its config and credentials. When a protection is on but cannot work (a
 * secret header without a value, a bad address, ...), reports it (error and status) and answers
 * undefined: the node must then not register its URL, which stays unknown (401) rather than
 * unprotected.
 */
export function endpointGuard(
  RED: Red,
  node: HookEndpointNode,
  config: ProtectionSettings,
): EndpointGuard | undefined {
  const { headerSecret, signatureSecret } = node.credentials;
  const protection = fromConfig(
    node,
    protectMessage(RED, 'status.invalid'),
    () => new Protection(config, { headerSecret, signatureSecret }),
    (err) => protectMessage(RED, 'errors.config', { message: err.message }),
  );
  if (!protection) return undefined;
  node.protection = protection;
  const refuse = (refusal: Refusal): HookRejection => ({ kind: 'refused', refusal });

  return {
    secretHeaders: protection.secretHeaderNames,
    readBody: async (req, limitBytes) => {
      if (!protection.active) return readJsonBody(req, limitBytes);
      // The address costs a parse of X-Forwarded-For: read only for an allowlist.
      const address = protection.checksAddress ? clientAddress(req) : undefined;
      const admission = protection.admit({ address, headers: req.headers });
      if (!admission.ok) {
        req.resume();
        return { ok: false, rejection: refuse(admission.refusal) };
      }
      const { verifyBody: verify, delivery } = admission;
      if (!verify) return readJsonBody(req, limitBytes);
      const body = await readJsonBody(req, limitBytes, verify);
      // The id is signed with the body: known once the body passed the check.
      return body.ok && delivery ? { ...body, delivery } : body;
    },
  };
}

/**
 * POST `/imis/<type>/:id/test` `{"payload": "<JSON text>"}` (editor, write permission): posts the
 * text to the deployed node's live URL through this server's own port, with the headers a sender
 * would add (shared secret, signature, timestamp; made here, so no secret reaches the browser),
 * and answers `{status, body, signed}` as the endpoint answered it. It goes through every
 * protection like any call: an allowlist without this machine's address answers 403.
 */
export function mountTestPayloadEndpoint(RED: Red, type: HookEndpointType): void {
  mountOnce(
    RED.httpAdmin,
    'post',
    `/imis/${type}/:id/test`,
    RED.auth.needsPermission(`${type}.write`),
    (req, res) => {
      const fail = (status: number, error: string) => void res.status(status).json({ error });
      const node = hookEndpointNode(RED, String(req.params.id), type);
      if (!node) return fail(404, protectMessage(RED, 'test.errors.not-deployed'));
      const payload: unknown = req.body?.payload;
      if (typeof payload !== 'string') return fail(400, protectMessage(RED, 'test.errors.no-payload'));
      const root = RED.settings.httpNodeRoot;
      const server = RED.server;
      const url =
        root === false || !server
          ? undefined
          : localUrl(server.address(), server instanceof TlsServer, formatRoot(root) + node.urlPath.slice(1));
      if (!url) return fail(409, protectMessage(RED, 'test.errors.no-route'));
      const body = Buffer.from(payload, 'utf8');
      const headers = {
        'Content-Type': 'application/json',
        'User-Agent': 'Node-RED iMIS test payload',
        ...node.protection?.senderHeaders(body),
      };
      postTestPayload(url, body, headers).then(
        (answer) => res.json({ ...answer, signed: Boolean(node.protection?.signs) }),
        (err: Error) => fail(502, protectMessage(RED, 'test.errors.failed', { message: err.message })),
      );
    },
  );
}
