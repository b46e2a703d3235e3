import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Papa from 'papaparse';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import { helper, nextMessage, packageNodes } from '../support/red.js';
import type { CaughtError } from '../support/red.js';

/** What IQA Query sends on: the rows, what the query gave, and (to Export Data) the public link. */
type IqaOut = {
  payload: Record<string, unknown>[];
  iqa: { path: string; totalCount: number; rows: number; pages: number };
  publicUrl: string;
};

describe('Fetch IQA Data (→ Export Data to URL), against the emulator', function () {
  this.timeout(60000);
  let emulator: Emulator;
  let base: string;
  useEmulatedRed((env) => ({ emulator, base } = env));

  async function load(iqa: Record<string, unknown>, exportConfig?: Record<string, unknown>) {
    const token = randomBytes(24).toString('base64url');
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        {
          id: 'fetch',
          z: 'tab',
          type: 'imis-iqa',
          server: 'srv',
          ...iqa,
          wires: [[exportConfig ? 'export' : 'out']],
        },
        ...(exportConfig
          ? [{ id: 'export', z: 'tab', type: 'imis-export', ...exportConfig, wires: [['out']] }]
          : []),
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
        { id: 'srv', type: 'imis-server', baseUrl: emulator.url },
      ],
      { srv: { username: 'MANAGER', password: 'manager' }, export: { token } },
    );
    return token;
  }
  const run = <T extends object = IqaOut>(payload: unknown = {}, port = 'out') => {
    const out = nextMessage<T>(port);
    helper.getNode('fetch').receive({ payload });
    return out;
  };

  it('pages through a 25,000-row query and delivers every row, in order', async () => {
    await load({ path: '$/Emulator/Large/Members 25000', endpoint: 'query', pageSize: 500 });
    const msg = await run();
    assert.equal(msg.payload.length, 25000);
    assert.equal(msg.iqa.totalCount, 25000);
    assert.equal(msg.iqa.pages, 50);
    assert.equal(new Set(msg.payload.map((r) => r.ID)).size, 25000);
    assert.deepEqual(Object.keys(msg.payload[0]).slice(0, 2), ['ID', 'Full Name']);
  });

  it('flattens /api/iqa GenericEntityData rows to plain objects', async () => {
    await load({ path: '$/Common/Queries/Search/Contact/All', endpoint: 'iqa' });
    const msg = await run();
    const ada = msg.payload.find((r) => r.ID === '12345');
    assert.ok(ada, 'member 12345 is listed');
    assert.equal(typeof ada['Full Name'], 'string');
    assert.ok(!('Properties' in ada));
  });

  it('fills templated parameters from the input', async () => {
    await load({ path: '$/Common/Queries/Activities/By Type', parameters: ['eq:{{ input.type }}'] });
    emulator.state.activities.length = 0;
    const msg = await run({ type: 'NO-SUCH-TYPE' });
    assert.deepEqual(msg.payload, []);
  });

  it("fails the run with iMIS's message for an unknown query", async () => {
    await load({ path: '$/Nowhere/Missing' });
    const msg = await run<CaughtError>({}, 'caught');
    assert.match(msg.error.message, /Missing|not found|does not exist/i);
  });

  it('feeds Export Data to URL: the rows are served as CSV at the public link', async () => {
    const token = await load({ path: '$/Common/Queries/Search/Contact/All' }, { format: 'csv' });
    const msg = await run();
    assert.ok(msg.publicUrl.endsWith(token));
    const text = await (await fetch(`${base}/imis/export/${token}`)).text();
    const parsed = Papa.parse<Record<string, string>>(text, { header: true });
    assert.ok(parsed.data.some((r) => r.ID === '12345'));
    assert.equal(parsed.meta.fields?.[0], 'ID');
  });
});
