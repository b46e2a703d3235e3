import { getPanel, insertPanelRow } from '../imis/panels.js';
import type { PanelInfo } from '../imis/panels.js';
import { fieldRenderer, onAction, requireServer } from './lib/action.js';
import { migrate } from './lib/migrations.js';
import { serverMessage } from './lib/messages.js';

interface InsertPanelConfig {
  name?: string;
  server: string;
  panel: string;
  /** Template of the parent record's ID (the member ID for contact panels). */
  partyId: string;
  fields: Record<string, string>;
  outputProp: string;
}

const migrations = [
  (c: Record<string, unknown>) => ({ panel: '', partyId: '', fields: {}, outputProp: 'panelRecord', ...c }),
];

export = function register(RED: any): void {
  function InsertPanelNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<InsertPanelConfig>(raw, migrations);
    const server = requireServer(RED, node, config.server);
    const fields: Record<string, string> = {
      ...Object.fromEntries(Object.entries(config.fields ?? {}).filter(([, v]) => v)),
    };
    let render: ReturnType<typeof fieldRenderer>;
    try {
      render = fieldRenderer({ ...fields, '@id': config.partyId }, { '@id': 'ID' });
    } catch (err) {
      node.error(err);
      node.status({ fill: 'red', shape: 'ring', text: RED._('imis-insert-panel.status.invalid') });
      return;
    }
    // The panel definition is loaded once (columns and types), then reused for every message.
    let definition: Promise<PanelInfo> | undefined;
    onAction(RED, node, 'imis-insert-panel', async (msg) => {
      if (!server) throw new Error(serverMessage(RED, 'errors.missing'));
      if (!config.panel) throw new Error(RED._('imis-insert-panel.errors.no-panel'));
      const loading = (definition = definition ?? getPanel(server.client, config.panel));
      const panel = await loading.catch((err: Error) => {
        definition = undefined;
        throw err;
      });
      const { '@id': id, ...values } = render(msg);
      const created = await insertPanelRow(server.client, panel, id ?? '', values, {
        timeZone: server.config.timeZone || undefined,
      });
      RED.util.setMessageProperty(msg, config.outputProp || 'panelRecord', created.record, true);
    });
  }
  RED.nodes.registerType('imis-insert-panel', InsertPanelNode);
};
