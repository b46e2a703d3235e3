import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../../..');
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, flow: JSON.parse(readFileSync(join(root, 'examples', file), 'utf8')) as any[] }));

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
