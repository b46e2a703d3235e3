import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Express, NextFunction, Request, Response } from 'express';
import helper from 'node-red-node-test-helper';
import type { NodeStatus } from 'node-red';
import type { SinonSpyCall } from 'sinon';
import type { NodeMessage, NodeMessageInFlow, Red } from '../../src/nodes/lib/red.js';
import { packageRuntime, stopPackageRuntime } from '../../src/nodes/lib/package-runtime.js';
import type { PackageRuntime } from '../../src/nodes/lib/package-runtime.js';

/** Which Node-RED the suite runs against: `node-red` (4.1) or `node-red-5` (CI on Node 22). */
export const NODE_RED_PKG = process.env.NODE_RED_PKG ?? 'node-red';
const redDir = dirname(require.resolve(`${NODE_RED_PKG}/package.json`));
helper.init(require.resolve(NODE_RED_PKG));

export { helper };

const packageRoot = join(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));

/**
 * The test helper's runtime stub has no `RED.hooks`; the real runtime has. Give the node modules
 * the same hooks module the chosen runtime's message router uses, as Node-RED itself would, and
 * the `RED._` Node-RED gives the module of node set `set` (its own catalog namespace).
 */
export function withRuntimeHooks(mod: (RED: Red) => void, set: string): (RED: Red) => void {
  const util = require(require.resolve('@node-red/util', { paths: [redDir] }));
  const namespace = `${pkg.name}/${set}`;
  return (RED: Red) => {
    // The helper's stub lacks `hooks`, which the type says every runtime has.
    if (!(RED as Partial<Red>).hooks) RED.hooks = util.hooks;
    currentRED = RED;
    const api: Red = Object.create(RED);
    api._ = ((key: string, substitutions?: Record<string, unknown>) =>
      translate(key.includes(':') ? key : `${namespace}:${key}`, substitutions)) as Red['_'];
    api.auth = { needsPermission: permissionGate } as unknown as Red['auth'];
    return mod(api);
  };
}

/** The header with which a test plays a user who lacks a permission (see permissionGate). */
export const DENY_HEADER = 'x-test-deny';

/**
 * RED.auth.needsPermission for the tests: the helper's stub lets every request through, which
 * would hide an admin route mounted without its permission. This one refuses (403) a request whose
 * DENY_HEADER names the permission asked for, as Node-RED's does for a user without it.
 */
function permissionGate(permission: string) {
  return (req: Request, res: Response, next: NextFunction) =>
    req.headers[DENY_HEADER] === permission ? res.status(403).json({ error: 'unauthorized' }) : next();
}

/**
 * The message catalogs as Node-RED registers them: one namespace per node set, `<package>/<set>`,
 * holding the file locales/en-US/<file>.json beside the set's runtime file (package.json
 * "node-red" lists the sets); `node-red` holds the core nodes' catalog.
 */
const catalogs = new Map<string, unknown>(
  Object.entries({ ...pkg['node-red'].nodes, ...pkg['node-red'].plugins } as Record<string, string>).map(
    ([set, file]) => {
      const json = join(packageRoot, 'nodes/locales/en-US', `${basename(file, '.js')}.json`);
      return [`${pkg.name}/${set}`, existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : {}];
    },
  ),
);
catalogs.set(
  'node-red',
  JSON.parse(
    readFileSync(require.resolve('@node-red/nodes/locales/en-US/messages.json', { paths: [redDir] }), 'utf8'),
  ),
);

/** Keys looked up but missing from their catalog (Node-RED would show the bare key). */
export const missingMessageKeys = new Set<string>();

/**
 * RED._ as Node-RED resolves it (the helper's stub returns keys untranslated, which would hide a
 * missing catalog entry): `namespace:key` in that namespace's catalog only, __name__ filled; a key
 * it cannot find comes back bare, as i18next answers, and is recorded.
 */
function translate(namespacedKey: string, substitutions: Record<string, unknown> = {}): string {
  const split = namespacedKey.indexOf(':');
  const namespace = namespacedKey.slice(0, split);
  const key = namespacedKey.slice(split + 1);
  const value = key
    .split('.')
    .reduce<unknown>(
      (node, part) => (node as Record<string, unknown> | undefined)?.[part],
      catalogs.get(namespace),
    );
  if (typeof value !== 'string') {
    missingMessageKeys.add(namespacedKey);
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

// Every test fails when a message it caused was looked up under a key its catalog lacks.
if (typeof afterEach === 'function') {
  afterEach(function () {
    if (missingMessageKeys.size === 0) return;
    const keys = [...missingMessageKeys];
    missingMessageKeys.clear();
    throw new Error(`Message keys not in their catalogs (shown raw by Node-RED): ${keys.join(', ')}`);
  });
}

/** A fresh data folder (the store) for one test. */
export function freshDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'imis-test-'));
}

/** The package's node modules, ready for helper.load. */
export function packageNodes(): ((RED: Red) => void)[] {
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
    'imis-workflow',
    'imis-state-machine',
    'imis-workflow-in',
    'imis-api',
    'imis-delta',
    'imis-manual',
    'imis-run-failed',
  ].map((name) => withRuntimeHooks(require(`../../src/nodes/${name}.js`), name));
}

/**
 * The settings each node type registered (registerType's `settings`), as Node-RED's runtime gets
 * them: the helper's settings have no registry of their own.
 */
export const registeredNodeSettings = new Map<
  string,
  Record<string, { value: unknown; exportable?: boolean }>
>();

function recordNodeSettings(
  type: string,
  settings: Record<string, { value: unknown; exportable?: boolean }>,
) {
  registeredNodeSettings.set(type, settings);
}

/** Node-RED's own name for a node type's settings (they must start with it). */
export function normaliseNodeTypeName(type: string): string {
  return require(require.resolve('@node-red/util', { paths: [redDir] })).util.normaliseNodeTypeName(type);
}

/** The node API object the package's modules were last loaded with. */
let currentRED: Red | undefined;

/** The Express app serving the flows (RED.httpNode) of the last load, e.g. to set `trust proxy` as Node-RED's httpServerOptions do. */
export function httpNodeApp(): Express {
  if (!currentRED) throw new Error('No flows loaded');
  return currentRED.httpNode;
}

/**
 * Starts the helper's HTTP server on 127.0.0.1 and routes it as Node-RED's own server does with
 * its default settings: the admin app (RED.httpAdmin, which in the helper carries the editor's JSON
 * and form body parsers) and then the node app (RED.httpNode), both at the root path, so that the
 * editor's parsers see every request to the flows first. Tests use real sockets.
 */
export async function startHelper(
  dataDir = freshDataDir(),
  settings: Record<string, unknown> = {},
): Promise<string> {
  helper.settings({ imisDataDir: dataDir, registerNodeSettings: recordNodeSettings, ...settings });
  await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  helper._app.use((req: Request, res: Response, next: NextFunction) =>
    currentRED ? helper._httpAdmin(req, res, next) : next(),
  );
  helper._app.use((req: Request, res: Response, next: NextFunction) =>
    currentRED ? currentRED.httpNode(req, res, next) : next(),
  );
  return helper.url();
}

/**
 * Unloads the flows, stops the package runtime (its timers, hooks and store: nothing of it is left
 * for the next test) and stops the server.
 */
export async function stopHelper(): Promise<void> {
  await helper.unload();
  if (currentRED) await stopPackageRuntime(currentRED);
  await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
}

/** The package runtime the loaded nodes share (store, run trackers), e.g. to watch its store. */
export function helperRuntime(): PackageRuntime {
  if (!currentRED) throw new Error('No flows loaded');
  return packageRuntime(currentRED);
}

export { quietWindow, waitFor } from './wait.js';

/**
 * A message as a test receives it from a node of the loaded flow: Node-RED's message in flow (its
 * `_msgid`, every other field `unknown`) with the fields the test relies on typed by `T`, e.g. `TestMessage<{ payload: Row[] }>`.
 * The test helper has no types; this is the one place that says what its messages are.
 */
export type TestMessage<T extends object = object> = NodeMessageInFlow & T;

/** Collects every message node `id` (e.g. a `helper` node) receives from now on, in order. */
export function received<T extends object = object>(id: string): TestMessage<T>[] {
  const got: TestMessage<T>[] = [];
  helper.getNode(id).on('input', (msg: TestMessage<T>) => got.push(msg));
  return got;
}

/** The next message node `id` receives. */
export function nextMessage<T extends object = object>(id: string): Promise<TestMessage<T>> {
  return new Promise((resolve) => helper.getNode(id).once('input', resolve));
}

/** The arguments of each call of a node method the helper spies on, as the node makes it. */
export interface SpiedCalls {
  status: [NodeStatus];
  error: [unknown, NodeMessage?];
  warn: [unknown];
  log: [unknown];
}

/** The arguments of the calls of the helper's spy `method` (shared by all nodes) made on node `id`. */
export function callsOn<K extends keyof SpiedCalls>(id: string, method: K): SpiedCalls[K][] {
  const node = helper.getNode(id);
  return node[method]
    .getCalls()
    .filter((call: SinonSpyCall) => call.thisValue === node)
    .map((call: SinonSpyCall) => call.args as SpiedCalls[K]);
}

/** The text of the last status node `id` showed ('' before any). */
export const lastStatus = (id: string): string => String(callsOn(id, 'status').at(-1)?.[0]?.text ?? '');

/** What an error or warning a node logged says: its `message` if it has one, or itself as text. */
export const loggedText = (logged: unknown): string =>
  String((logged as { message?: unknown } | null | undefined)?.message ?? logged);

/** What the runtime publishes to the editors (RED.comms.publish), as the helper's `comms` event carries it. */
export interface CommsEvent {
  topic: string;
  data: unknown;
}

/** What a Catch node sends: the message, with the error that was thrown or reported. */
export type CaughtError = {
  error: { message: string; source: { id: string; type: string; name?: string } };
};

/** What Node-RED's log receives (the helper spies on it: `helper.log()`), as @node-red/util's log writes it. */
export interface LogEntry {
  level: number;
  msg: unknown;
  id?: string;
  type?: string;
  name?: string;
}

/** What was logged so far, in order (the helper's spy on Node-RED's log). */
export function logEntries(): LogEntry[] {
  return helper
    .log()
    .getCalls()
    .map((call: SinonSpyCall) => call.args[0] as LogEntry);
}

/** What a trigger of this package puts on the message that starts a run (src/nodes/lib/trigger.ts). */
export type RunStartInfo = {
  imis: {
    runId: string;
    queueTime: string;
    trigger: string;
    businessKey?: string;
    values?: Record<string, string>;
  };
};
