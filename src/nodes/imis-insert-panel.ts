import { getPanel, insertPanelRow } from '../imis/panels.js';
import type { PanelInfo } from '../imis/panels.js';
import { fieldRenderer, noServer, onAction, onErrorOf, requireServer, withOnError } from './lib/action.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { Node, NodeDef, NodeModule } from './lib/red.js';
import { fromConfig } from './lib/status.js';

interface InsertPanelConfig {
  name?: string;
  server: string;
  panel: string;
  /** Template of the parent record's ID (the member ID for contact panels). */
  partyId: string;
  fields: Record<string, string>;
  outputProp: string;
  /** Failure policy (src/nodes/lib/action.ts): fail, continue or succeed. */
  onError: string;
}

const config = new NodeConfig<InsertPanelConfig>(
  'imis-insert-panel',
  [
    (c) => ({ panel: '', partyId: '{{ input.memberId }}', fields: {}, outputProp: 'panelRecord', ...c }),
    withOnError,
  ],
  ['outputProp'],
);

const register: NodeModule = (RED) => {
  function InsertPanelNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const { server: serverId, panel, partyId, fields, outputProp, onError } = config.read(def);
    const server = requireServer(RED, node, serverId);
    const used = Object.fromEntries(Object.entries(fields).filter(([, v]) => v));
    const render = fromConfig(node, RED._('imis-insert-panel.status.invalid'), () =>
      fieldRenderer({ ...used, '@id': partyId }, { '@id': 'ID' }),
    );
    if (!render) return;
    // The panel definition is loaded once (columns and types), then reused for every message.
    let definition: Promise<PanelInfo> | undefined;
    onAction(RED, node, onErrorOf(onError), async (msg) => {
      if (!server) throw noServer(RED);
      if (!panel) throw new Error(RED._('imis-insert-panel.errors.no-panel'));
      const loading = (definition = definition ?? getPanel(server.client, panel));
      const info = await loading.catch((err: Error) => {
        definition = undefined;
        throw err;
      });
      const { '@id': id, ...values } = render(msg);
      const created = await insertPanelRow(server.client, info, id ?? '', values, {
        timeZone: server.config.timeZone || undefined,
      });
      RED.util.setMessageProperty(msg, outputProp, created.record, true);
    });
  }
  registerType(RED, 'imis-insert-panel', InsertPanelNode, { settings: config.settings() });
};

export = register;
