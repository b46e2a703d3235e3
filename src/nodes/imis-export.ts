import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExpectedError } from '../core/errors.js';
import { EXPIRY_CHOICES, PublishedStore, exportError, publicUrl, servePublished } from '../core/export.js';
import type { ExpiryChoice, ExportAnswer, ExportFormat, Published } from '../core/export.js';
import { TOKEN_PATTERN } from '../core/tokens.js';
import { packageRuntime } from './lib/package-runtime.js';
import { actionFailed, onErrorOf, withOnError } from './lib/action.js';
import { mountOnce } from './lib/http/routes.js';
import { nodeRouteMiddleware } from './lib/http/cors.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { ExportEndpointNode, NodeDef, NodeModule, NodeStatus, Response } from './lib/red.js';
import { findSecretEndpoint, registerSecretEndpoint } from './lib/secret-endpoint.js';

const EXPORT_PATH = '/imis/export/';

interface ExportConfig {
  name?: string;
  source: string;
  format: ExportFormat;
  nested: 'flatten' | 'json';
  outputProp: string;
  publicBase: string;
  /** How long the link lives after a publish (docs/nodes.md §8); 'never' by default. */
  expiry: ExpiryChoice;
  /** Whether each run starts the expiry period again. */
  renew: boolean;
  /** Failure policy (src/nodes/lib/action.ts). */
  onError: string;
}

const config = new NodeConfig<ExportConfig>(
  'imis-export',
  [
    (c) => ({
      source: 'payload',
      format: 'json',
      nested: 'flatten',
      outputProp: 'publicUrl',
      publicBase: '',
      ...c,
    }),
    // Version 2: public link expiry (links made before never expire).
    (c) => ({ expiry: 'never', renew: true, ...c }),
    withOnError,
  ],
  ['source', 'outputProp'],
);

function send(res: Response, answer: ExportAnswer): void {
  res.status(answer.status).set(answer.headers);
  if (answer.body === undefined || typeof answer.body === 'string') {
    res.end(answer.body);
    return;
  }
  // A published body, a part at a time as the client takes them. A failure midway (a publish
  // replaced the body) cuts the connection: the client sees fewer bytes than Content-Length.
  pipeline(Readable.from(answer.body), res).catch(() => undefined);
}

const register: NodeModule = (RED) => {
  function ExportNode(this: ExportEndpointNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const { source, format, nested, outputProp, publicBase, expiry, renew, onError } = config.read(def);
    const policy = onErrorOf(onError);
    // An unknown choice (a flow written by hand) keeps the link forever, as before expiry existed.
    const after: ExpiryChoice = EXPIRY_CHOICES.includes(expiry) ? expiry : 'never';
    // One PublishedStore (and its memory of the newest bodies) per package runtime.
    const runtime = packageRuntime(RED);
    const store = (runtime.published ??= new PublishedStore(
      runtime.store.exports,
      runtime.store.engine === 'postgres',
    ));
    node.store = store;
    const token = registerSecretEndpoint(RED, 'imis-export', node, EXPORT_PATH);
    const { httpNodeRoot, uiHost, uiPort } = RED.settings;
    const url = publicUrl({ publicBase, httpNodeRoot, uiHost, uiPort }, EXPORT_PATH + token);
    const statusOf = (published: Published | undefined): NodeStatus => {
      if (!published) return { fill: 'grey', shape: 'ring', text: RED._('imis-export.status.empty') };
      const rows = published.rows;
      const time = published.lastModified.toLocaleString();
      const text = published.expiresAt
        ? RED._('imis-export.status.published-until', {
            rows,
            time,
            until: published.expiresAt.toLocaleString(),
          })
        : RED._('imis-export.status.published', { rows, time });
      return { fill: 'green', shape: 'dot', text };
    };
    store.get(node.id).then(
      (published) => node.status(statusOf(published)),
      (err: Error) => node.warn(err.message),
    );

    node.on('input', (msg, send, done) => {
      const fail = (err: Error) => {
        if (!actionFailed(RED, node, policy, msg, send, done, err))
          node.status({ fill: 'red', shape: 'ring', text: RED._('imis-export.status.failed') });
      };
      const rows: unknown = RED.util.getMessageProperty(msg, source);
      if (!Array.isArray(rows)) {
        const type = rows === null ? 'null' : typeof rows;
        return fail(new ExpectedError(RED._('imis-export.errors.not-array', { property: source, type })));
      }
      store.publish(node.id, format === 'csv' ? 'csv' : 'json', rows, { nested }, { after, renew }).then(
        (published) => {
          RED.util.setMessageProperty(msg, outputProp, url, true);
          node.status(statusOf(published));
          send(msg);
          done();
        },
        (err: Error) => fail(err),
      );
    });
  }
  registerType(RED, 'imis-export', ExportNode, {
    credentials: { token: { type: 'text' } },
    settings: config.settings({ tokenPattern: TOKEN_PATTERN }),
  });

  // The public link: GET/HEAD, with ETag / Last-Modified revalidation; unknown link → 404. Behind
  // Node-RED's httpNodeMiddleware and httpNodeCors, as HTTP In routes are.
  mountOnce(RED.httpNode, 'get', `${EXPORT_PATH}:token`, ...nodeRouteMiddleware(RED), (req, res) => {
    const node = findSecretEndpoint(RED, 'imis-export', String(req.params.token ?? ''));
    if (!node) return send(res, exportError(404, 'No export at this URL (unknown or regenerated link)'));
    node.store.get(node.id).then(
      (published) =>
        send(
          res,
          published
            ? servePublished(published, req.method, req.headers, () => node.store.body(node.id, published))
            : exportError(
                404,
                'Nothing published at this link yet, or its data expired: the export publishes when its flow runs',
              ),
        ),
      () => send(res, exportError(503, 'The export store is not available')),
    );
  });
};

export = register;
