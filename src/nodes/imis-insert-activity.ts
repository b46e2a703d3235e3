import { ACTIVITY_FIELDS, KEY_FIELDS, findActivity, insertActivity } from '../imis/activity.js';
import { InputError } from '../core/errors.js';
import { convertLegacy } from '../core/templates.js';
import { fieldRenderer, insertConfig, runInsertNode, withKeyField } from './lib/action.js';
import type { InsertConfig } from './lib/action.js';
import { mountOnce } from './lib/http/routes.js';
import { registerType } from './lib/red.js';
import type { Node, NodeDef, NodeModule } from './lib/red.js';

// Its dedupField is an activity field (a KEY_FIELDS key).
const config = insertConfig<InsertConfig>('imis-insert-activity', (c) => ({
  fields: { partyId: '{{ input.memberId }}', activityType: '', transactionDate: '' },
  outputProp: 'activity',
  ...c,
}));

const register: NodeModule = (RED) => {
  function InsertActivityNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const settings = config.read(def);
    const { fields, dedupField } = settings;
    const labels = Object.fromEntries(ACTIVITY_FIELDS.map((f) => [f.key, f.label]));
    const known = new Set(ACTIVITY_FIELDS.map((f) => f.key));
    const used = Object.fromEntries(Object.entries(fields).filter(([k, v]) => known.has(k) && v));
    runInsertNode(RED, node, settings, () => {
      if (dedupField && !KEY_FIELDS.some((f) => f.key === dedupField))
        throw new InputError(RED._('imis-insert-activity.errors.key-field', { field: dedupField }));
      const render = fieldRenderer(used, labels);
      return async (msg, server) => {
        const values = render(msg);
        return {
          insert: async (key) => {
            const created = await insertActivity(server.client, withKeyField(values, dedupField, key), {
              today: server.today(),
              timeZone: server.config.timeZone || undefined,
            });
            return created.record;
          },
          find: (key) => findActivity(server.client, values.partyId ?? '', dedupField, key),
        };
      };
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
