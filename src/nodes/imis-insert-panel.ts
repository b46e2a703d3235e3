import { ExpectedError } from '../core/errors.js';
import { findPanelRow, getPanel, insertPanelRow } from '../imis/panels.js';
import type { PanelInfo } from '../imis/panels.js';
import { fieldRenderer, insertConfig, runInsertNode, withKeyField } from './lib/action.js';
import type { InsertConfig } from './lib/action.js';
import { registerType } from './lib/red.js';
import type { Node, NodeDef, NodeModule } from './lib/red.js';

/** Its fields and dedupField are the panel's columns. */
interface InsertPanelConfig extends InsertConfig {
  panel: string;
  /** Template of the parent record's ID (the member ID for contact panels). */
  partyId: string;
}

const config = insertConfig<InsertPanelConfig>('imis-insert-panel', (c) => ({
  panel: '',
  partyId: '{{ input.memberId }}',
  fields: {},
  outputProp: 'panelRecord',
  ...c,
}));

const register: NodeModule = (RED) => {
  function InsertPanelNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const settings = config.read(def);
    const { panel, partyId, fields, dedupField } = settings;
    const used = Object.fromEntries(Object.entries(fields).filter(([, v]) => v));
    runInsertNode(RED, node, settings, () => {
      const render = fieldRenderer({ ...used, '@id': partyId }, { '@id': 'ID' });
      // The panel definition is loaded once (columns and types), then reused for every message.
      let definition: Promise<PanelInfo> | undefined;
      return async (msg, server) => {
        if (!panel) throw new ExpectedError(RED._('imis-insert-panel.errors.no-panel'));
        const loading = (definition = definition ?? getPanel(server.client, panel));
        const info = await loading.catch((err: Error) => {
          definition = undefined;
          throw err;
        });
        const { '@id': id = '', ...values } = render(msg);
        return {
          insert: async (key) => {
            const row = withKeyField(values, dedupField, key);
            const created = await insertPanelRow(server.client, info, id, row, {
              timeZone: server.config.timeZone || undefined,
            });
            return created.record;
          },
          find: (key) => findPanelRow(server.client, info, id, dedupField, key),
        };
      };
    });
  }
  registerType(RED, 'imis-insert-panel', InsertPanelNode, { settings: config.settings() });
};

export = register;
