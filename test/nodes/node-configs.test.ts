import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeConfigs, settingsName } from '../../src/nodes/lib/migrations.js';
import {
  helper,
  normaliseNodeTypeName,
  packageNodes,
  registeredNodeSettings,
  startHelper,
  stopHelper,
} from '../support/red.js';

/**
 * Each node's config version and defaults are stated once, by its migrations; the runtime exposes
 * them as node settings and the editor files read them there (the browser side is checked in
 * test/editor/editor.test.ts).
 */
const root = join(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const types = Object.keys(pkg['node-red'].nodes) as string[];

describe('Node config versions and defaults, stated once', () => {
  before(async () => {
    await startHelper();
    await helper.load(packageNodes(), [{ id: 'tab', type: 'tab' }]);
  });
  after(stopHelper);

  it("names each node type's settings as Node-RED requires (the type in camel case)", () => {
    for (const type of types) assert.equal(settingsName(type), normaliseNodeTypeName(type), type);
  });

  it('exposes each node type’s config version (its number of migrations) and defaults to the editor', () => {
    for (const type of types) {
      const config = nodeConfigs.get(type);
      assert.ok(config, `${type} reads its config through a NodeConfig`);
      const name = settingsName(type);
      const settings = registeredNodeSettings.get(type);
      assert.deepEqual(settings?.[`${name}CfgVersion`], { value: config.version, exportable: true }, type);
      assert.deepEqual(settings?.[`${name}Defaults`], { value: config.defaults, exportable: true }, type);
      assert.ok(config.version >= 1, `${type} has a first migration`);
    }
  });

  it('has every editor file take its version and defaults from the runtime, never write them', () => {
    // The action nodes register through src/editor/shared/action.ts, which reads them for the type.
    const action = readFileSync(join(root, 'src/editor/shared/action.ts'), 'utf8');
    assert.match(action, /defaults: nodeDefaults\(type, \{/, "registerAction reads the runtime's defaults");
    assert.doesNotMatch(action, /cfgVersion\s*:/, 'registerAction states no version of its own');
    for (const type of types) {
      const code = readFileSync(join(root, 'src/editor/nodes', `${type}.ts`), 'utf8');
      assert.ok(
        code.includes(`defaults: nodeDefaults('${type}', {`) ||
          new RegExp(`registerAction(<.*?>)?\\(\\s*'${type}',`).test(code),
        `${type}.ts reads the runtime's defaults`,
      );
      assert.doesNotMatch(code, /cfgVersion\s*:/, `${type}.ts states no version of its own`);
    }
  });
});
