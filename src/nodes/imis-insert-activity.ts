import { ACTIVITY_FIELDS, insertActivity } from '../imis/activity.js';
import { convertLegacy } from '../engine/templates.js';
import { fieldRenderer, onAction, requireServer } from './lib/action.js';
import { mountOnce } from './lib/http.js';
import { migrate } from './lib/migrations.js';
import { serverMessage } from './lib/messages.js';

interface InsertActivityConfig {
  name?: string;
  server: string;
  fields: Record<string, string>;
  outputProp: string;
}

const migrations = [(c: Record<string, unknown>) => ({ fields: {}, outputProp: 'activity', ...c })];

export = function register(RED: any): void {
  function InsertActivityNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<InsertActivityConfig>(raw, migrations);
    const server = requireServer(RED, node, config.server);
    const labels = Object.fromEntries(ACTIVITY_FIELDS.map((f) => [f.key, f.label]));
    const known = new Set(ACTIVITY_FIELDS.map((f) => f.key));
    const fields = Object.fromEntries(
      Object.entries(config.fields ?? {}).filter(([k, v]) => known.has(k) && v),
    );
    let render: ReturnType<typeof fieldRenderer>;
    try {
      render = fieldRenderer(fields, labels);
    } catch (err) {
      node.error(err);
      node.status({ fill: 'red', shape: 'ring', text: RED._('imis-insert-activity.status.invalid') });
      return;
    }
    onAction(RED, node, 'imis-insert-activity', async (msg) => {
      if (!server) throw new Error(serverMessage(RED, 'errors.missing'));
      const values = render(msg);
      const created = await insertActivity(server.client, values, {
        today: server.today(),
        timeZone: server.config.timeZone || undefined,
      });
      RED.util.setMessageProperty(msg, config.outputProp || 'activity', created.record, true);
    });
  }
  RED.nodes.registerType('imis-insert-activity', InsertActivityNode);

  // The editor's "Convert" of legacy $$name$$ templates uses the runtime's own converter.
  const write = RED.auth.needsPermission('imis-insert-activity.write');
  mountOnce(RED.httpAdmin, 'post', '/imis/templates/convert', write, (req: any, res: any) => {
    res.json({ source: convertLegacy(String(req.body?.source ?? '')) });
  });
};
