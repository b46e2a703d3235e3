import { compileTemplates } from '../core/templates.js';
import { apiMethod, attemptCount, callImisApi, parseBody } from '../imis/api.js';
import type { ApiMethod } from '../imis/api.js';
import { onAction, requireServer } from './lib/action.js';
import { migrate } from './lib/migrations.js';
import { serverMessage } from './lib/messages.js';

interface ApiConfig {
  name?: string;
  server: string;
  method: ApiMethod;
  path: string;
  query: string;
  body: string;
  outputProp: string;
  /** 1 to 10 attempts; 0: as the server configuration says (its retries + 1). */
  attempts: number;
  /** GET: every page of a paged result. */
  fetchAll: boolean;
  /** GenericEntityData and other Json.NET output as plain objects. */
  simplify: boolean;
}

const migrations = [
  (c: Record<string, unknown>) => ({
    method: 'GET',
    path: '',
    query: '',
    body: '',
    outputProp: 'payload',
    attempts: 0,
    fetchAll: false,
    simplify: false,
    ...c,
  }),
];

export = function register(RED: any): void {
  function ApiNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<ApiConfig>(raw, migrations);
    const server = requireServer(RED, node, config.server);
    let method: ApiMethod;
    let attempts: number | undefined;
    let render: ReturnType<typeof compileTemplates<'path' | 'query' | 'body'>>;
    try {
      method = apiMethod(config.method);
      attempts = attemptCount(config.attempts);
      const sendsBody = method === 'POST' || method === 'PUT';
      render = compileTemplates(
        { path: config.path, query: config.query, ...(sendsBody ? { body: config.body } : {}) },
        { path: 'Path', query: 'Query String', body: 'Body' },
      );
    } catch (err) {
      node.error(err);
      node.status({ fill: 'red', shape: 'ring', text: RED._('imis-api.status.invalid') });
      return;
    }
    const outputProp = config.outputProp || 'payload';

    onAction(RED, node, 'imis-api', async (msg) => {
      if (!server) throw new Error(serverMessage(RED, 'errors.missing'));
      const values = render.render({ input: msg.payload, msg });
      const called = await callImisApi(server.client, {
        method,
        path: values.path ?? '',
        query: values.query,
        body: parseBody(values.body),
        attempts,
        fetchAllPages: config.fetchAll === true,
        simplify: config.simplify === true,
        onPage: (items, total) =>
          node.status({
            fill: 'blue',
            shape: 'dot',
            text: RED._('imis-api.status.progress', { items, total }),
          }),
      });
      RED.util.setMessageProperty(msg, outputProp, called.result, true);
      msg.imisApi = {
        method,
        path: called.path,
        ...(called.pages === undefined ? {} : { pages: called.pages, totalCount: called.totalCount }),
      };
    });
  }
  RED.nodes.registerType('imis-api', ApiNode);
};
