import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/server.js';
import type { GenericEntityData } from '../../src/imis/generic-entity.js';
import { api, firstError, sharedEmulator, type Paged, type PersonAnswer } from './helpers.js';

describe('emulator: PagedResult envelope (docs/imis-api.md §4)', () => {
  let emulator: Emulator;
  let token: string;
  sharedEmulator((shared) => ({ emulator, token } = shared));

  it('wraps a list in PagedResult with $types and a default limit of 100', async () => {
    emulator.state.activities.push({ SEQN: 16600, PartyId: '101', ACTIVITY_TYPE: 'EVENT' });
    const { status, body } = await api<Paged<GenericEntityData>>(emulator, token, 'GET', '/api/Activity');
    assert.equal(status, 200);
    assert.equal(
      body.$type,
      'Asi.Soa.Core.DataContracts.PagedResult`1[[Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts]], Asi.Contracts',
    );
    assert.equal(
      body.Items.$type,
      'System.Collections.Generic.List`1[[Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts]], mscorlib',
    );
    const { Items, ...envelope } = body;
    assert.equal(Items.$values.length, 1);
    assert.deepEqual(envelope, {
      $type: body.$type,
      Offset: 0,
      Limit: 100,
      Count: 1,
      TotalCount: 1,
      NextPageLink: null,
      HasNext: false,
      NextOffset: 0,
    });
  });

  it('pages with limit and offset, and NextOffset is 0 on the last page', async () => {
    const first = await api<Paged<PersonAnswer>>(emulator, token, 'GET', '/api/Party?limit=3');
    assert.equal(first.body.Count, 3);
    assert.equal(first.body.TotalCount, 8);
    assert.equal(first.body.HasNext, true);
    assert.equal(first.body.NextOffset, 3);
    const last = await api<Paged<PersonAnswer>>(emulator, token, 'GET', '/api/Party?limit=3&offset=6');
    assert.equal(last.body.Offset, 6);
    assert.equal(last.body.Count, 2);
    assert.equal(last.body.HasNext, false);
    assert.equal(last.body.NextOffset, 0);
  });

  it('clamps limit at 500', async () => {
    for (let i = 0; i < 600; i++) {
      emulator.state.activities.push({ SEQN: 20000 + i, PartyId: '101', ACTIVITY_TYPE: 'BULK' });
    }
    const first = await api<Paged<GenericEntityData>>(emulator, token, 'GET', '/api/Activity?limit=1000');
    assert.equal(first.body.Limit, 500);
    assert.equal(first.body.Count, 500);
    assert.equal(first.body.NextOffset, 500);
    const second = await api<Paged<GenericEntityData>>(
      emulator,
      token,
      'GET',
      `/api/Activity?limit=1000&offset=${first.body.NextOffset}`,
    );
    assert.equal(second.body.Count, 100);
    assert.equal(second.body.HasNext, false);
    assert.equal(second.body.NextOffset, 0);
  });
});

describe('emulator: Party', () => {
  let emulator: Emulator;
  let token: string;
  sharedEmulator((shared) => ({ emulator, token } = shared));

  it('has the seeded members, including 12345 of the check-in example', () => {
    for (const id of ['12345', '101', '22708', '23179']) assert.ok(emulator.state.parties.has(id), id);
  });

  it('returns a party as PersonData', async () => {
    const { status, body } = await api<PersonAnswer>(emulator, token, 'GET', '/api/Party/12345');
    assert.equal(status, 200);
    assert.equal(body.$type, 'Asi.Soa.Membership.DataContracts.PersonData, Asi.Contracts');
    assert.equal(body.PartyId, '12345');
    assert.equal(body.Id, '12345');
    assert.equal(body.PersonName.FirstName, 'Maria');
    assert.equal(body.Emails.$values[0].Address, 'maria.garcia@example.org');
  });

  it('answers 404 for an unknown party', async () => {
    assert.equal((await api(emulator, token, 'GET', '/api/Party/99999')).status, 404);
  });

  it('filters the list by property, ignoring case (?lastname=eq:smith)', async () => {
    const { body } = await api<Paged<PersonAnswer>>(emulator, token, 'GET', '/api/Party?lastname=eq:smith');
    assert.deepEqual(
      body.Items.$values.map((party) => party.PartyId),
      ['101', '20418'],
    );
    assert.equal(body.$type.includes('PartyData'), true);
  });

  it('updates names and email with PUT', async () => {
    const current = (await api<PersonAnswer>(emulator, token, 'GET', '/api/Party/101')).body;
    current.PersonName.FirstName = 'Johnny';
    current.Emails.$values[0].Address = 'johnny@example.org';
    const { status, body } = await api<PersonAnswer>(emulator, token, 'PUT', '/api/Party/101', current);
    assert.equal(status, 200);
    assert.equal(body.PersonName.FullName, 'Johnny Smith');
    assert.equal(emulator.state.parties.get('101')?.Email, 'johnny@example.org');
  });

  it('refuses a PUT whose PartyId differs from the URL', async () => {
    const { status, body } = await api(emulator, token, 'PUT', '/api/Party/101', { PartyId: '102' });
    assert.equal(status, 400);
    assert.match(firstError(body), /PartyId 102/);
  });
});
