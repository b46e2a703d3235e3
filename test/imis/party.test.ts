import assert from 'node:assert/strict';
import { InputError } from '../../src/core/errors.js';
import type { Emulator } from '../../src/emulator/server.js';
import type { ImisClient } from '../../src/imis/client.js';
import { ImisError } from '../../src/imis/errors.js';
import { getEntity, getParty } from '../../src/imis/party.js';
import { emulatorAndClient } from './helpers.js';

describe('reading one record by ID, against the emulator', function () {
  let emulator: Emulator;
  let client: ImisClient;

  emulatorAndClient((shared) => ({ emulator, client } = shared));

  const apiCalls = () => emulator.state.requests.filter((r) => r.path.startsWith('/api/'));

  it('reads a contact as plain JSON', async () => {
    const party = await getParty(client, ' 101 ');
    assert.equal(party.PartyId, '101');
    assert.equal(typeof party.PersonName, 'object');
    assert.equal(JSON.stringify(party).includes('$type'), false, 'Json.NET tags are dropped');
  });

  it('reads a panel row by its composite identity, encoded in the path', async () => {
    const row = await getEntity(client, 'Name_CEU', '~23179|2');
    assert.deepEqual(row, {
      PartyId: '23179',
      SEQN: 2,
      CEU_Hours: 10,
      CEU_Notes: 'text',
      CEU_Course: 'CLIN-220',
    });
    assert.deepEqual(
      apiCalls().map((r) => r.path),
      ['/api/Name_CEU/~23179%7C2'],
    );
  });

  it('reads an entity that is not a GenericEntityData (an Event) as plain JSON', async () => {
    const event = await getEntity(client, 'Event', 'ANNUAL2026');
    assert.equal(event.Name, 'Annual Conference 2026');
    assert.equal(event.StartDateTime, '2026-09-14T09:00:00');
  });

  it("fails with kind not-found, naming the type and ID and keeping iMIS's message, without retrying", async () => {
    await assert.rejects(getEntity(client, 'Party', '99999'), (err) => {
      assert.ok(err instanceof ImisError);
      assert.equal(err.kind, 'not-found');
      assert.equal(err.status, 404);
      assert.match(err.message, /^iMIS has no Party with ID 99999: .*99999/);
      return true;
    });
    await assert.rejects(getParty(client, '99999'), /^iMIS has no contact with ID 99999/);
    await assert.rejects(getEntity(client, 'NoSuchThing', '1'), /no NoSuchThing with ID 1: .*NoSuchThing/);
    assert.equal(apiCalls().length, 3);
  });

  it('refuses an empty ID or entity type without calling iMIS', async () => {
    await assert.rejects(getEntity(client, 'Party', '  '), InputError);
    await assert.rejects(getEntity(client, '', '101'), InputError);
    await assert.rejects(getParty(client, ''), /An iMIS ID is required/);
    assert.equal(apiCalls().length, 0);
  });
});
