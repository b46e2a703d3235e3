import { ImisClient } from '../imis/client.js';
import type { ImisClientOptions } from '../imis/client.js';
import { listPanels } from '../imis/panels.js';
import { ACTIVITY_FIELDS } from '../imis/activity.js';
import { mountOnce } from './lib/http.js';
import { migrate } from './lib/migrations.js';
import { todayIn } from '../engine/dates.js';

interface ServerConfig {
  name?: string;
  baseUrl: string;
  timeZone: string;
  maxInFlight: number;
  timeoutSec: number;
  retries: number;
}

const migrations = [
  (c: Record<string, unknown>) => ({ timeZone: '', maxInFlight: 8, timeoutSec: 30, retries: 3, ...c }),
];

function clientOptions(
  config: ServerConfig,
  credentials: { username?: string; password?: string },
): ImisClientOptions {
  return {
    baseUrl: config.baseUrl,
    username: credentials.username ?? '',
    password: credentials.password ?? '',
    maxInFlight: Number(config.maxInFlight) || 8,
    timeoutMs: (Number(config.timeoutSec) || 30) * 1000,
    retries: Number.isFinite(Number(config.retries)) ? Number(config.retries) : 3,
  };
}

export = function register(RED: any): void {
  function ImisServerNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const config = migrate<ServerConfig>(raw, migrations);
    this.config = config;
    this.client = new ImisClient(clientOptions(config, this.credentials ?? {}));
    this.today = () => todayIn(config.timeZone);
  }
  RED.nodes.registerType('imis-server', ImisServerNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });

  const read = RED.auth.needsPermission('imis-server.read');
  const write = RED.auth.needsPermission('imis-server.write');
  const fail = (res: any, err: any) => {
    res
      .status(err?.status && err.status < 500 ? 400 : 502)
      .json({ ok: false, error: err?.message ?? String(err) });
  };

  // "Test connection" in the editor: uses what the dialog holds, falling back to the deployed
  // node's stored password when the dialog shows the placeholder.
  mountOnce(RED.httpAdmin, 'post', '/imis/server/test', write, async (req: any, res: any) => {
    const body = req.body ?? {};
    const deployed = body.id ? RED.nodes.getNode(body.id) : null;
    const stored = deployed?.credentials ?? RED.nodes.getCredentials?.(body.id) ?? {};
    const password = body.password && body.password !== '__PWRD__' ? body.password : stored.password;
    const config = migrate<ServerConfig>({ baseUrl: body.baseUrl, timeoutSec: 15, retries: 0 }, migrations);
    try {
      const client = new ImisClient(
        clientOptions(config, { username: body.username || stored.username, password }),
      );
      res.json(await client.testConnection());
    } catch (err) {
      fail(res, err);
    }
  });

  mountOnce(RED.httpAdmin, 'get', '/imis/server/:id/panels', read, async (req: any, res: any) => {
    const server = RED.nodes.getNode(req.params.id);
    if (!server?.client) {
      res.status(404).json({ ok: false, error: RED._('imis-server.errors.not-deployed') });
      return;
    }
    try {
      res.json(await listPanels(server.client));
    } catch (err) {
      fail(res, err);
    }
  });

  mountOnce(RED.httpAdmin, 'get', '/imis/activity-fields', read, (_req: any, res: any) => {
    res.json(ACTIVITY_FIELDS);
  });
};
