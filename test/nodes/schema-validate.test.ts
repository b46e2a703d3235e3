// JSON Schema Validation in deployed flows (issue 19): recursive schemas, the Draft setting and its
// migration, and a schema that cannot compile reported at deploy.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  callsOn,
  freshDataDir,
  helper,
  nextMessage,
  packageNodes,
  startHelper,
  stopHelper,
} from '../support/red.js';
import type { CaughtError } from '../support/red.js';
import type { HookRefusal } from '../support/runs.js';

const token = randomBytes(24).toString('base64url');

/** An org chart: each unit has a name and units of its own, as deep as they go ("$ref": "#"). */
const ORG_CHART = JSON.stringify({
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string' }, units: { type: 'array', items: { $ref: '#' } } },
});

const chart = {
  name: 'Association',
  units: [{ name: 'Events', units: [{ name: 'Conferences' }, { name: 'Webinars', units: [] }] }],
};

function flow(validate: Record<string, unknown>) {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'hook', z: 'tab', type: 'imis-webhook-in', wires: [['validate']] },
    { id: 'validate', z: 'tab', type: 'imis-schema-validate', ...validate, wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

describe('JSON Schema Validation in a deployed flow', function () {
  let base: string;

  beforeEach(async () => {
    base = await startHelper(freshDataDir());
  });
  afterEach(stopHelper);

  const load = (validate: Record<string, unknown>) =>
    helper.load(packageNodes(), flow(validate), { hook: { token } });
  const post = (body: unknown) =>
    fetch(`${base}/imis/hook/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('validates a recursive schema ("$ref": "#") at every depth: 200 and a run, or 400 naming the deep path', async () => {
    await load({ schema: ORG_CHART });
    const got = nextMessage('out');
    assert.equal((await post(chart)).status, 200);
    assert.deepEqual((await got).payload, chart);

    const broken = { name: 'Association', units: [{ name: 'Events', units: [{ name: 7 }] }] };
    const res = await post(broken);
    assert.equal(res.status, 400);
    const body = (await res.json()) as HookRefusal;
    assert.deepEqual(
      body.errors?.map((e) => e.path),
      ['/units/0/units/0/name'],
    );
  });

  it('validates by the Draft it is set to: a schema without $schema read as draft-04', async () => {
    const schema = JSON.stringify({ type: 'number', minimum: 0, exclusiveMinimum: true });
    await load({ schema, draft: 'draft-04', cfgVersion: 2 });
    const validate = helper.getNode('validate');
    const caught = nextMessage<CaughtError>('caught');
    validate.receive({ payload: 0 });
    assert.match((await caught).error.message, /must be > 0/);
    const passed = nextMessage('out');
    validate.receive({ payload: 1 });
    assert.equal((await passed).payload, 1);
  });

  it('reads a node saved before the Draft setting (version 1) by its $schema, as it did', async () => {
    const schema = JSON.stringify({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      prefixItems: [{ type: 'string' }],
    });
    await load({ schema, schemaSource: 'config', property: 'payload', onInvalid: 'error', cfgVersion: 1 });
    assert.deepEqual(callsOn('validate', 'error'), [], 'compiles');
    const caught = nextMessage<CaughtError>('caught');
    helper.getNode('validate').receive({ payload: [3] });
    assert.match((await caught).error.message, /\/0: must be string/);
  });

  it('reports a schema that cannot compile at deploy, with its schema path and the reason, in red', async () => {
    const schema = JSON.stringify({ properties: { checkInTime: { type: 'date-time' } } });
    await load({ schema });
    const [[error]] = callsOn('validate', 'error');
    assert.match(
      String(error),
      /The schema is not valid: .*at \/properties\/checkInTime\/type: must be equal to one of the allowed values/,
    );
    const [[status]] = callsOn('validate', 'status');
    assert.deepEqual(status, { fill: 'red', shape: 'ring', text: 'invalid schema' });
    // Nothing runs on it: the caller gets a server error (the flow's fault, not the payload's).
    const res = await post({ checkInTime: 'x' });
    assert.equal(res.status, 500);
    assert.match((await res.json()).message, /The schema is not valid: .*\/properties\/checkInTime\/type/);
  });

  it('refuses at deploy a schema whose $schema names another draft than the one set', async () => {
    const schema = JSON.stringify({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' });
    await load({ schema, draft: '2020-12' });
    const [[error]] = callsOn('validate', 'error');
    assert.match(String(error), /"\$schema" is draft-04 but the node validates by 2020-12/);
  });
});
