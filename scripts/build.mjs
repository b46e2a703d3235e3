// Build: compile TypeScript (src/, test/, bench/) with the native TypeScript 7 compiler into dist/,
// then put the editor side (nodes/<node>.html, nodes/locales/**, icons/) beside the compiled
// runtime files in dist/src/nodes/, which is what Node-RED loads (see package.json "node-red").
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript-7/package.json')), 'bin', 'tsc');
const nodesOut = join(root, 'dist', 'src', 'nodes');

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
cpSync(join(root, 'nodes'), nodesOut, { recursive: true });
cpSync(join(root, 'icons'), join(nodesOut, 'icons'), { recursive: true });
