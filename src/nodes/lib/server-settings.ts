import { ImisClient } from '../../imis/client.js';
import type { ImisClientOptions } from '../../imis/client.js';
import { ExpectedError } from '../../core/errors.js';
import { serverMessage } from './messages.js';
import { packageRuntime } from './package-runtime.js';
import { NodeConfig } from './migrations.js';
import { serverNode } from './red.js';
import type { Red, RequestHandler } from './red.js';

/** An imis-server configuration node's settings (credentials apart). */
export interface ServerConfig {
  name?: string;
  baseUrl: string;
  timeZone: string;
  maxInFlight: number;
  timeoutSec: number;
  retries: number;
}

export interface ServerCredentials {
  username?: string;
  password?: string;
}

export const serverConfig = new NodeConfig<ServerConfig>('imis-server', [
  (c) => ({ timeZone: '', maxInFlight: 8, timeoutSec: 30, retries: 3, ...c }),
]);

/** The iMIS client's options for a server's settings (read by serverConfig.read). */
export function clientOptions(config: ServerConfig, credentials: ServerCredentials): ImisClientOptions {
  return {
    baseUrl: config.baseUrl,
    username: credentials.username ?? '',
    password: credentials.password ?? '',
    maxInFlight: Math.max(1, config.maxInFlight),
    timeoutMs: Math.max(1, config.timeoutSec) * 1000,
    retries: Math.max(0, config.retries),
  };
}

/**
 * What the editor sends for the server chosen in a dialog, deployed or not (src/editor/shared/server.ts); as
 * sent, so each field is checked before use.
 */
export interface DialogServer {
  /** The config node's id: its deployed credentials fill what the dialog does not send. */
  id?: unknown;
  baseUrl?: unknown;
  username?: unknown;
  /** Absent, empty or Node-RED's `__PWRD__` placeholder: the deployed password. */
  password?: unknown;
}

/** A dialog asked about a server without naming its base URL (none chosen, or a bad request). */
export class NoServerSettingsError extends ExpectedError {
  override readonly name = 'NoServerSettingsError';
  readonly status = 400;
}

const typed = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' && value !== '__PWRD__' ? value : undefined;

/** How long a client for unsaved settings is kept, so that one dialog signs in once, not per request. */
const KEEP_MS = 5 * 60_000;

/**
 * The iMIS client for the server settings a dialog holds, so that the editor works with a server
 * configuration before its first deploy (as Node-RED's own config-backed dialogs post the unsaved
 * config): the typed base URL, username and password, else the deployed node's credentials. The
 * deployed node's own client when the dialog holds exactly what is deployed.
 */
function dialogClient(RED: Red, settings: DialogServer | undefined, missing: string): ImisClient {
  const s: DialogServer = settings ?? {};
  const baseUrl = typeof s.baseUrl === 'string' ? s.baseUrl.trim() : '';
  if (!baseUrl) throw new NoServerSettingsError(missing);
  const id = typeof s.id === 'string' && s.id ? s.id : undefined;
  const deployed = serverNode(RED, id);
  const username = typed(s.username);
  const password = typed(s.password);
  // Credentials of a server config node deployed (or saved, for a node of the deployed flows).
  const stored: ServerCredentials = deployed?.credentials ?? (id ? storedCredentials(RED, id) : {});
  const credentials = { username: username ?? stored.username, password: password ?? stored.password };
  // No user to sign in as: say so, rather than ask iMIS for a token as "".
  if (!credentials.username || !credentials.password)
    throw new NoServerSettingsError(serverMessage(RED, 'errors.no-credentials'));
  if (deployed && deployed.config.baseUrl === baseUrl && !username && !password) {
    return deployed.client;
  }
  const key = JSON.stringify([id, baseUrl, credentials.username, credentials.password]);
  const now = Date.now();
  const recent = packageRuntime(RED).dialogClients;
  for (const [k, v] of recent) if (v.until < now) recent.delete(k);
  const kept = recent.get(key);
  if (kept) return kept.client;
  const config = serverConfig.read({ baseUrl, timeoutSec: 15, retries: 0 });
  const client = new ImisClient(clientOptions(config, credentials));
  recent.set(key, { client, until: now + KEEP_MS });
  return client;
}

/**
 * An admin route answering a dialog about its server: `answer` gets the client for the settings
 * the request carries (`settingsOf(body)`, by default `body.server`); errors become JSON, 400 for
 * what the dialog can fix, else 502.
 */
export function dialogRoute(
  RED: Red,
  answer: (client: ImisClient, body: DialogBody) => Promise<unknown>,
  settingsOf: (body: DialogBody) => unknown = (body) => body.server,
): RequestHandler {
  return (req, res) => {
    const body: DialogBody = isObject(req.body) ? req.body : {};
    const asked = async () => {
      const client = dialogClient(
        RED,
        dialogServer(settingsOf(body)),
        serverMessage(RED, 'errors.no-settings'),
      );
      return answer(client, body);
    };
    asked().then(
      (answered) => res.json(answered),
      (err: unknown) => {
        const status = isObject(err) && typeof err.status === 'number' ? err.status : 500;
        const message = err instanceof Error ? err.message : String(err);
        res.status(status < 500 ? 400 : 502).json({ ok: false, error: message });
      },
    );
  };
}

/** A dialog's request body: what the dialog sends (its server settings, the query asked about). */
export type DialogBody = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dialogServer(value: unknown): DialogServer | undefined {
  return isObject(value) ? value : undefined;
}

/** The saved credentials of node `id` (Node-RED keeps those of every node of the deployed flows). */
function storedCredentials(RED: Red, id: string): ServerCredentials {
  const credentials: unknown = RED.nodes.getCredentials(id);
  return isObject(credentials) ? credentials : {};
}
