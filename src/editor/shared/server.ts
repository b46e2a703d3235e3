// Asking iMIS with the server settings a dialog holds.
import type { DialogServer } from '../../nodes/lib/server-settings.js';
import { postJson } from './settings.js';

/**
 * The settings of the imis-server config node `id` as the editor holds them, deployed or not:
 * its base URL, and username and password when typed since the last deploy (the runtime fills
 * in the deployed ones, src/nodes/lib/server-settings.ts). Lets a dialog use a new server
 * configuration at once, as Node-RED's own config-backed dialogs post the unsaved config.
 */
export function serverSettings(id: unknown): DialogServer | null {
  const config =
    typeof id === 'string' && id && id !== '_ADD_'
      ? (RED.nodes.node(id) as unknown as {
          id: string;
          type: string;
          baseUrl?: string;
          credentials?: Record<string, string>;
        } | null)
      : null;
  if (!config || config.type !== 'imis-server') return null;
  const credentials = config.credentials ?? {};
  return {
    id: config.id,
    baseUrl: config.baseUrl,
    username: credentials.username,
    password: credentials.password,
  };
}

/**
 * POSTs `data` with the settings of the server `id` to the admin route `url`; a promise of the
 * JSON answer. No server chosen: fails at once with imis-server's "choose a server" message.
 */
export function askServer<T = unknown>(id: unknown, url: string, data?: object): JQuery.jqXHR<T> {
  const server = serverSettings(id);
  if (!server) {
    const type = RED.nodes.getType('imis-server') as unknown as { _: (key: string) => string };
    const refused = { responseJSON: { error: type._('imis-server.errors.no-settings') } };
    return $.Deferred().reject(refused).promise() as unknown as JQuery.jqXHR<T>;
  }
  return postJson<T>(url, { server, ...data });
}
