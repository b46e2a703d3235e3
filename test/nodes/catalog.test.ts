import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FlowNode } from '../support/flows.js';

const root = join(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const locales = join(root, 'nodes/locales/en-US');
/**
 * Node-RED gives each file its own catalog namespace (`<package>/<file>`, from
 * locales/en-US/<file>.json): a bare key is looked up in the file's own catalog only, and a key of
 * another catalog names it (`<package>/<file>:key`, or `node-red:` for the core catalog).
 */
const catalogOf = (file: string) => {
  const json = join(locales, `${file}.json`);
  return existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : {};
};
const has = (file: string, key: string) => {
  const named = key.match(/^([^:]+)\/([\w-]+):(.*)$/);
  if (named && named[1] !== pkg.name) return false;
  const [catalog, bare] = named ? [catalogOf(named[2]), named[3]] : [catalogOf(file), key];
  return (
    typeof bare
      .split('.')
      .reduce<unknown>((n, p) => (n as Record<string, unknown> | undefined)?.[p], catalog) === 'string'
  );
};

describe('Package layout and message catalogs', () => {
  const sets = Object.entries(pkg['node-red'].nodes as Record<string, string>);

  it('gives every node an editor file, a help file, a message catalog and an icon', () => {
    for (const [name, file] of sets) {
      const stem = basename(file, '.js');
      assert.equal(stem, name);
      assert.ok(existsSync(join(root, 'nodes', `${stem}.html`)), `${stem}.html`);
      const help = readFileSync(join(locales, `${stem}.html`), 'utf8');
      assert.match(help, new RegExp(`data-help-name="${name}"`));
      const editorFile = readFileSync(join(root, 'src/editor/nodes', `${stem}.ts`), 'utf8');
      if (!/category: 'config'/.test(editorFile))
        assert.match(help, /<h3>(Inputs|Outputs)<\/h3>/, `${name} help lists inputs/outputs`);
      assert.match(help, /<h3>Details<\/h3>/);
      assert.match(help, /<h3>References<\/h3>/);
      assert.ok(existsSync(join(locales, `${stem}.json`)), `${stem}.json`);
      const icon = /icon: '([^']+)'/.exec(editorFile)?.[1];
      if (icon) assert.ok(existsSync(join(root, 'icons', icon)), `icon ${icon}`);
    }
  });

  it('finds every message key the runtime and the editor use in the catalogs', () => {
    const missing: string[] = [];
    for (const file of readdirSync(join(root, 'src/nodes'), { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts'),
    )) {
      const text = readFileSync(join(root, 'src/nodes', file), 'utf8');
      for (const m of text.matchAll(/RED\._\(\s*'([a-z0-9-]+\.[\w.-]+)'/g))
        if (!has(basename(file, '.ts'), m[1])) missing.push(`${file}: ${m[1]}`);
      for (const m of text.matchAll(/serverMessage\(RED, '([\w.-]+)'/g))
        if (!has('imis-server', `imis-server.${m[1]}`)) missing.push(`${file}: imis-server.${m[1]}`);
      for (const m of text.matchAll(/protectMessage\(\s*RED,\s*'([\w.-]+)'/g))
        if (!has('imis-editor', `imis-editor.protect.${m[1]}`))
          missing.push(`${file}: imis-editor.protect.${m[1]}`);
      for (const m of text.matchAll(/runLabelsMessage\(\s*RED,\s*'([\w.-]+)'/g))
        if (!has('imis-editor', `imis-editor.runLabels.${m[1]}`))
          missing.push(`${file}: imis-editor.runLabels.${m[1]}`);
    }
    // The editor: each node's dialog template (nodes/<node>.html) and editor module
    // (src/editor/nodes/<node>.ts) look their texts up in the node's catalog.
    for (const file of readdirSync(join(root, 'nodes')).filter((f) => f.endsWith('.html'))) {
      const stem = basename(file, '.html');
      const text = readFileSync(join(root, 'nodes', file), 'utf8');
      const module = join(root, 'src/editor/nodes', `${stem}.ts`);
      const code = existsSync(module) ? readFileSync(module, 'utf8') : '';
      const keys = [
        ...[...text.matchAll(/data-i18n="(?:\[[a-z]+\])?([a-z0-9-]+\.[\w.-]+)"/g)].map((m) => m[1]),
        // node._(key) in the node's catalog, or typeText(type, key) in that type's catalog.
        ...[...code.matchAll(/\._\('([a-z0-9-]+\.[\w.-]+)'[,)]/g)].map((m) => m[1]),
        ...[...code.matchAll(/typeText\('([\w-]+)', '([a-z0-9-]+\.[\w.-]+)'/g)].map(
          (m) => `${pkg.name}/${m[1]}:${m[2]}`,
        ),
        ...[...code.matchAll(/timeZoneValidator\('([a-z0-9-]+\.[\w.-]+)'/g)].map((m) => m[1]),
        ...[...code.matchAll(/'(imis-[a-z-]+\.notify\.[\w-]+)'/g)].map((m) => m[1]),
      ];
      // The shared URL row (src/editor/shared/tokens.ts) uses `<type>.notify.copied` / `.regenerated`.
      if (code.includes('secretUrlRow(')) keys.push(`${stem}.notify.copied`, `${stem}.notify.regenerated`);
      // Its parts `url` and `link` label the row and its buttons in the node's words (`@type.…`).
      const urlPart = /data-imis-part="(url|link)"/.exec(text)?.[1];
      if (urlPart) keys.push(`${stem}.label.${urlPart}`, `${stem}.label.copy`, `${stem}.label.regenerate`);
      // Its part `run-labels` shows the node's own example of a business key (`@type.…`).
      if (text.includes('data-imis-part="run-labels"')) keys.push(`${stem}.placeholder.businessKey`);
      for (const key of keys)
        if (!key.startsWith('node-red:') && !has(stem, key)) missing.push(`${file}: ${key}`);
    }
    // The shared parts and the sidebars: their helpers name the catalog (t and validator: imis-editor,
    // runsText: imis-runs; the runs dashboard's t: imis-runs; tr: imis-workflows).
    const editorFiles = (dir: string) =>
      readdirSync(join(root, 'src/editor', dir))
        .filter((f) => /\.(ts|html)$/.test(f))
        .map((f) => ({
          file: `src/editor/${dir}/${f}`,
          text: readFileSync(join(root, 'src/editor', dir, f), 'utf8'),
        }));
    const helpers: [string, RegExp, string][] = [
      ['shared', /\b(?:t|validator)\('([\w.-]+)'[,)]/g, 'imis-editor'],
      ['shared', /data-i18n="(?:\[[a-z]+\])?imis-editor\.([\w.-]+)"/g, 'imis-editor'],
      ['shared', /'imis-editor\.([\w.-]+)'/g, 'imis-editor'],
      ['shared', /\brunsText\('([\w.-]+)'[,)]/g, 'imis-runs'],
      ['runs', /\bt\('([\w.-]+)'[,)]/g, 'imis-runs'],
      ['workflows', /\btr\('([\w.-]+)'[,)]/g, 'imis-workflows'],
      ['nodes', /\btr\('([\w.-]+)'[,)]/g, 'imis-workflows'],
    ];
    for (const [dir, pattern, catalog] of helpers)
      for (const { file, text } of editorFiles(dir))
        for (const m of text.matchAll(pattern))
          if (!has(catalog, `${catalog}.${m[1]}`)) missing.push(`${file}: ${catalog}.${m[1]}`);
    const sidebar = readFileSync(join(root, 'src/editor/nodes/imis-runs.ts'), 'utf8');
    for (const m of sidebar.matchAll(/\bt\('([\w.-]+)'[,)]/g))
      if (!has('imis-runs', `imis-runs.${m[1]}`)) missing.push(`imis-runs.ts: ${m[1]}`);
    assert.deepEqual(missing, []);
  });

  it("ships the wizard templates under examples/, each a valid flow using the package's nodes", () => {
    const files = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 5);
    const types = new Set(sets.map(([name]) => name));
    for (const file of files) {
      const flow: FlowNode[] = JSON.parse(readFileSync(join(root, 'examples', file), 'utf8'));
      assert.ok(Array.isArray(flow));
      assert.ok(
        flow.some((n) => types.has(n.type)),
        `${file} uses the package`,
      );
      assert.ok(!JSON.stringify(flow).includes('"credentials"'), `${file} carries no credentials`);
    }
  });
});
