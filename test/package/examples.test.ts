import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { settingsName } from '../../src/nodes/lib/migrations.js';
import { helper, packageNodes, registeredNodeSettings, startHelper, stopHelper } from '../support/red.js';
import type { FlowNode } from '../support/flows.js';

const root = join(__dirname, '../../..');
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({
    file,
    flow: JSON.parse(readFileSync(join(root, 'examples', file), 'utf8')) as FlowNode[],
  }));

describe('Examples: importing several leaves one server configuration', () => {
  const servers = examples.flatMap(({ file, flow }) =>
    flow.filter((n) => n.type === 'imis-server').map((node) => ({ file, node })),
  );

  it('gives every example that talks to iMIS the same "Local iMIS emulator" server node, with the same id and config', () => {
    const users = examples.filter(({ flow }) => flow.some((n) => typeof n.server === 'string'));
    assert.ok(users.length >= 4, 'most examples talk to iMIS');
    assert.deepEqual(
      servers.map((s) => s.file).sort(),
      users.map((u) => u.file).sort(),
      'each example that uses a server carries it (so it imports alone)',
    );
    const [first] = servers;
    assert.equal(first.node.name, 'Local iMIS emulator');
    for (const { file, node } of servers) assert.deepEqual(node, first.node, `${file}: same server node`);
    for (const { file, flow } of examples) {
      for (const n of flow.filter((x) => typeof x.server === 'string'))
        assert.equal(n.server, first.node.id, `${file}: ${n.type} "${n.name}" uses the shared server`);
    }
  });

  it('shares no other node id between examples (an import never clashes)', () => {
    const owner = new Map<string, string>();
    const clashes: string[] = [];
    for (const { file, flow } of examples) {
      for (const n of flow) {
        if (n.type === 'imis-server') continue;
        if (owner.has(n.id)) clashes.push(`${n.id} in ${owner.get(n.id)} and ${file}`);
        owner.set(n.id, file);
      }
    }
    assert.deepEqual(clashes, []);
  });
});

describe('Examples: saved at the current config version of each node', () => {
  // The versions and defaults the runtime exposes to the editor (registerType settings), as the
  // editor reads them with RED.settings: an example node saved at an older version opens its dialog
  // without the fields added since.
  before(async () => {
    await startHelper();
    await helper.load(packageNodes(), [{ id: 'tab', type: 'tab' }]);
  });
  after(stopHelper);

  const exposed = (type: string) => {
    const settings = registeredNodeSettings.get(type);
    const name = settingsName(type);
    return (
      settings && {
        version: settings[`${name}CfgVersion`]?.value as number,
        defaults: settings[`${name}Defaults`]?.value as Record<string, unknown>,
      }
    );
  };

  it("has every example node of this package carry its type's current config version and every field it defaults", () => {
    const stale: string[] = [];
    let checked = 0;
    for (const { file, flow } of examples) {
      for (const n of flow.filter((x) => typeof x.type === 'string' && x.type.startsWith('imis-'))) {
        const current = exposed(n.type);
        assert.ok(current, `${file}: ${n.type} is a node type of this package`);
        checked++;
        const missing = Object.keys(current.defaults).filter((key) => !(key in n));
        if (n.cfgVersion !== current.version || missing.length > 0)
          stale.push(
            `${file}: ${n.type} "${n.name ?? n.id}" at version ${n.cfgVersion}, current ${current.version}` +
              (missing.length > 0 ? `, missing ${missing.join(', ')}` : ''),
          );
      }
    }
    assert.ok(checked >= 20, `the examples hold many of this package's nodes (${checked})`);
    assert.deepEqual(stale, []);
  });
});
