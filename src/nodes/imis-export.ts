import { PublishedStore, conditionalStatus, responseHeaders } from '../engine/export.js';
import type { ExportFormat, ExportStorage, Published } from '../engine/export.js';
import { packageContext } from './lib/context.js';
import { mountOnce } from './lib/http.js';
import { migrate } from './lib/migrations.js';
import { findSecretEndpoint, registerSecretEndpoint } from './lib/secret-endpoint.js';

const EXPORT_PATH = '/imis/export/';

interface ExportConfig {
  name?: string;
  source: string;
  format: ExportFormat;
  nested: 'flatten' | 'json';
  outputProp: string;
  publicBase: string;
}

const migrations = [
  (c: Record<string, unknown>) => ({
    source: 'payload',
    format: 'json',
    nested: 'flatten',
    outputProp: 'publicUrl',
    publicBase: '',
    ...c,
  }),
];

/** One PublishedStore (and its memory of the newest bodies) per package store. */
const stores = new WeakMap<object, PublishedStore>();

function storeFor(storage: ExportStorage): PublishedStore {
  let store = stores.get(storage);
  if (!store) stores.set(storage, (store = new PublishedStore(storage)));
  return store;
}

export = function register(RED: any): void {
  function ExportNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<ExportConfig>(raw, migrations);
    const store = storeFor(packageContext(RED).store);
    const token = registerSecretEndpoint(RED, node, EXPORT_PATH);
    node.store = store;
    const root = String(RED.settings.httpNodeRoot ?? '/').replace(/\/?$/, '/');
    const base =
      config.publicBase.replace(/\/$/, '') ||
      `http://${RED.settings.uiHost && RED.settings.uiHost !== '0.0.0.0' ? RED.settings.uiHost : '127.0.0.1'}:${RED.settings.uiPort ?? 1880}`;
    const publicUrl = `${base}${root.replace(/\/$/, '')}${EXPORT_PATH}${token}`;
    const showPublished = (published: Published | undefined) =>
      node.status(
        published
          ? {
              fill: 'green',
              shape: 'dot',
              text: RED._('imis-export.status.published', {
                rows: published.rows,
                time: published.lastModified.toLocaleString(),
              }),
            }
          : { fill: 'grey', shape: 'ring', text: RED._('imis-export.status.empty') },
      );
    store.get(node.id).then(showPublished, (err: Error) => node.warn(err.message));

    node.on('input', (msg: any, send: (m: unknown) => void, done: (err?: Error) => void) => {
      const rows = RED.util.getMessageProperty(msg, config.source || 'payload');
      if (!Array.isArray(rows)) {
        return done(
          new Error(
            RED._('imis-export.errors.not-array', {
              property: config.source || 'payload',
              type: rows === null ? 'null' : typeof rows,
            }),
          ),
        );
      }
      store.publish(node.id, config.format === 'csv' ? 'csv' : 'json', rows, { nested: config.nested }).then(
        (result) => {
          RED.util.setMessageProperty(msg, config.outputProp || 'publicUrl', publicUrl, true);
          showPublished(result);
          send(msg);
          done();
        },
        (err: Error) => done(err),
      );
    });
  }
  RED.nodes.registerType('imis-export', ExportNode, { credentials: { token: { type: 'text' } } });

  // The public link: GET/HEAD, with ETag / Last-Modified revalidation; unknown link → 404.
  mountOnce(RED.httpNode, 'get', `${EXPORT_PATH}:token`, (req: any, res: any) => {
    const node = findSecretEndpoint('imis-export', String(req.params.token ?? ''));
    const notFound = (message: string) => {
      res.status(404).set('Cache-Control', 'no-store').json({ error: true, message });
    };
    if (!node) return notFound('No export at this URL (unknown or regenerated link)');
    const serve = (published: Published) => {
      const headers = responseHeaders(published);
      if (conditionalStatus(published, req.headers) === 304) {
        res
          .status(304)
          .set({
            ETag: headers.ETag,
            'Last-Modified': headers['Last-Modified'],
            'Cache-Control': headers['Cache-Control'],
          })
          .end();
        return;
      }
      res.status(200).set(headers);
      res.end(req.method === 'HEAD' ? undefined : published.body);
    };
    (node.store as PublishedStore).get(node.id).then(
      (published) => {
        if (!published) return notFound('Nothing published yet: the export runs when its flow runs');
        serve(published);
      },
      () =>
        res
          .status(503)
          .set('Cache-Control', 'no-store')
          .json({ error: true, message: 'The export store is not available' }),
    );
  });
};
