import { compileTemplates } from '../engine/templates.js';
import { describeQuery, fetchIqa, listQueries } from '../imis/iqa.js';
import { requireServer } from './lib/action.js';
import { mountOnce } from './lib/http.js';
import { migrate } from './lib/migrations.js';
import { serverMessage } from './lib/messages.js';
import { dialogRoute } from './lib/server-settings.js';

interface IqaConfig {
  name?: string;
  server: string;
  endpoint: 'query' | 'iqa';
  path: string;
  parameters: string[];
  pageSize: number;
  maxRows: number;
  outputProp: string;
}

const migrations = [
  (c: Record<string, unknown>) => ({
    endpoint: 'query',
    path: '',
    parameters: [],
    pageSize: 500,
    maxRows: 0,
    outputProp: 'payload',
    ...c,
  }),
];

export = function register(RED: any): void {
  function IqaNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<IqaConfig>(raw, migrations);
    const server = requireServer(RED, node, config.server);
    const parameters = Array.isArray(config.parameters) ? config.parameters : [];
    const fields: Record<string, string> = { path: config.path };
    parameters.forEach((p, i) => (fields[`p${i}`] = p));
    const labels: Record<string, string> = { path: 'Query path' };
    parameters.forEach((_p, i) => (labels[`p${i}`] = `Parameter ${i + 1}`));
    let render: ReturnType<typeof compileTemplates<string>>;
    try {
      render = compileTemplates(fields, labels);
    } catch (err) {
      node.error(err);
      node.status({ fill: 'red', shape: 'ring', text: RED._('imis-iqa.status.invalid') });
      return;
    }

    node.on('input', async (msg: any, send: (m: unknown) => void, done: (err?: Error) => void) => {
      if (!server) return done(new Error(serverMessage(RED, 'errors.missing')));
      const values = render.render({ input: msg.payload, msg });
      const path = (values.path ?? '').trim();
      if (!path) return done(new Error(RED._('imis-iqa.errors.no-path')));
      node.status({ fill: 'blue', shape: 'dot', text: RED._('imis-iqa.status.fetching') });
      try {
        const result = await fetchIqa(server.client, {
          path,
          parameters: parameters.map((_p, i) => values[`p${i}`] ?? ''),
          endpoint: config.endpoint === 'iqa' ? 'iqa' : 'query',
          pageSize: Number(config.pageSize) || 500,
          maxRows: Number(config.maxRows) > 0 ? Number(config.maxRows) : undefined,
          onPage: (rows: number, total: number) =>
            node.status({
              fill: 'blue',
              shape: 'dot',
              text: RED._('imis-iqa.status.progress', { rows, total }),
            }),
        });
        RED.util.setMessageProperty(msg, config.outputProp || 'payload', result.rows, true);
        msg.iqa = { path, totalCount: result.totalCount, rows: result.rows.length, pages: result.pages };
        node.status({
          fill: 'green',
          shape: 'dot',
          text: RED._('imis-iqa.status.done', { rows: result.rows.length }),
        });
        send(msg);
        done();
      } catch (err) {
        node.status({
          fill: 'red',
          shape: 'ring',
          text: RED._('imis-iqa.status.failed', { time: new Date().toLocaleTimeString() }),
        });
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('imis-iqa', IqaNode);

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
