import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import {
  api,
  entityBody,
  firstError,
  plainValues,
  sharedEmulator,
  tokenFor,
  wireValues,
  type Collection,
  type EntityAnswer,
  type Invalid,
  type Paged,
} from './helpers.js';

/** A BOEntityDefinitionData as the emulator answers it, as far as these tests read it. */
type EntityDefinition = {
  $type: string;
  EntityTypeName: string;
  ObjectTypeName: string;
  PrimaryParentEntityTypeName: string;
};
/** A property of a BOEntityDefinitionData. */
type PropertyDefinition = { $type: string; Name: string; IsIdentity: boolean; PropertyTypeName: string };

describe('emulator: panel definitions (docs/imis-api.md §3.2)', () => {
  let emulator: Emulator;
  let token: string;
  before(async () => {
    emulator = await startEmulator();
    token = await tokenFor(emulator);
  });
  after(() => emulator.close());

  it('lists BOEntityDefinitionData for every panel source in a PagedResult', async () => {
    const { status, body } = await api<Paged<EntityDefinition>>(
      emulator,
      token,
      'GET',
      '/api/BOEntityDefinition?limit=500',
    );
    assert.equal(status, 200);
    assert.match(body.$type, /^Asi\.Soa\.Core\.DataContracts\.PagedResult`1\[\[.*BOEntityDefinitionData/);
    const byName = new Map(body.Items.$values.map((item) => [item.EntityTypeName, item]));
    for (const name of ['Name_CEU', 'Name_Demo', 'ABC_EventAttendance', 'ABC_AuditLog', 'ABC_Venues']) {
      assert.ok(byName.has(name), name);
      assert.equal(
        byName.get(name)?.$type,
        'Asi.Soa.Core.DataContracts.BOEntityDefinitionData, Asi.Contracts',
      );
    }
    assert.equal(byName.get('Name_CEU')?.ObjectTypeName, 'Multi');
    assert.equal(byName.get('Name_Demo')?.ObjectTypeName, 'Single');
    assert.equal(byName.get('ABC_EventAttendance')?.PrimaryParentEntityTypeName, 'Party');
    assert.equal(byName.get('ABC_Venues')?.PrimaryParentEntityTypeName, 'Standalone');
  });

  it('describes each property with its PropertyType*Data $type, type name, caption and identity flag', async () => {
    const { status, body } = await api<{ Properties: Collection<PropertyDefinition> }>(
      emulator,
      token,
      'GET',
      '/api/BOEntityDefinition/abc_eventattendance',
    );
    assert.equal(status, 200);
    const properties = new Map(body.Properties.$values.map((p) => [p.Name, p]));
    assert.deepEqual(properties.get('ID'), {
      $type: 'Asi.Soa.Core.DataContracts.PropertyTypeStringData, Asi.Contracts',
      Name: 'ID',
      PropertyTypeName: 'String',
      Caption: 'ID',
      IsIdentity: true,
      Required: true,
      MaxLength: 10,
    });
    assert.equal(properties.get('Ordinal')?.IsIdentity, true);
    assert.equal(properties.get('Ordinal')?.PropertyTypeName, 'Integer');
    assert.equal(
      properties.get('CheckInTime')?.$type,
      'Asi.Soa.Core.DataContracts.PropertyTypeDateTimeData, Asi.Contracts',
    );
    assert.equal(properties.get('CheckInTime')?.PropertyTypeName, 'Date');
    assert.equal(properties.get('EventCode')?.IsIdentity, false);
  });

  it('lists the Panel Designer panels in PanelDefinitionSummary', async () => {
    const { status, body } = await api<Paged<{ Name: string }>>(
      emulator,
      token,
      'GET',
      '/api/PanelDefinitionSummary',
    );
    assert.equal(status, 200);
    const names = body.Items.$values.map((item) => item.Name);
    assert.ok(names.includes('ABC_EventAttendance'));
    assert.ok(!names.includes('Name_CEU'), 'legacy user-defined tables have no panel definition');
  });
});

describe('emulator: panel rows (docs/imis-api.md §3.1)', () => {
  let emulator: Emulator;
  let token: string;
  sharedEmulator((shared) => ({ emulator, token } = shared));

  /** Inserts an ABC_EventAttendance row for `id`; the answer read as `T` (the row unless told). */
  const checkIn = <T = EntityAnswer>(id: string, extra: Record<string, unknown> = {}) =>
    api<T>(
      emulator,
      token,
      'POST',
      '/api/ABC_EventAttendance',
      entityBody({ ID: id, EventCode: 'ANNUAL25', CheckInTime: '2025-06-01T09:15:00', ...extra }),
    );

  it('gives a multi-instance row Ordinal 1, then 2, per ID', async () => {
    const first = await checkIn('12345');
    assert.equal(first.status, 201);
    assert.deepEqual(wireValues(first.body).Ordinal, { $type: 'System.Int32', $value: 1 });
    assert.deepEqual(first.body.Identity.IdentityElements.$values, ['12345', '1']);
    const second = await checkIn('12345', { SessionCode: 'KEYNOTE' });
    assert.deepEqual(wireValues(second.body).Ordinal, { $type: 'System.Int32', $value: 2 });
    const other = await checkIn('101');
    assert.equal(plainValues(other.body).Ordinal, 1);
    assert.deepEqual(
      emulator.state.panelRows('ABC_EventAttendance', '12345').map((row) => row.Ordinal),
      [1, 2],
    );
    assert.equal(
      emulator.state.panelRows('ABC_EventAttendance', '12345')[0].CheckInTime,
      '2025-06-01T09:15:00',
    );
  });

  it('numbers legacy user-defined table rows with SEQN after the existing ones', async () => {
    const { status, body } = await api<EntityAnswer>(
      emulator,
      token,
      'POST',
      '/api/Name_CEU',
      entityBody(
        {
          PartyId: '23179',
          CEU_Hours: { $type: 'System.Double', $value: 1.5 },
          CEU_Notes: 'text',
          CEU_Course: undefined,
        },
        { EntityTypeName: 'Name_CEU', PrimaryParentEntityTypeName: 'Party' },
      ),
    );
    assert.equal(status, 201);
    assert.deepEqual(body.Identity.IdentityElements.$values, ['23179', '3']);
    assert.deepEqual(wireValues(body).CEU_Hours, { $type: 'System.Double', $value: 1.5 });
    assert.equal(wireValues(body).CEU_Course, undefined);
  });

  it('takes the parent id from PartyId, ID or PrimaryParentIdentity alike', async () => {
    assert.equal((await checkIn('101')).status, 201);
    const viaPartyId = await api(
      emulator,
      token,
      'POST',
      '/api/ABC_EventAttendance',
      entityBody({ PartyId: '101', EventCode: 'A' }),
    );
    assert.equal(viaPartyId.status, 201);
    const viaParent = await api(
      emulator,
      token,
      'POST',
      '/api/ABC_EventAttendance',
      entityBody(
        { EventCode: 'B' },
        {
          PrimaryParentIdentity: {
            $type: 'Asi.Soa.Core.DataContracts.IdentityData, Asi.Contracts',
            EntityTypeName: 'Party',
            IdentityElements: { $values: ['101'] },
          },
        },
      ),
    );
    assert.equal(viaParent.status, 201);
    assert.deepEqual(
      emulator.state.panelRows('ABC_EventAttendance', '101').map((row) => [row.Ordinal, row.EventCode]),
      [
        [1, 'ANNUAL25'],
        [2, 'A'],
        [3, 'B'],
      ],
    );
  });

  it('refuses a second insert for the same ID on a single-instance panel', async () => {
    const body = entityBody({ PartyId: '101', Favorite_Color: 'Blue' });
    assert.equal((await api(emulator, token, 'POST', '/api/Name_Demo', body)).status, 201);
    const again = await api(emulator, token, 'POST', '/api/Name_Demo', body);
    assert.equal(again.status, 400);
    assert.match(firstError(again.body), /Name_Demo already has a record for 101/);
  });

  it('checks values against the definition and names the property in the 400', async () => {
    const badDate = await checkIn<Invalid>('12345', { CheckInTime: 'after lunch' });
    assert.equal(badDate.status, 400);
    assert.equal(badDate.body.Errors.$values[0].PropertyName, 'CheckInTime');
    const badNumber = { PartyId: '101', Years_In_Field: 'many' };
    const badBoolean = { ID: '101', ContactByEmail: 'sometimes' };
    for (const [panel, properties, named] of [
      ['Name_Demo', badNumber, /Years_In_Field/],
      ['ABC_Preferences', badBoolean, /ContactByEmail/],
    ] as const) {
      const bad = await api(emulator, token, 'POST', `/api/${panel}`, entityBody(properties));
      assert.equal(bad.status, 400, panel);
      assert.match(firstError(bad.body), named);
    }
    assert.deepEqual(emulator.state.panelRows('ABC_EventAttendance'), []);
  });

  it('answers 400 for a party that does not exist', async () => {
    const { status, body } = await checkIn('99999');
    assert.equal(status, 400);
    assert.equal(firstError(body), 'Party 99999 does not exist');
  });

  it('gets one multi-instance row by ~ID|SEQN, with | raw or URL-encoded', async () => {
    for (const path of ['/api/Name_CEU/~23179|2', '/api/Name_CEU/~23179%7C2', '/api/name_ceu/~23179%7c2']) {
      const { status, body } = await api<EntityAnswer>(emulator, token, 'GET', path);
      assert.equal(status, 200, path);
      assert.deepEqual(body.Identity.IdentityElements.$values, ['23179', '2']);
      assert.deepEqual(wireValues(body).CEU_Hours, { $type: 'System.Double', $value: 10 });
    }
    assert.equal((await api(emulator, token, 'GET', '/api/Name_CEU/~23179|9')).status, 404);
    const wrongCount = await api(emulator, token, 'GET', '/api/Name_CEU/~23179|1|2');
    assert.equal(wrongCount.status, 400);
    assert.match(firstError(wrongCount.body), /Incorrect number of identity elements/);
  });

  it('lists every row of an ID with GET /api/{Panel}/{ID} on a multi-instance panel', async () => {
    const { status, body } = await api<Paged<EntityAnswer>>(emulator, token, 'GET', '/api/Name_CEU/23179');
    assert.equal(status, 200);
    assert.equal(body.TotalCount, 2);
    assert.deepEqual(
      body.Items.$values.map((row) => row.Identity.IdentityElements.$values),
      [
        ['23179', '1'],
        ['23179', '2'],
      ],
    );
  });

  it('gets a single-instance row by ID, and PUT fills in a row not yet stored', async () => {
    const existing = await api(emulator, token, 'GET', '/api/Name_Demo/23179');
    assert.equal(existing.status, 200);
    assert.equal(plainValues(existing.body).Favorite_Color, 'Green');
    assert.equal((await api(emulator, token, 'GET', '/api/Name_Demo/101')).status, 404);
    const put = await api(
      emulator,
      token,
      'PUT',
      '/api/Name_Demo/101',
      entityBody({ Newsletter_OptIn: 'true' }),
    );
    assert.equal(put.status, 200);
    assert.deepEqual(emulator.state.panelRows('Name_Demo', '101'), [
      { PartyId: '101', Newsletter_OptIn: true },
    ]);
  });

  it('updates and deletes a multi-instance row by ~ID|SEQN', async () => {
    const put = await api(
      emulator,
      token,
      'PUT',
      '/api/Name_CEU/~23179%7C2',
      entityBody({ PartyId: '23179', SEQN: { $type: 'System.Int32', $value: 2 }, CEU_Notes: 'updated' }),
    );
    assert.equal(put.status, 200);
    assert.equal(plainValues(put.body).CEU_Notes, 'updated');
    assert.equal(plainValues(put.body).CEU_Hours, 10, 'properties not sent are kept');
    const del = await api(emulator, token, 'DELETE', '/api/Name_CEU/~23179|2');
    assert.equal(del.status, 200);
    assert.deepEqual(
      emulator.state.panelRows('Name_CEU', '23179').map((row) => row.SEQN),
      [1],
    );
    assert.equal((await api(emulator, token, 'GET', '/api/Name_CEU/~23179|2')).status, 404);
  });

  it('numbers Standalone panel rows without any parent id', async () => {
    const { status, body } = await api<EntityAnswer>(
      emulator,
      token,
      'POST',
      '/api/ABC_Venues',
      entityBody({ VenueName: 'Annex', Capacity: { $type: 'System.Int32', $value: 80 } }),
    );
    assert.equal(status, 201);
    assert.equal(body.PrimaryParentEntityTypeName, 'Standalone');
    assert.equal(body.PrimaryParentIdentity.IdentityElements, undefined);
    assert.deepEqual(body.Identity.IdentityElements.$values, ['2']);
  });

  it('answers Ordinal 0 to a multi-instance POST with zeroOrdinalBug, yet stores the real one', async () => {
    const buggy = await startEmulator({ zeroOrdinalBug: true });
    try {
      const { status, body } = await api(
        buggy,
        await tokenFor(buggy),
        'POST',
        '/api/ABC_EventAttendance',
        entityBody({ ID: '12345', EventCode: 'X' }),
      );
      assert.equal(status, 201);
      assert.deepEqual(wireValues(body).Ordinal, { $type: 'System.Int32', $value: 0 });
      assert.equal(buggy.state.panelRows('ABC_EventAttendance', '12345')[0].Ordinal, 1);
    } finally {
      await buggy.close();
    }
  });
});
