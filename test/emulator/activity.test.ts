import assert from 'node:assert/strict';
import { today } from '../../src/emulator/coerce.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import {
  api,
  entityBody,
  firstError,
  GENERIC_ENTITY,
  plainValues,
  sharedEmulator,
  tokenFor,
  wireValues,
  type EntityAnswer,
  type Invalid,
  type Paged,
  type Refusal,
} from './helpers.js';

describe('emulator: Activity (docs/imis-api.md §2.2)', () => {
  let emulator: Emulator;
  let token: string;
  sharedEmulator((shared) => ({ emulator, token } = shared));

  const post = <T = unknown>(body: unknown) => api<T>(emulator, token, 'POST', '/api/Activity', body);

  it('creates an activity from the minimal Postman body and answers 201 with the typed record', async () => {
    const { status, body, headers } = await post<EntityAnswer>(
      entityBody({ ACTIVITY_TYPE: 'ONLINEAPP', PartyId: '22708' }),
    );
    assert.equal(status, 201);
    assert.equal(body.$type, GENERIC_ENTITY);
    assert.equal(body.EntityTypeName, 'Activity');
    assert.equal(
      body.Properties.$type,
      'Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts',
    );
    for (const property of body.Properties.$values) {
      assert.equal(property.$type, 'Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts');
    }
    const values = wireValues(body);
    assert.deepEqual(values.SEQN, { $type: 'System.Int32', $value: 16566 });
    assert.equal(values.PartyId, '22708');
    assert.equal(values.ACTIVITY_TYPE, 'ONLINEAPP');
    assert.equal(values.TRANSACTION_DATE, today(), 'an empty TRANSACTION_DATE becomes today');
    assert.equal(values.DESCRIPTION, undefined, 'an empty property is sent without Value');
    assert.deepEqual(body.Identity.IdentityElements.$values, ['16566']);
    assert.deepEqual(body.PrimaryParentIdentity.IdentityElements?.$values, ['22708']);
    assert.equal(headers.get('location'), `${emulator.url}/api/Activity/16566`);
    assert.deepEqual(emulator.state.activities.at(-1), {
      SEQN: 16566,
      PartyId: '22708',
      ACTIVITY_TYPE: 'ONLINEAPP',
      TRANSACTION_DATE: today(),
    });
  });

  it('answers 200 instead of 201 when configured with createdStatus 200', async () => {
    const other = await startEmulator({ createdStatus: 200 });
    try {
      const reply = await api(
        other,
        await tokenFor(other),
        'POST',
        '/api/Activity',
        entityBody({ PartyId: '12345', ACTIVITY_TYPE: 'EVENT' }),
      );
      assert.equal(reply.status, 200);
    } finally {
      await other.close();
    }
  });

  it('stores a full insert with typed values as plain numbers and ISO dates', async () => {
    const body = entityBody(
      {
        PartyId: '22708',
        ACTIVITY_TYPE: 'MEETING',
        TRANSACTION_DATE: '2025-01-15T00:00:00',
        EFFECTIVE_DATE: { $type: 'System.DateTime', $value: '2025-01-16' },
        PRODUCT_CODE: 'ANNUAL',
        DESCRIPTION: 'Annual meeting attendance',
        QUANTITY: { $type: 'System.Decimal', $value: 1 },
        AMOUNT: { $type: 'System.Decimal', $value: 0 },
        UF_4: { $type: 'System.Decimal', $value: 2.75 },
        RECURRING_REQUEST: { $type: 'System.Boolean', $value: false },
        NOTE: 'via Node-RED',
      },
      {
        EntityTypeName: 'Activity',
        PrimaryParentEntityTypeName: 'Party',
      },
    );
    const { status, body: created } = await post(body);
    assert.equal(status, 201);
    const stored = emulator.state.activitiesFor('22708').at(-1);
    assert.equal(stored?.QUANTITY, 1);
    assert.equal(stored?.AMOUNT, 0);
    assert.equal(stored?.UF_4, 2.75);
    assert.equal(stored?.RECURRING_REQUEST, false);
    assert.equal(stored?.EFFECTIVE_DATE, '2025-01-16T00:00:00');
    const values = wireValues(created);
    assert.deepEqual(values.QUANTITY, { $type: 'System.Decimal', $value: 1 });
    assert.equal(values.TRANSACTION_DATE, '2025-01-15T00:00:00');

    const fetched = await api(emulator, token, 'GET', `/api/Activity/${String(stored?.SEQN)}`);
    assert.equal(fetched.status, 200);
    assert.deepEqual(fetched.body, created);
  });

  it('accepts properties without inner $types, as third-party clients send them', async () => {
    const { status } = await post({
      $type: GENERIC_ENTITY,
      Properties: {
        $values: [
          { Name: 'partyid', Value: '12345' },
          { Name: 'activity_type', Value: 'EVENT' },
        ],
      },
    });
    assert.equal(status, 201);
    assert.equal(emulator.state.activitiesFor('12345')[0].ACTIVITY_TYPE, 'EVENT');
  });

  it('answers 400 ValidateResultsData naming ACTIVITY_TYPE when it is missing', async () => {
    const { status, body } = await post<Invalid>(entityBody({ PartyId: '22708' }));
    assert.equal(status, 400);
    assert.equal(body.$type, 'Asi.Soa.Core.DataContracts.ValidateResultsData, Asi.Contracts');
    assert.equal(body.IsValid, false);
    assert.equal(firstError(body), 'ACTIVITY_TYPE is required');
    assert.equal(body.Errors.$values[0].PropertyName, 'ACTIVITY_TYPE');
    assert.deepEqual(emulator.state.activities, []);
  });

  it('answers 400 naming the id when the party does not exist', async () => {
    const { status, body } = await post(entityBody({ PartyId: '99999', ACTIVITY_TYPE: 'EVENT' }));
    assert.equal(status, 400);
    assert.equal(firstError(body), 'Party 99999 does not exist');
    assert.deepEqual(emulator.state.activitiesFor('99999'), []);
  });

  it('answers 400 naming TRANSACTION_DATE when it is not a date', async () => {
    const { status, body } = await post<Invalid>(
      entityBody({ PartyId: '12345', ACTIVITY_TYPE: 'EVENT', TRANSACTION_DATE: 'next tuesday' }),
    );
    assert.equal(status, 400);
    assert.match(firstError(body), /TRANSACTION_DATE/);
    assert.equal(body.Errors.$values[0].PropertyName, 'TRANSACTION_DATE');
  });

  it('answers 400 to a body that is not JSON, not an object, or names an unknown property', async () => {
    const notJson = await post('{"Properties": ');
    assert.equal(notJson.status, 400);
    assert.match(firstError(notJson.body), /not valid JSON/);
    const array = await post([]);
    assert.equal(array.status, 400);
    const unknown = await post(entityBody({ PartyId: '12345', ACTIVITY_TYPE: 'EVENT', COLOUR: 'red' }));
    assert.equal(unknown.status, 400);
    assert.equal(firstError(unknown.body), 'COLOUR is not a property of Activity');
  });

  it('lists activities filtered with eq: on any property, property names in any case', async () => {
    await post(entityBody({ PartyId: '12345', ACTIVITY_TYPE: 'EVENT' }));
    await post(entityBody({ PartyId: '12345', ACTIVITY_TYPE: 'MEETING' }));
    await post(entityBody({ PartyId: '101', ACTIVITY_TYPE: 'EVENT' }));
    const { status, body } = await api<Paged<EntityAnswer>>(
      emulator,
      token,
      'GET',
      '/api/Activity?partyid=eq:12345&ACTIVITY_TYPE=eq:event',
    );
    assert.equal(status, 200);
    assert.equal(body.TotalCount, 1);
    const row = plainValues(body.Items.$values[0]);
    assert.equal(row.PartyId, '12345');
    assert.equal(row.ACTIVITY_TYPE, 'EVENT');
  });

  it('answers 404 for an activity that does not exist', async () => {
    const { status, body } = await api<Refusal>(emulator, token, 'GET', '/api/Activity/1');
    assert.equal(status, 404);
    assert.equal(typeof body.Message, 'string');
  });
});
