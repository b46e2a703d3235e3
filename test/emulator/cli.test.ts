// The `imis-emulator` command (dist/src/emulator/cli.js) as a user runs it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';

const CLI = join(__dirname, '../../src/emulator/cli.js');

/** Runs the command to its end (at most 10 s); its exit code and output. */
function runCli(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after 10 s:\n${stdout}${stderr}`));
    }, 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A listener holding a port on 127.0.0.1, as another program would. */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

describe('imis-emulator command', () => {
  it('prints its usage for --help and exits, starting nothing', async () => {
    for (const flag of ['--help', '-h']) {
      const result = await runCli({}, [flag]);
      assert.equal(result.code, 0, flag);
      assert.equal(result.stderr, '');
      assert.match(result.stdout, /^Usage: imis-emulator \[--help\]\n/);
      assert.match(result.stdout, /IMIS_EMULATOR_PORT/);
      assert.doesNotMatch(result.stdout, /listening/);
    }
  });

  it('refuses an option it does not know, with its usage, and exits 2', async () => {
    const result = await runCli({}, ['--port=1']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /Unknown option '--port'[\s\S]*Usage: imis-emulator/);
  });

  it('says in one line which port is taken and that IMIS_EMULATOR_PORT moves it, and exits 1', async () => {
    const { port, server } = await occupiedPort();
    try {
      const result = await runCli({ IMIS_EMULATOR_PORT: String(port) });
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.equal(
        result.stderr,
        `Port ${port} is already in use, so the iMIS emulator cannot start: ` +
          `set IMIS_EMULATOR_PORT to another port (e.g. IMIS_EMULATOR_PORT=${port + 1}).\n`,
      );
    } finally {
      server.close();
    }
  });

  it('refuses an IMIS_EMULATOR_PORT that is not a port number in one line', async () => {
    const result = await runCli({ IMIS_EMULATOR_PORT: '50800x' });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'IMIS_EMULATOR_PORT must be a port number (0-65535), not "50800x"\n');
  });
});
