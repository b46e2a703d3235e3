import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import { helper, packageNodes, waitFor } from '../support/red.js';
import type { CaughtError, TestMessage } from '../support/red.js';

describe('iMIS API node, against the emulator', function () {
  this.timeout(30_000);
  let emulator: Emulator;
  useEmulatedRed((env) => ({ emulator } = env));

  const requests = (method: string, prefix: string) =>
    emulator.state.requests.filter((r) => r.method === method && r.path.startsWith(prefix));

  /** Messages that reached the output ('out') or the Catch node ('caught'), in order. */
  let received: { port: string; msg: TestMessage<Partial<CaughtError>> }[] = [];

  async function load(api: Record<string, unknown>) {
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'call', z: 'tab', type: 'imis-api', server: 'srv', ...api, wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
        { id: 'srv', type: 'imis-server', baseUrl: emulator.url },
      ],
      { srv: { username: 'MANAGER', password: 'manager' } },
    );
    received = [];
    for (const port of ['out', 'caught'])
      helper
        .getNode(port)
        .on('input', (msg: TestMessage<Partial<CaughtError>>) => received.push({ port, msg }));
  }
  /** Sends `payload` and resolves with the message reaching `port` ('out' or 'caught'), as the test reads it (T). */
  const run = async <T extends object = object>(payload: unknown, port = 'out'): Promise<TestMessage<T>> => {
    const before = received.length;
    helper.getNode('call').receive({ payload });
    await waitFor(() => received.length > before, 15_000, 'a message at out or caught');
    const { port: reached, msg } = received[before];
    assert.equal(reached, port, `reached ${reached}: ${msg.error?.message ?? ''}`);
    return msg as TestMessage<T>;
  };

  it('GETs a templated path and puts the flattened record in the output property', async () => {
    await load({
      method: 'GET',
      path: '/api/Party/{{ input.memberId }}',
      simplify: true,
      outputProp: 'party',
    });
    const msg = await run<{ party: { PersonName: { FullName: string } } }>({ memberId: '12345' });
    assert.equal(msg.party.PersonName.FullName, 'Maria Garcia');
    assert.deepEqual(msg.payload, { memberId: '12345' }, 'the payload is left alone');
    assert.deepEqual(msg.imisApi, { method: 'GET', path: '/api/Party/12345' });
  });

  it('POSTs a templated body that iMIS stores', async () => {
    const body = `{
      "$type": "Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts",
      "EntityTypeName": "Activity",
      "Properties": { "$type": "Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts", "$values": [
        { "$type": "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts", "Name": "PartyId", "Value": {{ input.id | json }} },
        { "$type": "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts", "Name": "ACTIVITY_TYPE", "Value": "{{ input.type }}" },
        { "$type": "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts", "Name": "DESCRIPTION", "Value": {{ input.note | json }} }
      ] }
    }`;
    await load({ method: 'POST', path: '/api/Activity', body, simplify: true });
    const msg = await run<{ payload: { PartyId: string } }>({
      id: '22708',
      type: 'MEETING',
      note: 'said "hello"',
    });
    assert.equal(msg.payload.PartyId, '22708');
    const stored = emulator.state.activitiesFor('22708');
    assert.equal(stored.length, 1);
    assert.equal(stored[0].ACTIVITY_TYPE, 'MEETING');
    assert.equal(stored[0].DESCRIPTION, 'said "hello"');
  });

  it('PUTs and DELETEs with templated paths', async () => {
    await load({
      method: 'PUT',
      path: '/api/Name_Demo/{{ input.id }}',
      body: '{"$type": "Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts", "EntityTypeName": "Name_Demo", "Properties": {"$values": [{"Name": "Favorite_Color", "Value": {{ input.color | json }}}]}}',
    });
    const put = await run<{ payload: { $type: string } }>({ id: '23179', color: 'Purple' });
    assert.match(put.payload.$type, /GenericEntityData/);
    assert.equal(emulator.state.panels.get('Name_Demo')?.[0].Favorite_Color, 'Purple');
    await helper.unload();

    await load({ method: 'DELETE', path: '/api/Name_CEU/~{{ input.id }}|{{ input.seqn }}' });
    const deleted = await run({ id: '23179', seqn: 2 });
    assert.equal(deleted.payload, null);
    assert.deepEqual(
      emulator.state.panels.get('Name_CEU')?.map((r) => r.SEQN),
      [1],
    );
  });

  it('fetches all pages of a GET, several requests, every item once', async () => {
    for (let n = 0; n < 7; n++) {
      emulator.state.activities.push({ SEQN: 50000 + n, PartyId: '101', ACTIVITY_TYPE: 'EVENT' });
    }
    await load({
      method: 'GET',
      path: '/api/Activity',
      query: 'PartyId=eq:{{ input.id }}&limit=3',
      fetchAll: true,
      simplify: true,
    });
    const msg = await run<{ payload: { SEQN: number }[]; imisApi: { pages: number; totalCount: number } }>({
      id: '101',
    });
    assert.deepEqual(
      msg.payload.map((a) => a.SEQN),
      [50000, 50001, 50002, 50003, 50004, 50005, 50006],
    );
    assert.equal(msg.imisApi.pages, 3);
    assert.equal(msg.imisApi.totalCount, 7);
    assert.equal(requests('GET', '/api/Activity').length, 3);
  });

  it("sends iMIS's 400 message to a Catch node", async () => {
    await load({
      method: 'POST',
      path: '/api/Activity',
      body: '{"$type": "Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts", "EntityTypeName": "Activity", "Properties": {"$values": [{"Name": "PartyId", "Value": "{{ input.id }}"}, {"Name": "ACTIVITY_TYPE", "Value": "MEETING"}]}}',
    });
    const msg = await run<CaughtError>({ id: '99999' }, 'caught');
    assert.match(msg.error.message, /iMIS rejected POST \/api\/Activity: Party 99999 does not exist/);
    assert.equal(msg.error.source.id, 'call');
  });

  it('tries a POST again on injected 503s up to the Attempt Count, then reports the 503', async () => {
    const body =
      '{"EntityTypeName": "Activity", "Properties": {"$values": [{"Name": "PartyId", "Value": "101"}, {"Name": "ACTIVITY_TYPE", "Value": "MEETING"}]}}';
    emulator.state.injectFault({
      method: 'POST',
      pathPrefix: '/api/Activity',
      status: 503,
      times: 1,
      retryAfter: '0',
    });
    await load({ method: 'POST', path: '/api/Activity', body, attempts: 2 });
    await run({});
    assert.equal(requests('POST', '/api/Activity').length, 2);
    assert.equal(emulator.state.activitiesFor('101').length, 1);

    emulator.state.reset();
    emulator.state.injectFault({
      method: 'POST',
      pathPrefix: '/api/Activity',
      status: 503,
      times: 3,
      retryAfter: '0',
    });
    const failed = await run<CaughtError>({}, 'caught');
    assert.match(failed.error.message, /503 Service Unavailable/);
    assert.equal(requests('POST', '/api/Activity').length, 2, 'two attempts, not the server default of four');
    assert.equal(emulator.state.activitiesFor('101').length, 0);
  });

  it('fails the message, for a Catch node, on a path outside /api/ or a body that is not JSON', async () => {
    await load({ method: 'POST', path: '{{ input.path }}', body: '{{ input.body }}' });
    const outside = await run<CaughtError>({ path: '/token', body: '{}' }, 'caught');
    assert.match(outside.error.message, /not an iMIS REST API path/);
    const notJson = await run<CaughtError>({ path: '/api/Activity', body: 'name=x' }, 'caught');
    assert.match(notJson.error.message, /Body is not JSON/);
    assert.equal(requests('POST', '/api').length, 0, 'nothing was sent');
  });

  it('applies the first migration to a config saved without one', async () => {
    await load({ path: '/api/Party/101', cfgVersion: undefined });
    const msg = await run<{ payload: { $type: string } }>({});
    assert.match(msg.payload.$type, /PersonData/, 'GET into payload, unflattened, by default');
  });
});
