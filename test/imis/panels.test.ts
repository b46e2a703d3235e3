import assert from 'node:assert/strict';
import { ImisClient } from '../../src/imis/client.js';
import { decodeEntity, encodeEntity } from '../../src/imis/generic-entity.js';
import { getPanel, idPropertyOf, insertPanelRow, listPanels } from '../../src/imis/panels.js';
import type { PanelInfo } from '../../src/imis/panels.js';
import { json, startStub, tokenAnswer } from './stub.js';
import type { Hit, Stub } from './stub.js';

const prop = (Name: string, PropertyTypeName: string, extra: Record<string, unknown> = {}) => ({
  $type: `Asi.Soa.Core.DataContracts.PropertyType${PropertyTypeName === 'Date' ? 'DateTime' : PropertyTypeName}Data, Asi.Contracts`,
  Name,
  PropertyTypeName,
  Caption: Name.replace(/_/g, ' '),
  IsIdentity: false,
  Required: false,
  ...extra,
});

const definition = (
  EntityTypeName: string,
  ObjectTypeName: string,
  parent: string,
  properties: unknown[],
) => ({
  $type: 'Asi.Soa.Core.DataContracts.BOEntityDefinitionData, Asi.Contracts',
  EntityTypeName,
  ObjectTypeName,
  PrimaryParentEntityTypeName: parent,
  Description: `${EntityTypeName} panel`,
  IsDesignable: true,
  Properties: { $type: 'System.Collections.Generic.List`1', $values: properties },
});

/** Panel Designer multi-instance source (ID + Ordinal), a legacy table (PartyId + SEQN), and non-panels. */
const DEFINITIONS = [
  definition('Party', 'Standard', '', [prop('PartyId', 'String')]),
  definition('ABC_Certs', 'Multi', 'Party', [
    prop('ID', 'String', { IsIdentity: true, MaxLength: 10 }),
    prop('Ordinal', 'Integer', { IsIdentity: true }),
    prop('CertName', 'String', { MaxLength: 50, Required: true }),
    prop('Hours', 'Decimal'),
    prop('Fee', 'Monetary'),
    prop('Passed', 'Boolean'),
    prop('EarnedOn', 'Date'),
  ]),
  definition('Activity', 'Standard', 'Party', []),
  definition('Name_Demo', 'SINGLE', 'Party', [
    prop('PartyId', 'String', { IsIdentity: true }),
    prop('Shirt', 'String'),
  ]),
  definition('Name_CEU', 'Multi', 'Party', [
    prop('PartyId', 'String', { IsIdentity: true }),
    prop('SEQN', 'Integer', { IsIdentity: true }),
    prop('CEU_Hours', 'Decimal'),
  ]),
  definition('ABC_Log', 'Multi', 'Standalone', [prop('Ordinal', 'Integer'), prop('Line', 'String')]),
];

describe('Panels', function () {
  let stub: Stub | undefined;
  let client: ImisClient;
  let posted: Hit[];
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  /** Serves DEFINITIONS `pageSize` at a time; a POST /api/{panel} answers the row with Ordinal/SEQN `key`. */
  async function site(opts: { pageSize?: number; key?: number; byId?: boolean } = {}) {
    posted = [];
    stub = await startStub((hit, res) => {
      if (hit.path === '/token') return tokenAnswer(res, 1);
      if (hit.path === '/api/BOEntityDefinition') {
        const limit = Math.min(Number(hit.query.get('limit') ?? 100), opts.pageSize ?? 500);
        const offset = Number(hit.query.get('offset') ?? 0);
        const page = DEFINITIONS.slice(offset, offset + limit);
        const hasNext = offset + limit < DEFINITIONS.length;
        return json(res, 200, {
          $type: 'Asi.Soa.Core.DataContracts.PagedResult, Asi.Contracts',
          Items: { $type: 'System.Collections.Generic.List`1', $values: page },
          Offset: offset,
          Limit: limit,
          Count: page.length,
          TotalCount: DEFINITIONS.length,
          HasNext: hasNext,
          NextOffset: hasNext ? offset + limit : 0,
        });
      }
      if (hit.path.startsWith('/api/BOEntityDefinition/')) {
        const name = decodeURIComponent(hit.path.split('/').at(-1) ?? '');
        const found = DEFINITIONS.find((d) => d.EntityTypeName === name);
        return opts.byId && found ? json(res, 200, found) : json(res, 404, undefined);
      }
      if (hit.method === 'POST') {
        posted.push(hit);
        const sent = decodeEntity(JSON.parse(hit.body));
        const key = 'PartyId' in sent ? 'SEQN' : 'Ordinal';
        return json(res, 201, encodeEntity({ properties: { ...sent, [key]: opts.key ?? 3 } }));
      }
      json(res, 404, undefined);
    });
    client = new ImisClient({ baseUrl: stub.url, username: 'MANAGER', password: 'manager', retryBaseMs: 10 });
  }

  const sentProperties = (hit: Hit | undefined) =>
    (JSON.parse(hit?.body ?? '{}') as { Properties: { $values: { Name: string; Value?: unknown }[] } })
      .Properties.$values;

  it('lists the panel sources of every page, by name, with their columns', async function () {
    await site({ pageSize: 2 });
    const panels = await listPanels(client);
    assert.deepEqual(
      panels.map((p) => [p.name, p.objectType, p.parentType]),
      [
        ['ABC_Certs', 'Multi', 'Party'],
        ['ABC_Log', 'Multi', 'Standalone'],
        ['Name_CEU', 'Multi', 'Party'],
        ['Name_Demo', 'SINGLE', 'Party'],
      ],
    );
    assert.equal(stub?.count('/api/BOEntityDefinition'), 3);
    assert.deepEqual(
      stub?.hits.filter((h) => h.path === '/api/BOEntityDefinition').map((h) => h.query.get('offset')),
      ['0', '2', '4'],
    );
    const certs = panels[0];
    assert.equal(certs.description, 'ABC_Certs panel');
    assert.deepEqual(certs.properties[2], {
      name: 'CertName',
      type: 'String',
      caption: 'CertName',
      isIdentity: false,
      required: true,
      maxLength: 50,
    });
  });

  it('gets one panel by name, falling back to the list when the definition endpoint does not know it', async function () {
    await site({ byId: true });
    assert.equal((await getPanel(client, 'Name_CEU')).properties.length, 3);
    await stub?.close();
    await site({ byId: false });
    assert.equal((await getPanel(client, 'abc_certs')).name, 'ABC_Certs');
    await assert.rejects(getPanel(client, 'Nope'), { name: 'ImisError', kind: 'not-found', message: /Nope/ });
  });

  it('picks the ID column from the definition: ID for Panel Designer, PartyId for legacy tables', async function () {
    await site();
    const panels = await listPanels(client);
    const byName = (name: string) => panels.find((p) => p.name === name) as PanelInfo;
    assert.equal(idPropertyOf(byName('ABC_Certs')), 'ID');
    assert.equal(idPropertyOf(byName('Name_CEU')), 'PartyId');
    assert.equal(idPropertyOf(byName('ABC_Log')), undefined);
  });

  it('inserts a Panel Designer row under ID, typed, empty columns left out, and returns its Ordinal', async function () {
    await site({ key: 4 });
    const panel = await getPanel(client, 'ABC_Certs');
    const created = await insertPanelRow(client, panel, ' 23179 ', {
      CertName: 'CPR',
      Hours: '2.5',
      fee: '10',
      Passed: 'yes',
      EarnedOn: '2026-05-27',
      Ordinal: '',
    });
    assert.equal(created.ordinal, 4);
    assert.equal(created.record.CertName, 'CPR');
    assert.equal(posted[0].path, '/api/ABC_Certs');
    const body = JSON.parse(posted[0].body) as Record<string, unknown>;
    assert.equal(body.EntityTypeName, 'ABC_Certs');
    assert.equal(body.PrimaryParentEntityTypeName, 'Party');
    assert.deepEqual(
      sentProperties(posted[0]).map((p) => [p.Name, p.Value]),
      [
        ['ID', '23179'],
        ['CertName', 'CPR'],
        ['Hours', { $type: 'System.Decimal', $value: 2.5 }],
        ['Fee', { $type: 'System.Decimal', $value: 10 }],
        ['Passed', { $type: 'System.Boolean', $value: true }],
        ['EarnedOn', '2026-05-27T00:00:00'],
      ],
    );
  });

  it('inserts a legacy table row under PartyId and reports no ordinal when iMIS answers 0', async function () {
    await site({ key: 0 });
    const created = await insertPanelRow(client, await getPanel(client, 'Name_CEU'), '23179', {
      CEU_Hours: '1',
    });
    assert.equal(created.ordinal, null);
    assert.deepEqual(sentProperties(posted[0])[0], {
      $type: 'Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts',
      Name: 'PartyId',
      Value: '23179',
    });
  });

  it('inserts a Standalone row without an ID', async function () {
    await site();
    const created = await insertPanelRow(client, await getPanel(client, 'ABC_Log'), '', { Line: 'hello' });
    assert.equal(created.ordinal, 3);
    const body = JSON.parse(posted[0].body) as Record<string, unknown>;
    assert.deepEqual(body.PrimaryParentIdentity, {
      $type: 'Asi.Soa.Core.DataContracts.IdentityData, Asi.Contracts',
      EntityTypeName: 'Standalone',
    });
  });

  it('refuses a missing ID, an unknown column and text that does not fit the column', async function () {
    await site();
    const certs = await getPanel(client, 'ABC_Certs');
    await assert.rejects(insertPanelRow(client, certs, '', { CertName: 'x' }), /ID is required.*ABC_Certs/);
    await assert.rejects(
      insertPanelRow(client, certs, '1', { Colour: 'red' }),
      /no column "Colour"; its columns are ID, /,
    );
    await assert.rejects(
      insertPanelRow(client, certs, '1', { Hours: 'lots' }),
      /ABC_Certs\.Hours: "lots" is not a number/,
    );
    assert.equal(posted.length, 0);
  });
});
