import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * A real Node-RED, started as a child process on 127.0.0.1 with a temporary user directory in which
 * this package is installed as a link (as `npm install <path>` would do, and as scripts/start.mjs
 * does). Used by the editor test and by the benchmark. Nothing leaves 127.0.0.1: no palette catalogue,
 * no telemetry.
 */

/** The package root (this file is compiled to dist/test/editor/). */
export const PACKAGE_ROOT = join(__dirname, '..', '..', '..');

/** Which Node-RED to run: `node-red` (4.1) or `node-red-5` (needs Node 22). */
export const NODE_RED_PKG = process.env.NODE_RED_PKG ?? 'node-red';

export interface RedProcess {
  /** http://127.0.0.1:<port> (no trailing slash). */
  url: string;
  port: number;
  userDir: string;
  /** Node-RED's version (its package.json). */
  version: string;
  /** The child's process id. */
  pid: number;
  /** Everything the child wrote so far (stdout and stderr). */
  output(): string;
  /** Stops the child (SIGINT, then SIGKILL) and removes the user directory. */
  close(): Promise<void>;
}

export interface RedOptions {
  /** Flow file contents; none = Node-RED starts with an empty workspace. */
  flows?: unknown[];
  /** flows_cred.json contents (stored in clear: credentialSecret is false). */
  credentials?: Record<string, Record<string, unknown>>;
  /** How long to wait for "Started flows" (default 30 s). */
  startTimeoutMs?: number;
  /**
   * More settings, e.g. `{ httpAdminRoot: '/admin' }`; Node-RED's defaults otherwise. Values are
   * written as JSON, functions as their source (which must not use anything outside them).
   */
  settings?: Record<string, unknown>;
  /** Options for node itself, before Node-RED's script (e.g. `--expose-gc`). */
  nodeArgs?: string[];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Prepares a user directory like scripts/start.mjs and starts Node-RED in it. */
export async function startNodeRed(options: RedOptions = {}): Promise<RedProcess> {
  const redDir = dirname(require.resolve(`${NODE_RED_PKG}/package.json`));
  const redJs = join(redDir, 'red.js');
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
  const port = await freePort();
  const userDir = mkdtempSync(join(tmpdir(), 'imis-red-'));

  const linkDir = join(userDir, 'node_modules', ...String(pkg.name).split('/'));
  mkdirSync(dirname(linkDir), { recursive: true });
  symlinkSync(PACKAGE_ROOT, linkDir, 'dir');
  writeFileSync(
    join(userDir, 'package.json'),
    JSON.stringify({
      name: 'node-red-project',
      private: true,
      dependencies: { [pkg.name]: `file:${PACKAGE_ROOT}` },
    }),
  );
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = {
    uiHost: '127.0.0.1',
    uiPort: ${port},
    flowFile: 'flows.json',
    credentialSecret: false,
    editorTheme: { tours: false, palette: { catalogues: [] } },
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    logging: { console: { level: 'info' } },
${Object.entries(options.settings ?? {})
  .map(
    ([key, value]) =>
      `    ${JSON.stringify(key)}: ${typeof value === 'function' ? value.toString() : JSON.stringify(value)},\n`,
  )
  .join('')}};\n`,
  );
  if (options.flows) writeFileSync(join(userDir, 'flows.json'), JSON.stringify(options.flows, null, 2));
  if (options.credentials) {
    writeFileSync(join(userDir, 'flows_cred.json'), JSON.stringify(options.credentials, null, 2));
  }

  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), redJs, '--userDir', userDir, '--settings', join(userDir, 'settings.js')],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_RED_ENABLE_TOURS: 'false' } },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = `http://127.0.0.1:${port}`;
  const red: RedProcess = {
    url,
    port,
    userDir,
    version: '',
    pid: child.pid ?? 0,
    output: () => output,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(userDir, { recursive: true, force: true });
    },
  };

  try {
    await waitUntil(
      () => /Started flows/.test(output),
      () => child.exitCode !== null,
      options.startTimeoutMs ?? 30_000,
    );
    red.version = JSON.parse(readFileSync(join(redDir, 'package.json'), 'utf8')).version;
    const adminRoot = String(options.settings?.httpAdminRoot ?? '/').replace(/\/?$/, '/');
    const settings = await fetch(`${url}${adminRoot}settings`);
    if (!settings.ok) throw new Error(`GET /settings answered ${settings.status}`);
  } catch (err) {
    await red.close();
    throw new Error(`Node-RED (${NODE_RED_PKG}) did not start: ${(err as Error).message}\n${output}`, {
      cause: err,
    });
  }
  return red;
}

async function waitUntil(ready: () => boolean, dead: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!ready()) {
    if (dead()) throw new Error('the process exited');
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** True when the child's log shows that one of this package's node modules failed to load. */
export function loadErrors(output: string): string[] {
  return output.split('\n').filter((line) => /\[(error|warn)\].*(imis|node-red-imis)/i.test(line));
}
