// Build: compile TypeScript (src/, test/, bench/) with the native TypeScript 7 compiler into dist/,
// type-check the editor code (src/editor/, its own tsconfig: browser globals), then put the editor
// side beside the compiled runtime files in dist/src/nodes/, which is what Node-RED loads (see
// package.json "node-red"): each nodes/<node>.html with its editor module src/editor/nodes/<node>.ts
// bundled into it by esbuild (a <style> of the CSS it imports, then a <script> run after the
// node's templates), nodes/locales/**, and icons/. The full-page runs view's script
// (src/editor/runs/page.ts) is bundled to dist/src/nodes/imis-runs-view.js, which the runtime serves.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript-7/package.json')), 'bin', 'tsc');
const nodesOut = join(root, 'dist', 'src', 'nodes');
const editor = join(root, 'src', 'editor');

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
execFileSync(process.execPath, [tsc, '-p', join(editor, 'tsconfig.json')], { stdio: 'inherit' });
cpSync(join(root, 'nodes'), nodesOut, { recursive: true });
cpSync(join(root, 'icons'), join(nodesOut, 'icons'), { recursive: true });

/** One editor module bundled for the browser: its script and the CSS it imports. */
async function bundle(entry) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    outdir: 'out',
    loader: { '.html': 'text' },
    // Each node's HTML carries its module and the shared parts it uses: compact, names kept.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
  });
  const text = (ext) => result.outputFiles.find((f) => f.path.endsWith(ext))?.text ?? '';
  return { js: text('.js'), css: text('.css') };
}

for (const file of readdirSync(join(root, 'nodes')).filter((f) => f.endsWith('.html'))) {
  const entry = join(editor, 'nodes', file.replace(/\.html$/, '.ts'));
  if (!existsSync(entry)) throw new Error(`${file} has no editor module ${entry}`);
  const { js, css } = await bundle(entry);
  const html = readFileSync(join(root, 'nodes', file), 'utf8');
  // `</script` cannot appear inside an inline script: the bundle escapes it where a string holds it.
  const script = js.replace(/<\/(script)/gi, '<\\/$1');
  writeFileSync(
    join(nodesOut, file),
    (css ? `<style>\n${css}</style>\n\n` : '') + html + `\n<script type="text/javascript">\n${script}</script>\n`,
  );
}

const page = await bundle(join(editor, 'runs', 'page.ts'));
writeFileSync(join(nodesOut, 'imis-runs-view.js'), page.js);
writeFileSync(join(nodesOut, 'imis-runs-view.css'), page.css);
