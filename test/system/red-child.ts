import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { watchChild } from '../support/child.js';
import { nodeOf, type FlowNode } from '../support/flows.js';
import { waitFor } from '../support/wait.js';

/**
 * A real Node-RED as a child process of the test, in a user directory that outlives it: started,
 * killed (SIGKILL) or stopped (SIGINT), and started again on the same directory and port. The
 * package is installed in the user directory as a link, as `npm install <path>` (and
 * scripts/start.mjs) would do. Same node binary as the test; NODE_RED_PKG picks Node-RED 4.1 or 5.
 */

/** The package root (this file is compiled to dist/test/system/). */
export const PACKAGE_ROOT = join(__dirname, '..', '..', '..');
export const NODE_RED_PKG = process.env.NODE_RED_PKG ?? 'node-red';

export interface UserDirOptions {
  /** An existing directory to use (e.g. a copied fixture); default a new temporary one. */
  userDir?: string;
  port: number;
  /** flows.json contents; none = keep what the directory holds. */
  flows?: unknown[];
  /** flows_cred.json contents, in clear (only with credentialSecret false). */
  credentials?: Record<string, Record<string, unknown>>;
  /** Node-RED's credentialSecret (default false: credentials in clear). */
  credentialSecret?: string | false;
  /** The `imis` section of settings.js. */
  imis?: Record<string, unknown>;
  /** More settings (e.g. httpServerOptions). */
  settings?: Record<string, unknown>;
}

/** Writes settings.js (and flows, credentials, the package link) into a user directory. */
export function prepareUserDir(options: UserDirOptions): string {
  const userDir = options.userDir ?? mkdtempSync(join(tmpdir(), 'imis-system-'));
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
  const linkDir = join(userDir, 'node_modules', ...String(pkg.name).split('/'));
  mkdirSync(dirname(linkDir), { recursive: true });
  if (!existsSync(linkDir)) symlinkSync(PACKAGE_ROOT, linkDir, 'dir');
  writeFileSync(
    join(userDir, 'package.json'),
    JSON.stringify({
      name: 'node-red-project',
      private: true,
      dependencies: { [pkg.name]: `file:${PACKAGE_ROOT}` },
    }),
  );
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: options.port,
    flowFile: 'flows.json',
    credentialSecret: options.credentialSecret ?? false,
    editorTheme: { tours: false, palette: { catalogues: [] } },
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    logging: { console: { level: 'info' } },
    ...(options.imis ? { imis: options.imis } : {}),
    ...options.settings,
  };
  writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  if (options.flows) writeFileSync(join(userDir, 'flows.json'), JSON.stringify(options.flows, null, 2));
  if (options.credentials) {
    writeFileSync(join(userDir, 'flows_cred.json'), JSON.stringify(options.credentials, null, 2));
  }
  return userDir;
}

export interface RedChild {
  url: string;
  pid: number;
  /** Everything the child wrote so far (stdout and stderr). */
  output(): string;
  /** Lines Node-RED logged at level error (and uncaught exceptions). */
  errors(): string[];
  /** SIGKILL: no close handlers, no flush, as a crash or an OOM kill. */
  kill(): Promise<void>;
  /** SIGINT, as Ctrl-C or a service stop: flows close and the store is flushed and closed. */
  stop(): Promise<void>;
}

/** Starts Node-RED in `userDir` and resolves once its flows have started. */
export async function startRed(userDir: string, port: number, timeoutMs = 30_000): Promise<RedChild> {
  const redDir = dirname(require.resolve(`${NODE_RED_PKG}/package.json`));
  const child: ChildProcess = spawn(
    process.execPath,
    [join(redDir, 'red.js'), '--userDir', userDir, '--settings', join(userDir, 'settings.js')],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_RED_ENABLE_TOURS: 'false' } },
  );
  const watched = watchChild(child);
  const red: RedChild = {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    output: watched.output,
    errors: () =>
      watched
        .output()
        .split('\n')
        .filter((line) => /\[error\]|Uncaught|UnhandledPromiseRejection/i.test(line)),
    kill: () => watched.stop('SIGKILL', 5000),
    stop: () => watched.stop('SIGINT', 10_000),
  };
  try {
    await watched.waitForOutput(/Started flows/, timeoutMs);
  } catch (err) {
    await red.kill();
    throw new Error(`Node-RED (${NODE_RED_PKG}) did not start in ${userDir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return red;
}

/**
 * The check-in example (Webhook in → JSON Schema Validation → Insert Activity) against `imisUrl`,
 * with the ids of its webhook and server nodes (for their credentials).
 */
export function checkInFlows(imisUrl: string): { flows: FlowNode[]; hookId: string; serverId: string } {
  const flows = JSON.parse(
    readFileSync(join(PACKAGE_ROOT, 'examples', 'event-check-in-to-activity.json'), 'utf8'),
  ) as FlowNode[];
  const server = nodeOf(flows, (n) => n.type === 'imis-server', 'imis-server');
  server.baseUrl = imisUrl;
  const hook = nodeOf(flows, (n) => n.type === 'imis-webhook-in', 'imis-webhook-in');
  return { flows, hookId: hook.id, serverId: server.id };
}

/** Polls `check` until it holds (test/support/wait.ts), every 50 ms by default. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 50,
): Promise<void> {
  await waitFor(check, timeoutMs, what, everyMs);
}
