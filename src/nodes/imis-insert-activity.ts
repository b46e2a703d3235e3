import { ACTIVITY_FIELDS, KEY_FIELDS, findActivity, insertActivity } from '../imis/activity.js';
import { InputError } from '../core/errors.js';
import { convertLegacy } from '../core/templates.js';
import {
  fieldRenderer,
  insertOnce,
  noServer,
  onAction,
  onErrorOf,
  requireServer,
  withDedupKey,
  withOnError,
} from './lib/action.js';
import { mountOnce } from './lib/http/routes.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { Node, NodeDef, NodeModule } from './lib/red.js';
import { fromConfig } from './lib/status.js';

interface InsertActivityConfig {
  name?: string;
  server: string;
  fields: Record<string, string>;
  outputProp: string;
  /** Failure policy (src/nodes/lib/action.ts): fail, continue or succeed. */
  onError: string;
  /** De-duplication key template ('' = none): an insert whose key already succeeded is skipped. */
  dedupKey: string;
  /** The activity field (a KEY_FIELDS key) the key is written into, to look it up after a crash ('' = none). */
  dedupField: string;
}

const config = new NodeConfig<InsertActivityConfig>(
  'imis-insert-activity',
  [
    (c) => ({
      fields: { partyId: '{{ input.memberId }}', activityType: '', transactionDate: '' },
      outputProp: 'activity',
      ...c,
    }),
    withOnError,
    withDedupKey,
  ],
  ['outputProp'],
);

const register: NodeModule = (RED) => {
  function InsertActivityNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const settings = config.read(def);
    const { server: serverId, fields, onError, dedupField } = settings;
    const server = requireServer(RED, node, serverId);
    const labels = Object.fromEntries(ACTIVITY_FIELDS.map((f) => [f.key, f.label]));
    const known = new Set(ACTIVITY_FIELDS.map((f) => f.key));
    const used = Object.fromEntries(Object.entries(fields).filter(([k, v]) => known.has(k) && v));
    const prepared = fromConfig(node, RED._('imis-insert-activity.status.invalid'), () => {
      if (dedupField && !KEY_FIELDS.some((f) => f.key === dedupField))
        throw new InputError(RED._('imis-insert-activity.errors.key-field', { field: dedupField }));
      return { render: fieldRenderer(used, labels), once: insertOnce(RED, node, settings) };
    });
    if (!prepared) return;
    const { render, once } = prepared;
    onAction(RED, node, onErrorOf(onError), async (msg) => {
      if (!server) throw noServer(RED);
      const values = render(msg);
      const insert = async (key: string | undefined) => {
        const created = await insertActivity(
          server.client,
          key && dedupField ? { ...values, [dedupField]: key } : values,
          { today: server.today(), timeZone: server.config.timeZone || undefined },
        );
        return created.record;
      };
      return once(msg, insert, (key) => findActivity(server.client, values.partyId ?? '', dedupField, key));
    });
  }
  registerType(RED, 'imis-insert-activity', InsertActivityNode, { settings: config.settings() });

  // The editor's "Convert" of legacy $$name$$ templates uses the runtime's own converter.
  const write = RED.auth.needsPermission('imis-insert-activity.write');
  mountOnce(RED.httpAdmin, 'post', '/imis/templates/convert', write, (req, res) => {
    res.json({ source: convertLegacy(String(req.body?.source ?? '')) });
  });
};

export = register;
