import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The heavy libraries are loaded on first use (src/core/lazy.ts), so that a Node-RED that has only
// loaded the package stays small (npm run bench, startup). Each check runs in a fresh Node process,
// as Node-RED starts: it loads every node file of the package, then uses one feature for the first time.

const run = promisify(execFile);
const root = join(__dirname, '..', '..', '..');
/** What Node-RED loads: the package's nodes and plugins (package.json "node-red"). */
const manifest = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    'node-red': { nodes: Record<string, string>; plugins: Record<string, string> };
  }
)['node-red'];
const nodeFiles = [...Object.values(manifest.nodes), ...Object.values(manifest.plugins)].map((f) =>
  join(root, f),
);

/** Libraries that no node file may load before a flow uses them. */
const HEAVY = [
  'axios',
  'liquidjs',
  'papaparse',
  'jsonata',
  '@dagrejs/dagre',
  'safe-stable-stringify',
  'croner',
  'cronstrue',
  'ajv-formats',
  'ajv-draft-04',
  'ajv/dist/2019',
  'ajv/dist/2020',
];

/**
 * Loads every node file in a new process, reports which HEAVY libraries are loaded, runs `firstUse`
 * (a script body with `src` = the compiled src/ folder, returning a promise or a value) and
 * reports its result and which of them are loaded afterwards.
 */
async function freshProcess(
  firstUse: string,
): Promise<{ before: string[]; after: string[]; result: unknown }> {
  const script = `
    const path = require('node:path');
    const src = ${JSON.stringify(join(__dirname, '..', '..', 'src'))};
    const heavy = ${JSON.stringify(HEAVY)};
    const loaded = () => heavy.filter((m) => {
      let file;
      try { file = require.resolve(m, { paths: [src] }); } catch { return false; }
      return require.cache[file] !== undefined;
    });
    for (const file of ${JSON.stringify(nodeFiles)}) require(file);
    const before = loaded();
    Promise.resolve((async () => { ${firstUse} })()).then((result) => {
      process.stdout.write(JSON.stringify({ before, after: loaded(), result }));
    }, (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
  `;
  const { stdout } = await run(process.execPath, ['-e', script], { cwd: root });
  return JSON.parse(stdout) as { before: string[]; after: string[]; result: unknown };
}

describe('Heavy libraries load on first use', function () {
  this.timeout(60_000);

  it('are not loaded by the node files, and the first schema validation works', async () => {
    const { before, after, result } = await freshProcess(`
      const { compileSchema } = require(path.join(src, 'core/schema.js'));
      const validate = compileSchema({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        required: ['memberId'],
        properties: { checkInTime: { type: 'string', format: 'date-time' } },
      });
      return [validate({ memberId: '1', checkInTime: '2026-05-27T09:15:00' }), validate({ checkInTime: 'not-a-date' })];
    `);
    assert.deepEqual(before, []);
    assert.deepEqual(result, [
      [],
      [
        { path: '/memberId', message: "must have required property 'memberId'", keyword: 'required' },
        { path: '/checkInTime', message: 'must match format "date-time"', keyword: 'format' },
      ],
    ]);
    assert.deepEqual(after.sort(), ['ajv-formats', 'ajv/dist/2020']);
  });

  it('the first template, CSV export, condition, layout, stable hash and schedule work', async () => {
    const { before, result } = await freshProcess(`
      const { compileTemplate } = require(path.join(src, 'core/templates.js'));
      const { toCsv } = require(path.join(src, 'core/export.js'));
      const { compileCondition } = require(path.join(src, 'workflow/conditions.js'));
      const { layoutWorkflow } = require(path.join(src, 'workflow/layout.js'));
      const { rowHash } = require(path.join(src, 'core/delta.js'));
      const { parseSchedule } = require(path.join(src, 'core/cron.js'));
      const schedule = parseSchedule('0 30 9 ? * MON-FRI', 'UTC');
      const layout = layoutWorkflow({
        states: [{ code: 'A' }, { code: 'B' }],
        transitions: [{ code: 'go', from: 'A', to: 'B', trigger: 'manual', enabled: true }],
      });
      return {
        template: compileTemplate('Hello {{ input.name | upcase }}', 'field').render({ input: { name: 'ann' }, msg: {} }),
        csv: toCsv([{ id: 1, name: 'Ann' }]),
        condition: await compileCondition('go', 'payload.n > 1')({ payload: { n: 2 } }),
        states: layout.states.length,
        hashes: rowHash({ a: { b: 1 } }) === rowHash({ a: { b: 1 } }),
        cron: [schedule.describe(), schedule.next(new Date('2026-05-29T10:00:00Z')).toISOString()],
      };
    `);
    assert.deepEqual(before, []);
    assert.deepEqual(result, {
      template: 'Hello ANN',
      csv: 'id,name\r\n1,Ann',
      condition: true,
      states: 2,
      hashes: true,
      cron: ['At 09:30, Monday through Friday', '2026-06-01T09:30:00.000Z'],
    });
  });
});
