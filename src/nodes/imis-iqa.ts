import { ExpectedError } from '../core/errors.js';
import { describeQuery, fetchIqa, listQueries } from '../imis/iqa.js';
import { fieldRenderer, noServer, onAction, onErrorOf, requireServer, withOnError } from './lib/action.js';
import { mountOnce } from './lib/http/routes.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { Node, NodeDef, NodeModule } from './lib/red.js';
import { dialogRoute } from './lib/server-settings.js';
import { fromConfig } from './lib/status.js';

interface IqaConfig {
  name?: string;
  server: string;
  endpoint: 'query' | 'iqa';
  path: string;
  parameters: string[];
  pageSize: number;
  maxRows: number;
  outputProp: string;
  /** Failure policy (src/nodes/lib/action.ts): fail, continue or succeed. */
  onError: string;
}

const config = new NodeConfig<IqaConfig>(
  'imis-iqa',
  [
    (c) => ({
      endpoint: 'query',
      path: '',
      parameters: [],
      pageSize: 500,
      maxRows: 0,
      outputProp: 'payload',
      ...c,
    }),
    withOnError,
  ],
  ['outputProp'],
);

const register: NodeModule = (RED) => {
  function IqaNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const {
      server: serverId,
      endpoint,
      path,
      parameters,
      pageSize,
      maxRows,
      outputProp,
      onError,
    } = config.read(def);
    const server = requireServer(RED, node, serverId);
    // The query path and each parameter are templates: `path`, then `p0`, `p1`, ...
    const fields: Record<string, string> = { path };
    const labels: Record<string, string> = { path: 'Query path' };
    parameters.forEach((p, i) => {
      fields[`p${i}`] = p;
      labels[`p${i}`] = `Parameter ${i + 1}`;
    });
    const render = fromConfig(node, RED._('imis-iqa.status.invalid'), () => fieldRenderer(fields, labels));
    if (!render) return;

    onAction(RED, node, onErrorOf(onError), async (msg, progress) => {
      if (!server) throw noServer(RED);
      const values = render(msg);
      const query = (values.path ?? '').trim();
      if (!query) throw new ExpectedError(RED._('imis-iqa.errors.no-path'));
      const result = await fetchIqa(server.client, {
        path: query,
        parameters: parameters.map((_p, i) => values[`p${i}`] ?? ''),
        endpoint: endpoint === 'iqa' ? 'iqa' : 'query',
        pageSize,
        maxRows: maxRows > 0 ? maxRows : undefined,
        onPage: (rows, total) => progress(RED._('imis-iqa.status.progress', { rows, total })),
      });
      RED.util.setMessageProperty(msg, outputProp, result.rows, true);
      msg.iqa = { path: query, totalCount: result.totalCount, rows: result.rows.length, pages: result.pages };
      return RED._('imis-iqa.status.done', { rows: result.rows.length });
    });
  }
  registerType(RED, 'imis-iqa', IqaNode, { settings: config.settings() });

  // The editor's query picker and a query's prompts, asked with the server settings the dialog
  // holds, deployed or not (lib/server-settings; write permission as they may use a stored password).
  const write = RED.auth.needsPermission('imis-server.write');
  mountOnce(
    RED.httpAdmin,
    'post',
    '/imis/iqa/queries',
    write,
    dialogRoute(RED, async (client, body) =>
      (await listQueries(client, String(body.folder || '$/Common/Queries'))).filter(
        (q) => q.type === 'query',
      ),
    ),
  );
  mountOnce(
    RED.httpAdmin,
    'post',
    '/imis/iqa/query',
    write,
    dialogRoute(RED, (client, body) => describeQuery(client, String(body.path || ''))),
  );
};

export = register;
