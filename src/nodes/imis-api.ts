import { apiMethod, attemptCount, callImisApi, parseBody } from '../imis/api.js';
import type { ApiMethod } from '../imis/api.js';
import { fieldRenderer, noServer, onAction, onErrorOf, requireServer, withOnError } from './lib/action.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { Node, NodeDef, NodeModule } from './lib/red.js';
import { fromConfig } from './lib/status.js';

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
  /** Failure policy (src/nodes/lib/action.ts): fail, continue or succeed. */
  onError: string;
}

const config = new NodeConfig<ApiConfig>(
  'imis-api',
  [
    (c) => ({
      method: 'GET',
      path: '/api/',
      query: '',
      body: '',
      outputProp: 'payload',
      attempts: 0,
      fetchAll: false,
      simplify: false,
      ...c,
    }),
    withOnError,
  ],
  ['outputProp'],
);

const register: NodeModule = (RED) => {
  function ApiNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const {
      server: serverId,
      path,
      query,
      body,
      outputProp,
      fetchAll,
      simplify,
      onError,
      ...call
    } = config.read(def);
    const server = requireServer(RED, node, serverId);
    const prepared = fromConfig(node, RED._('imis-api.status.invalid'), () => {
      const method = apiMethod(call.method);
      const sendsBody = method === 'POST' || method === 'PUT';
      return {
        method,
        attempts: attemptCount(call.attempts),
        render: fieldRenderer(
          { path, query, ...(sendsBody ? { body } : {}) },
          { path: 'Path', query: 'Query String', body: 'Body' },
        ),
      };
    });
    if (!prepared) return;
    const { method, attempts, render } = prepared;

    onAction(RED, node, onErrorOf(onError), async (msg, progress) => {
      if (!server) throw noServer(RED);
      const values = render(msg);
      const called = await callImisApi(server.client, {
        method,
        path: values.path ?? '',
        query: values.query,
        body: parseBody(values.body),
        attempts,
        fetchAllPages: fetchAll,
        simplify,
        onPage: (items, total) => progress(RED._('imis-api.status.progress', { items, total })),
      });
      RED.util.setMessageProperty(msg, outputProp, called.result, true);
      msg.imisApi = {
        method,
        path: called.path,
        ...(called.pages === undefined ? {} : { pages: called.pages, totalCount: called.totalCount }),
      };
    });
  }
  registerType(RED, 'imis-api', ApiNode, { settings: config.settings() });
};

export = register;
