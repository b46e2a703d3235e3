// The package as users get it: `npm pack` of a copy of the repository without dist/ (as a fresh
// clone), the tarball installed into a fresh Node-RED user directory, and Node-RED started there with
// its default settings (only the port and 127.0.0.1 given on the command line). The install is
// offline: the dependencies come from the npm cache that `npm ci` filled.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { SQLITE_DRIVERS } from '../support/sqlite.js';
import { freePort } from '../editor/red-process.js';
import { watchChild } from '../support/child.js';
import type { WatchedChild } from '../support/child.js';
import { waitFor } from '../support/wait.js';
import type { RunRecord } from '../../src/runs/tracker.js';

const ROOT = join(__dirname, '../../..');
const NODE_RED_PKG = process.env.NODE_RED_PKG ?? 'node-red';
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const run = promisify(execFile);

/** A node set or plugin as the admin API lists it (GET /nodes, GET /plugins), the fields read here. */
interface NodeSetInfo {
  id: string;
  name: string;
  module: string;
  types?: string[];
  enabled: boolean;
  err?: string;
}

/** npm in `cwd`; on failure, npm's own output says why. */
async function npm(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund'], { cwd, maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`, {
      cause: err,
    });
  }
}

/** Copies the repository as a fresh clone has it (no dist/, no installed modules, no .git). */
function freshCopy(to: string): void {
  const skipAtTop = new Set(['dist', '.git', '.node-red', 'tmp']);
  cpSync(ROOT, to, {
    recursive: true,
    filter: (from) => {
      const parts = relative(ROOT, from).split(sep);
      return !skipAtTop.has(parts[0]) && !parts.includes('node_modules');
    },
  });
  // The development dependencies `npm ci` installed, as the build needs them.
  symlinkSync(join(ROOT, 'node_modules'), join(to, 'node_modules'), 'dir');
}

/**
 * A lockfile for a user directory holding only the tarball: its dependencies at the versions the
 * repository's lockfile pins (so `npm ci --offline` finds every one in the cache), found by walking
 * the dependency graph the way Node resolves it (nested node_modules first).
 */
function userLockfile(spec: string, integrity: string): unknown {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const packages: Record<string, unknown> = {};
  const locate = (from: string, name: string): string => {
    for (
      let dir = from;
      ;
      dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : ''
    ) {
      const location = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (lock.packages[location]) return location;
      if (!dir) throw new Error(`package-lock.json has no ${name} (needed by ${from || pkg.name})`);
    }
  };
  const walk = (from: string, deps: Record<string, string> = {}) => {
    for (const name of Object.keys(deps)) {
      const location = locate(from, name);
      if (packages[location]) continue;
      const entry = lock.packages[location];
      packages[location] = entry;
      walk(location, { ...entry.dependencies, ...entry.optionalDependencies });
    }
  };
  walk('', { ...pkg.dependencies, ...pkg.optionalDependencies });
  return {
    name: 'node-red-project',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'node-red-project', dependencies: { [pkg.name]: spec } },
      [`node_modules/${pkg.name}`]: {
        version: pkg.version,
        resolved: spec,
        integrity,
        license: pkg.license,
        dependencies: pkg.dependencies,
        bin: pkg.bin,
        engines: pkg.engines,
      },
      ...packages,
    },
  };
}

/** Every file under `dir`, relative, with forward slashes. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

describe(`Package: the npm tarball installed into a fresh ${NODE_RED_PKG} user directory`, function () {
  this.timeout(90_000);

  let work = '';
  let installed = '';
  let red: WatchedChild | undefined;
  let url = '';

  before(async function () {
    this.timeout(180_000);
    work = mkdtempSync(join(tmpdir(), 'imis-pack-'));
    const source = join(work, 'clone');
    freshCopy(source);
    await npm(source, ['pack', '--pack-destination', work]);
    const tarball = join(
      work,
      readdirSync(work).find((f) => f.endsWith('.tgz'))!,
    );

    const userDir = join(work, 'user');
    mkdirSync(userDir);
    const spec = `file:../${basename(tarball)}`;
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    writeFileSync(
      join(userDir, 'package.json'),
      JSON.stringify({ name: 'node-red-project', private: true, dependencies: { [pkg.name]: spec } }),
    );
    writeFileSync(join(userDir, 'package-lock.json'), JSON.stringify(userLockfile(spec, integrity)));
    // Install scripts skipped: the only one is better-sqlite3's native build, which compiles SQLite
    // from source here (minutes; users get a prebuilt binary). Where Node has SQLite built in, the
    // store needs no build at all; elsewhere (Node 20) the binary is taken from the repository's
    // own install, built for this same Node.
    await npm(userDir, ['ci', '--offline', '--ignore-scripts']);
    installed = join(userDir, 'node_modules', ...String(pkg.name).split('/'));
    if (SQLITE_DRIVERS.find((d) => d.driver === 'node:sqlite')?.unavailable) {
      const nativeBuild = join(dirname(require.resolve('better-sqlite3/package.json')), 'build');
      cpSync(nativeBuild, join(userDir, 'node_modules', 'better-sqlite3', 'build'), { recursive: true });
    }

    // Node-RED with the settings file it writes itself on first start (the defaults).
    const redJs = join(dirname(require.resolve(`${NODE_RED_PKG}/package.json`)), 'red.js');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [redJs, '--userDir', userDir, '--port', String(port), '-D', 'uiHost=127.0.0.1'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    red = watchChild(child);
    await red.waitForOutput(/Started flows/, 60_000);
    url = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await red?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** GET `path` of the admin API, answered 200, its JSON read as `T` (what the path answers). */
  const getJson = async <T>(path: string): Promise<T> => {
    const response = await fetch(url + path, { headers: { Accept: 'application/json' } });
    assert.equal(response.status, 200, `GET ${path}`);
    return (await response.json()) as T;
  };

  it('builds on pack: the compiled nodes and editor files, examples and the emulator, no tests, benchmarks, sources or source maps', () => {
    const files = filesUnder(installed);
    for (const file of [
      ...Object.values(pkg['node-red'].nodes as Record<string, string>),
      ...Object.values(pkg['node-red'].plugins as Record<string, string>),
    ]) {
      assert.ok(files.includes(file), `ships ${file}`);
      assert.ok(files.includes(file.replace(/\.js$/, '.html')), `ships the editor file of ${file}`);
    }
    for (const example of readdirSync(join(ROOT, 'examples')))
      assert.ok(files.includes(`examples/${example}`), `ships examples/${example}`);
    assert.ok(files.includes(pkg.bin['imis-emulator']), 'ships the imis-emulator command');
    // What the editor is served besides the node HTML files: the full-page runs view.
    for (const file of ['dist/src/nodes/imis-runs-view.js', 'dist/src/nodes/imis-runs-view.css'])
      assert.ok(files.includes(file), `ships ${file}`);
    // The files the README links to.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const linked = [...readme.matchAll(/\]\((docs\/[^)#]+)/g)].map((m) => m[1]);
    assert.ok(linked.length > 0);
    for (const file of linked) assert.ok(files.includes(file), `ships ${file}, which the README links to`);
    const unwanted = files.filter(
      (f) =>
        f.endsWith('.map') ||
        f.endsWith('.ts') ||
        /^(src|test|bench|scripts|dist\/test|dist\/bench)\//.test(f),
    );
    assert.deepEqual(unwanted, []);
  });

  it('loads every node type and plugin of package.json without error', async () => {
    const sets = (await getJson<NodeSetInfo[]>('/nodes')).filter((s) => s.module === pkg.name);
    const types = sets.flatMap((s) => s.types ?? []);
    const failed = sets.filter((s) => s.err || !s.enabled).map((s) => `${s.id}: ${s.err}`);
    assert.deepEqual(failed, []);
    assert.deepEqual(types.sort(), Object.keys(pkg['node-red'].nodes).sort());

    const plugins = (await getJson<NodeSetInfo[]>('/plugins')).filter((s) => s.module === pkg.name);
    const pluginFailures = plugins.filter((s) => s.err || !s.enabled).map((s) => `${s.id}: ${s.err}`);
    assert.deepEqual(pluginFailures, []);
    assert.deepEqual(plugins.map((s) => s.name).sort(), Object.keys(pkg['node-red'].plugins).sort());

    const complaints = red!
      .output()
      .split('\n')
      .filter((line) => /\[(error|warn)\]/.test(line) && /imis/i.test(line));
    assert.deepEqual(complaints, []);
  });

  it('lists every example under Import > Examples and serves each one as shipped', async () => {
    // What the editor's Import > Examples asks: library "examples", type "flows", path <module>/<name>.
    const listing: { fn: string }[] = await getJson(`/library/examples/flows/${pkg.name}`);
    const expected = readdirSync(join(ROOT, 'examples'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    assert.deepEqual(listing.map((e) => e.fn).sort(), expected.sort());
    for (const name of expected) {
      assert.deepEqual(
        await getJson(`/library/examples/flows/${pkg.name}/${name}`),
        JSON.parse(readFileSync(join(ROOT, 'examples', `${name}.json`), 'utf8')),
        name,
      );
    }
  });

  it('takes a webhook call with a gzip body on a flow deployed to it, and records its run', async () => {
    // Node-RED's default settings: the editor, the admin API and the flows' endpoints share `/`.
    const token = 'tarball-webhook-token-0123456789';
    const deployed = await fetch(`${url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify([
        { id: 'tb-tab', type: 'tab', label: 'tarball' },
        {
          id: 'tb-hook',
          z: 'tb-tab',
          type: 'imis-webhook-in',
          name: 'check-in',
          x: 120,
          y: 60,
          wires: [[]],
          credentials: { token },
        },
      ]),
    });
    assert.equal(deployed.status, 204, await deployed.text());
    const payload = { memberId: '12345', note: 'Grüße' };
    const hook = `${url}/imis/hook/${token}`;
    // The body reader's dependencies (raw-body, iconv-lite) come from the installed package.
    const answer = await waitFor(
      async () => {
        const res = await fetch(hook, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Encoding': 'gzip' },
          body: gzipSync(JSON.stringify(payload)),
        });
        // While the new flow starts: 404, then 503 "Node-RED is starting its flows" (Retry-After).
        if (res.status !== 404 && res.status !== 503) return res;
        await res.arrayBuffer();
        return undefined;
      },
      10_000,
      'the deployed webhook',
    );
    const body = await answer.text();
    assert.equal(answer.status, 200, body);
    const { id } = JSON.parse(body) as { id: string };
    const run = await waitFor(async () => {
      const res = await fetch(`${url}/imis/runs/${id}`);
      const found = res.status === 200 ? ((await res.json()) as RunRecord) : undefined;
      return found && found.status !== 'running' ? found : undefined;
    });
    assert.equal(run.status, 'ok');
    assert.deepEqual(run.input, payload);

    const broken = await fetch(hook, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"memberId":',
    });
    assert.equal(broken.status, 400);
    assert.equal(((await broken.json()) as { error: boolean }).error, true);
  });

  it('installs the imis-emulator command, which starts the local iMIS emulator', async () => {
    const bin = join(installed, '..', '..', '.bin', 'imis-emulator');
    const emulator = watchChild(
      spawn(bin, [], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, IMIS_EMULATOR_PORT: String(await freePort()) },
      }),
    );
    try {
      await emulator.waitForOutput(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 20_000);
      const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(emulator.output())![1];
      const token = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=password&username=MANAGER&password=manager',
      });
      assert.equal(token.status, 200);
      assert.ok((await token.json()).access_token);
    } finally {
      await emulator.stop();
    }
  });
});
