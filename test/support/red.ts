import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import helper from 'node-red-node-test-helper';

/** Which Node-RED the suite runs against: `node-red` (4.1) or `node-red-5` (CI on Node 22). */
export const NODE_RED_PKG = process.env.NODE_RED_PKG ?? 'node-red';
const redDir = dirname(require.resolve(`${NODE_RED_PKG}/package.json`));
helper.init(require.resolve(NODE_RED_PKG));

export { helper };

/**
 * The test helper's runtime stub has no `RED.hooks`; the real runtime has. Give the node modules
 * the same hooks module the chosen runtime's message router uses, as Node-RED itself would.
 */
export function withRuntimeHooks(mod: (RED: any) => void): (RED: any) => void {
  const util = require(require.resolve('@node-red/util', { paths: [redDir] }));
  return (RED: any) => {
    if (!RED.hooks) RED.hooks = util.hooks;
    RED._ = translate;
    currentRED = RED;
    return mod(RED);
  };
}

/** The package's en-US message catalogs, merged (each file holds one top-level key per node). */
const catalog: Record<string, unknown> = Object.assign(
  {},
  ...readdirSync(join(__dirname, '../../../nodes/locales/en-US'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(__dirname, '../../../nodes/locales/en-US', f), 'utf8'))),
);

/** Keys looked up but missing from the catalogs (Node-RED would show the bare key). */
export const missingMessageKeys = new Set<string>();

/**
 * RED._ as Node-RED resolves it for this package: the helper's stub returns keys untranslated,
 * which would hide a missing catalog entry; this reads the real catalogs and fills __name__.
 */
function translate(key: string, substitutions: Record<string, unknown> = {}): string {
  // `<catalog>:<key>` names the catalog (e.g. the imis-runs plugin's); all of ours are merged here.
  const value = key
    .replace(/^[^:]+:/, '')
    .split('.')
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], catalog);
  if (typeof value !== 'string') {
    missingMessageKeys.add(key);
    return key;
  }
  return value.replace(/__(\w+)__/g, (_m, name: string) => String(substitutions[name] ?? ''));
}

/**
 * What the embedded store holds on disk, as text: the SQLite file and its write-ahead log, for
 * tests that look for what must (or must never) be written.
 */
export function storeBytes(dataDir: string): string {
  return ['imis.db', 'imis.db-wal']
    .map((f) => {
      try {
        return readFileSync(join(dataDir, f)).toString('latin1');
      } catch {
        return '';
      }
    })
    .join('');
}

/** A fresh data folder (the store) for one test. */
export function freshDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'imis-test-'));
}

/** The package's node modules, ready for helper.load. */
export function packageNodes(): ((RED: any) => void)[] {
  return [
    'imis-server',
    'imis-webhook-in',
    'imis-schema-validate',
    'imis-insert-activity',
    'imis-insert-panel',
    'imis-change-in',
    'imis-cron',
    'imis-iupdate',
    'imis-iqa',
    'imis-export',
  ].map((name) => withRuntimeHooks(require(`../../src/nodes/${name}.js`)));
}

/** The node API object the package's modules were last loaded with. */
let currentRED: any;

/**
 * Starts the helper's HTTP server on 127.0.0.1 and routes it as Node-RED's own server does with
 * its default settings: the admin app (RED.httpAdmin, which in the helper carries the editor's JSON
 * and form body parsers) and then the node app (RED.httpNode), both at the root path, so that the
 * editor's parsers see every request to the flows first. Tests use real sockets.
 */
export async function startHelper(dataDir = freshDataDir()): Promise<string> {
  helper.settings({ imisDataDir: dataDir });
  await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  helper._app.use((req: any, res: any, next: any) =>
    currentRED ? helper._httpAdmin(req, res, next) : next(),
  );
  helper._app.use((req: any, res: any, next: any) =>
    currentRED ? currentRED.httpNode(req, res, next) : next(),
  );
  return helper.url();
}

export async function stopHelper(): Promise<void> {
  await helper.unload();
  await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
}

export function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`Timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}
