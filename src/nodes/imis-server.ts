import { ImisClient } from '../imis/client.js';
import { listPanels } from '../imis/panels.js';
import { ACTIVITY_FIELDS, listActivityTypes } from '../imis/activity.js';
import { todayIn } from '../core/dates.js';
import { mountOnce } from './lib/http/routes.js';
import { registerType } from './lib/red.js';
import type { ImisServerNode, NodeDef, NodeModule } from './lib/red.js';
import { clientOptions, dialogRoute, serverConfig } from './lib/server-settings.js';

const register: NodeModule = (RED) => {
  function ServerNode(this: ImisServerNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const config = serverConfig.read(def);
    this.config = config;
    this.client = new ImisClient(clientOptions(config, this.credentials));
    this.today = () => todayIn(config.timeZone);
  }
  registerType(RED, 'imis-server', ServerNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
    settings: serverConfig.settings(),
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

  mountOnce(RED.httpAdmin, 'get', '/imis/activity-fields', read, (_req, res) => {
    res.json(ACTIVITY_FIELDS);
  });
};

export = register;
