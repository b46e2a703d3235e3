import { ImisClient } from '../../imis/client.js';
import type { ImisClientOptions } from '../../imis/client.js';
import { serverMessage } from './messages.js';
import { migrate } from './migrations.js';

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

export const serverMigrations = [
  (c: Record<string, unknown>) => ({ timeZone: '', maxInFlight: 8, timeoutSec: 30, retries: 3, ...c }),
];

export function clientOptions(config: ServerConfig, credentials: ServerCredentials): ImisClientOptions {
  return {
    baseUrl: config.baseUrl,
    username: credentials.username ?? '',
    password: credentials.password ?? '',
    maxInFlight: Number(config.maxInFlight) || 8,
    timeoutMs: (Number(config.timeoutSec) || 30) * 1000,
    retries: Number.isFinite(Number(config.retries)) ? Number(config.retries) : 3,
  };
}

/** What the editor sends for the server chosen in a dialog, deployed or not (imis-editor.html). */
export interface DialogServer {
  /** The config node's id: its deployed credentials fill what the dialog does not send. */
  id?: string;
  baseUrl?: string;
  username?: string;
  /** Absent, empty or Node-RED's `__PWRD__` placeholder: the deployed password. */
  password?: string;
}

/** A dialog asked about a server without naming its base URL (none chosen, or a bad request). */
export class NoServerSettingsError extends Error {
  override readonly name = 'NoServerSettingsError';
  readonly status = 400;
}

const typed = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' && value !== '__PWRD__' ? value : undefined;

/** Clients for unsaved settings, kept a few minutes so one dialog signs in once, not per request. */
const recent = new Map<string, { client: ImisClient; until: number }>();
const KEEP_MS = 5 * 60_000;

/**
 * The iMIS client for the server settings a dialog holds, so that the editor works with a server
 * configuration before its first deploy (as Node-RED's own config-backed dialogs post the unsaved
 * config): the typed base URL, username and password, else the deployed node's credentials. The
 * deployed node's own client when the dialog holds exactly what is deployed.
 */
function dialogClient(RED: any, settings: DialogServer | undefined, missing: string): ImisClient {
  const s: DialogServer = settings && typeof settings === 'object' ? settings : {};
  const baseUrl = typeof s.baseUrl === 'string' ? s.baseUrl.trim() : '';
  if (!baseUrl) throw new NoServerSettingsError(missing);
  const id = typeof s.id === 'string' && s.id ? s.id : undefined;
  const deployed = id ? RED.nodes.getNode(id) : null;
  const username = typed(s.username);
  const password = typed(s.password);
  if (deployed?.client && deployed.config?.baseUrl === baseUrl && !username && !password) {
    return deployed.client;
  }
  const stored: ServerCredentials = (id && (deployed?.credentials ?? RED.nodes.getCredentials?.(id))) || {};
  const credentials = { username: username ?? stored.username, password: password ?? stored.password };
  const key = JSON.stringify([id, baseUrl, credentials.username, credentials.password]);
  const now = Date.now();
  for (const [k, v] of recent) if (v.until < now) recent.delete(k);
  const kept = recent.get(key);
  if (kept) return kept.client;
  const config = migrate<ServerConfig>({ baseUrl, timeoutSec: 15, retries: 0 }, serverMigrations);
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
  RED: any,
  answer: (client: ImisClient, body: any) => Promise<unknown>,
  settingsOf: (body: any) => DialogServer | undefined = (body) => body?.server,
) {
  return async (req: any, res: any): Promise<void> => {
    const body = req.body ?? {};
    try {
      const client = dialogClient(RED, settingsOf(body), serverMessage(RED, 'errors.no-settings'));
      res.json(await answer(client, body));
    } catch (err: any) {
      res
        .status(err?.status && err.status < 500 ? 400 : 502)
        .json({ ok: false, error: err?.message ?? String(err) });
    }
  };
}
