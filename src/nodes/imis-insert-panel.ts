import { ExpectedError } from '../core/errors.js';
import { findPanelRow, getPanel, insertPanelRow } from '../imis/panels.js';
import type { PanelInfo } from '../imis/panels.js';
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
  /** De-duplication key template ('' = none): an insert whose key already succeeded is skipped. */
  dedupKey: string;
  /** The panel column the key is written into, to look it up after a crash ('' = none). */
  dedupField: string;
}

const config = new NodeConfig<InsertPanelConfig>(
  'imis-insert-panel',
  [
    (c) => ({ panel: '', partyId: '{{ input.memberId }}', fields: {}, outputProp: 'panelRecord', ...c }),
    withOnError,
    withDedupKey,
  ],
  ['outputProp'],
);

const register: NodeModule = (RED) => {
  function InsertPanelNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const settings = config.read(def);
    const { server: serverId, panel, partyId, fields, onError, dedupField } = settings;
    const server = requireServer(RED, node, serverId);
    const used = Object.fromEntries(Object.entries(fields).filter(([, v]) => v));
    const prepared = fromConfig(node, RED._('imis-insert-panel.status.invalid'), () => ({
      render: fieldRenderer({ ...used, '@id': partyId }, { '@id': 'ID' }),
      once: insertOnce(RED, node, settings),
    }));
    if (!prepared) return;
    const { render, once } = prepared;
    // The panel definition is loaded once (columns and types), then reused for every message.
    let definition: Promise<PanelInfo> | undefined;
    onAction(RED, node, onErrorOf(onError), async (msg) => {
      if (!server) throw noServer(RED);
      if (!panel) throw new ExpectedError(RED._('imis-insert-panel.errors.no-panel'));
      const loading = (definition = definition ?? getPanel(server.client, panel));
      const info = await loading.catch((err: Error) => {
        definition = undefined;
        throw err;
      });
      const { '@id': id = '', ...values } = render(msg);
      const insert = async (key: string | undefined) => {
        const row = key && dedupField ? { ...values, [dedupField]: key } : values;
        const created = await insertPanelRow(server.client, info, id, row, {
          timeZone: server.config.timeZone || undefined,
        });
        return created.record;
      };
      return once(msg, insert, (key) => findPanelRow(server.client, info, id, dedupField, key));
    });
  }
  registerType(RED, 'imis-insert-panel', InsertPanelNode, { settings: config.settings() });
};

export = register;
