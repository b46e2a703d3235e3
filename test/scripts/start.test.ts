// `npm start` (scripts/start.mjs) as a new user meets it: the emulator and Node-RED on their ports,
// every example deployed, nothing asked on first open; a clear line when a port is taken.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../editor/red-process.js';
import { waitFor } from '../support/wait.js';
import type { FlowNode } from '../support/flows.js';

const ROOT = join(__dirname, '../../..');
const START = join(ROOT, 'scripts/start.mjs');

interface Started {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Started {
  const child = spawn(process.execPath, [START], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** The exit code, or a failure after `ms` (the child is killed). */
async function exitCode(started: Started, ms = 10_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      started.child.kill('SIGKILL');
      reject(new Error(`still running after ${ms} ms:\n${JSON.stringify(started.output())}`));
    }, ms);
  });
  try {
    return await Promise.race([started.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A listener holding a port on 127.0.0.1, as another program would. */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

describe('npm start (scripts/start.mjs)', function () {
  this.timeout(60_000);
  let userDir = '';
  beforeEach(() => {
    userDir = join(mkdtempSync(join(tmpdir(), 'imis-start-')), 'user');
  });
  afterEach(() => rmSync(join(userDir, '..'), { recursive: true, force: true }));

  it('stops with one line naming the taken emulator port and IMIS_EMULATOR_PORT, starting nothing', async () => {
    const { port, server } = await occupiedPort();
    try {
      const started = start({
        PORT: String(await freePort()),
        IMIS_EMULATOR_PORT: String(port),
        NODE_RED_USER_DIR: userDir,
      });
      assert.equal(await exitCode(started), 1);
      assert.deepEqual(started.output(), {
        stdout: '',
        stderr:
          `Port ${port} is already in use, so the iMIS emulator cannot start: ` +
          `set IMIS_EMULATOR_PORT to another port (e.g. IMIS_EMULATOR_PORT=${port + 1}).\n`,
      });
    } finally {
      server.close();
    }
  });

  it('stops with one line naming the taken Node-RED port and PORT, before starting the emulator', async () => {
    const { port, server } = await occupiedPort();
    try {
      const started = start({
        PORT: String(port),
        IMIS_EMULATOR_PORT: String(await freePort()),
        NODE_RED_USER_DIR: userDir,
      });
      assert.equal(await exitCode(started), 1);
      assert.deepEqual(started.output(), {
        stdout: '',
        stderr:
          `Port ${port} is already in use, so the Node-RED editor cannot start: ` +
          `set PORT to another port (e.g. PORT=${port + 1}).\n`,
      });
      assert.equal(existsSync(userDir), false, 'no user directory written');
    } finally {
      server.close();
    }
  });

  it('deploys every example with one shared server configuration and no update-notification prompt', async () => {
    const port = await freePort();
    const started = start({
      PORT: String(port),
      IMIS_EMULATOR_PORT: String(await freePort()),
      NODE_RED_USER_DIR: userDir,
    });
    try {
      const failed = () => `Node-RED did not start:\n${started.output().stdout}\n${started.output().stderr}`;
      await waitFor(
        () => {
          if (started.child.exitCode !== null) assert.fail(failed());
          return /Started flows/.test(started.output().stdout);
        },
        45_000,
        'Node-RED to start',
        50,
      ).catch((err: Error) => assert.fail(`${err.message}; ${failed()}`));
      const base = `http://127.0.0.1:${port}`;
      // The editor asks "Enable Update Notifications?" while telemetryEnabled is undefined.
      const settings = await (await fetch(`${base}/settings`)).json();
      assert.equal(settings.telemetryEnabled, false);

      const flows: FlowNode[] = await (await fetch(`${base}/flows`)).json();
      const servers = flows.filter((n) => n.type === 'imis-server');
      assert.deepEqual(
        servers.map((n) => n.name),
        ['Local iMIS emulator'],
      );
      const users = flows.filter((n) => typeof n.server === 'string');
      assert.ok(users.length >= 5);
      assert.ok(users.every((n) => n.server === servers[0].id));
      const deployed: FlowNode[] = JSON.parse(readFileSync(join(userDir, 'flows.json'), 'utf8'));
      assert.equal(new Set(deployed.map((n) => n.id)).size, deployed.length, 'no id deployed twice');
    } finally {
      started.child.kill('SIGINT');
      assert.equal(await exitCode(started), 0);
    }
  });
});
