import { ACTIVITY_FIELDS, insertActivity } from '../imis/activity.js';
import { convertLegacy } from '../core/templates.js';
import {
  dedupedInserts,
  fieldRenderer,
  noServer,
  onAction,
  onErrorOf,
  requireServer,
  withDedupKey,
  withOnError,
} from './lib/action.js';
import { mountOnce } from './lib/http.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { InsertNode, Node, NodeDef, NodeModule } from './lib/red.js';
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
    const { server: serverId, fields, outputProp, onError, dedupKey } = config.read(def);
    const server = requireServer(RED, node, serverId);
    // Automatic retry re-runs a run through this node only when its inserts are de-duplicated.
    (node as InsertNode).deduplicated = dedupKey.trim() !== '';
    const labels = Object.fromEntries(ACTIVITY_FIELDS.map((f) => [f.key, f.label]));
    const known = new Set(ACTIVITY_FIELDS.map((f) => f.key));
    const used = Object.fromEntries(Object.entries(fields).filter(([k, v]) => known.has(k) && v));
    const prepared = fromConfig(node, RED._('imis-insert-activity.status.invalid'), () => ({
      render: fieldRenderer(used, labels),
      once: dedupedInserts(RED, node, dedupKey),
    }));
    if (!prepared) return;
    const { render, once } = prepared;
    onAction(RED, node, onErrorOf(onError), async (msg) => {
      if (!server) throw noServer(RED);
      const values = render(msg);
      const { result, skipped } = await once(msg, async () => {
        const created = await insertActivity(server.client, values, {
          today: server.today(),
          timeZone: server.config.timeZone || undefined,
        });
        return created.record;
      });
      RED.util.setMessageProperty(msg, outputProp, result, true);
      if (skipped)
        return RED._('imis-insert-activity.status.skipped', { time: new Date().toLocaleTimeString() });
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
