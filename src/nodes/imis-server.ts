import { ImisClient } from '../imis/client.js';
import { listPanels } from '../imis/panels.js';
import { ACTIVITY_FIELDS, listActivityTypes } from '../imis/activity.js';
import { mountOnce } from './lib/http.js';
import { migrate } from './lib/migrations.js';
import { clientOptions, dialogRoute, serverMigrations } from './lib/server-settings.js';
import type { ServerConfig } from './lib/server-settings.js';
import { todayIn } from '../engine/dates.js';

export = function register(RED: any): void {
  function ImisServerNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const config = migrate<ServerConfig>(raw, serverMigrations);
    this.config = config;
    this.client = new ImisClient(clientOptions(config, this.credentials ?? {}));
    this.today = () => todayIn(config.timeZone);
  }
  RED.nodes.registerType('imis-server', ImisServerNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });

  // The dialogs ask iMIS with the server settings they hold, deployed or not (lib/server-settings):
  // these routes may use a deployed password, so they need the write permission, like a deploy.
  const read = RED.auth.needsPermission('imis-server.read');
  const write = RED.auth.needsPermission('imis-server.write');
  // "Test connection" in the server's own dialog: its fields are the settings.
  mountOnce(
    RED.httpAdmin,
    'post',
    '/imis/server/test',
    write,
    dialogRoute(
      RED,
      (client) => client.testConnection(),
      (body) => body,
    ),
  );
  // Insert Panel Record's panel picker.
  mountOnce(
    RED.httpAdmin,
    'post',
    '/imis/server/panels',
    write,
    dialogRoute(RED, (client) => listPanels(client)),
  );
  // Insert Activity's Activity Type suggestions: the types the site's activities use.
  mountOnce(
    RED.httpAdmin,
    'post',
    '/imis/server/activity-types',
    write,
    dialogRoute(RED, (client) => listActivityTypes(client)),
  );

  mountOnce(RED.httpAdmin, 'get', '/imis/activity-fields', read, (_req: any, res: any) => {
    res.json(ACTIVITY_FIELDS);
  });
};
