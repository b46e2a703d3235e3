import type { ChildProcess, StdioOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { watchChild } from '../support/child.js';

/**
 * A real Node-RED, started as a child process on 127.0.0.1 with a temporary user directory in which
 * this package is installed as a link, prepared as `npm start` prepares its own
 * (scripts/node-red-user-dir.mjs). Used by the editor test and by the benchmark. Nothing leaves
 * 127.0.0.1: no palette catalogue, no telemetry.
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
   * written as JSON, functions as their source (which must use nothing outside them).
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

/** What scripts/node-red-user-dir.mjs exports (an ES module of the scripts, loaded at run time). */
interface UserDirModule {
  prepareUserDir(options: {
    userDir: string;
    port: number;
    offline?: boolean;
    settings?: Record<string, unknown>;
  }): void;
  spawnNodeRed(options: {
    userDir: string;
    redPackage?: string;
    stdio?: StdioOptions;
    nodeArgs?: string[];
  }): ChildProcess;
}

function userDirModule(): Promise<UserDirModule> {
  return import(pathToFileURL(join(PACKAGE_ROOT, 'scripts', 'node-red-user-dir.mjs')).href);
}

/** Prepares a user directory as `npm start` does and starts Node-RED in it. */
export async function startNodeRed(options: RedOptions = {}): Promise<RedProcess> {
  const redDir = dirname(require.resolve(`${NODE_RED_PKG}/package.json`));
  const { prepareUserDir, spawnNodeRed } = await userDirModule();
  const port = await freePort();
  const userDir = mkdtempSync(join(tmpdir(), 'imis-red-'));
  prepareUserDir({ userDir, port, offline: true, settings: options.settings });
  if (options.flows) writeFileSync(join(userDir, 'flows.json'), JSON.stringify(options.flows, null, 2));
  if (options.credentials) {
    writeFileSync(join(userDir, 'flows_cred.json'), JSON.stringify(options.credentials, null, 2));
  }

  const child = spawnNodeRed({
    userDir,
    redPackage: NODE_RED_PKG,
    stdio: ['ignore', 'pipe', 'pipe'],
    nodeArgs: options.nodeArgs,
  });
  const watched = watchChild(child, 200_000);
  const url = `http://127.0.0.1:${port}`;
  const red: RedProcess = {
    url,
    port,
    userDir,
    version: '',
    pid: child.pid ?? 0,
    output: watched.output,
    close: async () => {
      await watched.stop('SIGINT', 5000);
      rmSync(userDir, { recursive: true, force: true });
    },
  };

  try {
    await watched.waitForOutput(/Started flows/, options.startTimeoutMs ?? 30_000);
    red.version = JSON.parse(readFileSync(join(redDir, 'package.json'), 'utf8')).version;
    const adminRoot = String(options.settings?.httpAdminRoot ?? '/').replace(/\/?$/, '/');
    const settings = await fetch(`${url}${adminRoot}settings`);
    if (!settings.ok) throw new Error(`GET /settings answered ${settings.status}:\n${watched.output()}`);
  } catch (err) {
    await red.close();
    throw new Error(`Node-RED (${NODE_RED_PKG}) did not start: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return red;
}

/** True when the child's log shows that one of this package's node modules failed to load. */
export function loadErrors(output: string): string[] {
  return output.split('\n').filter((line) => /\[(error|warn)\].*(imis|node-red-imis)/i.test(line));
}
