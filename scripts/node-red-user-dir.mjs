// A Node-RED user directory with this package installed in it as a link (as `npm install <path>`
// would do), and Node-RED started in it on 127.0.0.1. Shared by `npm start` (scripts/start.mjs) and
// the tests and benchmarks that run a real Node-RED (test/editor/red-process.ts).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (this file is scripts/node-red-user-dir.mjs). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/**
 * Links the package into `userDir` and writes its package.json and settings.js: Node-RED on
 * 127.0.0.1:`port`, flows in flows.json, credentials in clear (no secret to lose), no tours, no
 * telemetry or update check. `offline` also empties the palette manager's catalogue (nothing is
 * fetched from outside). `settings` adds or replaces settings: JSON values, and functions (e.g. an
 * `httpAdminMiddleware`) written as their source, which must use nothing from outside them.
 */
export function prepareUserDir({ userDir, port, offline = false, settings = {} }) {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
  const linkDir = join(userDir, 'node_modules', ...pkg.name.split('/'));
  mkdirSync(dirname(linkDir), { recursive: true });
  if (!existsSync(linkDir)) symlinkSync(PACKAGE_ROOT, linkDir, 'dir');
  writeFileSync(
    join(userDir, 'package.json'),
    JSON.stringify(
      { name: 'node-red-project', private: true, dependencies: { [pkg.name]: `file:${PACKAGE_ROOT}` } },
      null,
      2,
    ),
  );
  const all = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: false,
    editorTheme: { tours: false, ...(offline ? { palette: { catalogues: [] } } : {}) },
    // No "Enable Update Notifications" prompt on first open, and nothing sent to nodered.org.
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false },
    logging: { console: { level: 'info' } },
    ...settings,
  };
  const entries = Object.entries(all).map(
    ([key, value]) =>
      `    ${JSON.stringify(key)}: ${typeof value === 'function' ? value.toString() : JSON.stringify(value, null, 4).replace(/\n/g, '\n    ')}`,
  );
  writeFileSync(join(userDir, 'settings.js'), `module.exports = {\n${entries.join(',\n')}\n};\n`);
}

/**
 * Starts Node-RED (`redPackage`: `node-red`, or `node-red-5` on Node 22) in a prepared user directory;
 * `nodeArgs` go to node itself (e.g. `--expose-gc`).
 */
export function spawnNodeRed({ userDir, redPackage = 'node-red', stdio = 'inherit', nodeArgs = [] }) {
  const redJs = join(dirname(require.resolve(`${redPackage}/package.json`)), 'red.js');
  const args = [...nodeArgs, redJs, '--userDir', userDir, '--settings', join(userDir, 'settings.js')];
  return spawn(process.execPath, args, {
    stdio,
    env: { ...process.env, NODE_RED_ENABLE_TOURS: 'false' },
  });
}
