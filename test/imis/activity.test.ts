import assert from 'node:assert/strict';
import { ACTIVITY_FIELDS, buildActivity, insertActivity } from '../../src/imis/activity.js';
import { ImisClient } from '../../src/imis/client.js';
import { ImisError } from '../../src/imis/errors.js';
import { decodeEntity, encodeEntity } from '../../src/imis/generic-entity.js';
import { json, startStub, tokenAnswer } from './stub.js';
import type { Stub } from './stub.js';

/** CSI's "Create an activity" field set (docs/imis-api.md §2.2), with UF1–UF7 as "User Field n". */
const CONFIRMED_SET = [
  'Action Codes', 'Activity Type', 'Amount', 'Attachment Sequence', 'Attachment Total', 'Batch Number',
  'Campaign Code', 'Category', 'Co ID', 'Description', 'Effective Date', 'Grace Period', 'iMIS ID',
  'Intent To Edit', 'Memorial/Tribute Code', 'Member Type', 'Next Install Date', 'Note', 'Note 2', 'Object',
  'Org Code', 'Originating Trans Number', 'Other Code', 'Other ID', 'Pay Method', 'Product Code', 'Quantity',
  'Recurring Request', 'Solicitor ID', 'Source Code', 'Source System', 'Status Code', 'Taxable Value',
  'Thru Date', 'Tickler Date', 'Transaction Date', 'User Field 1', 'User Field 2', 'User Field 3',
  'User Field 4', 'User Field 5', 'User Field 6', 'User Field 7', 'Units',
]; // prettier-ignore

const TODAY = '2026-05-27T00:00:00';

function properties(entity: ReturnType<typeof buildActivity>): Record<string, unknown> {
  return Object.fromEntries(entity.Properties.$values.map((p) => [p.Name, p.Value]));
}

describe('Activity', function () {
  describe('ACTIVITY_FIELDS', function () {
    it('covers the whole confirmed field set, once each', function () {
      assert.deepEqual(ACTIVITY_FIELDS.map((f) => f.label).sort(), [...CONFIRMED_SET].sort());
      assert.equal(new Set(ACTIVITY_FIELDS.map((f) => f.key)).size, ACTIVITY_FIELDS.length);
      assert.equal(new Set(ACTIVITY_FIELDS.map((f) => f.property)).size, ACTIVITY_FIELDS.length);
    });

    it('marks only PartyId and ACTIVITY_TYPE as confirmed REST names, and both as required', function () {
      assert.deepEqual(
        ACTIVITY_FIELDS.filter((f) => !f.inferred).map((f) => f.property),
        ['PartyId', 'ACTIVITY_TYPE'],
      );
      assert.deepEqual(
        ACTIVITY_FIELDS.filter((f) => f.required).map((f) => f.key),
        ['partyId', 'activityType'],
      );
    });

    it('types the user fields and amounts as CSI documents them', function () {
      const type = (property: string) => ACTIVITY_FIELDS.find((f) => f.property === property)?.type;
      assert.deepEqual(['UF_1', 'UF_3', 'UF_4', 'UF_5', 'UF_6', 'UF_7'].map(type), [
        'String',
        'String',
        'Decimal',
        'Decimal',
        'Date',
        'Date',
      ]);
      assert.equal(type('QUANTITY'), 'Decimal');
      assert.equal(type('GRACE_PERIOD'), 'Integer');
      assert.equal(type('RECURRING_REQUEST'), 'Boolean');
      assert.equal(type('TRANSACTION_DATE'), 'Date');
    });
  });

  describe('buildActivity', function () {
    it('builds an Activity under its Party, typed, with empty fields left out', function () {
      const entity = buildActivity(
        {
          partyId: ' 22708 ',
          activityType: 'MEETING',
          quantity: '1',
          amount: '0',
          description: 'Annual meeting attendance',
          effectiveDate: '2026-05-27',
          recurringRequest: 'false',
          note: '',
          productCode: undefined,
        },
        { today: TODAY },
      );
      assert.equal(entity.EntityTypeName, 'Activity');
      assert.equal(entity.PrimaryParentEntityTypeName, 'Party');
      assert.deepEqual(entity.PrimaryParentIdentity?.IdentityElements?.$values, ['22708']);
      assert.deepEqual(properties(entity), {
        PartyId: '22708',
        ACTIVITY_TYPE: 'MEETING',
        TRANSACTION_DATE: TODAY,
        EFFECTIVE_DATE: '2026-05-27T00:00:00',
        DESCRIPTION: 'Annual meeting attendance',
        QUANTITY: { $type: 'System.Decimal', $value: 1 },
        AMOUNT: { $type: 'System.Decimal', $value: 0 },
        RECURRING_REQUEST: { $type: 'System.Boolean', $value: false },
      });
    });

    it('uses today for an empty Transaction Date and keeps a given one', function () {
      const base = { partyId: '1', activityType: 'X' };
      assert.equal(properties(buildActivity(base, { today: '2026-05-27' })).TRANSACTION_DATE, TODAY);
      assert.equal(
        properties(
          buildActivity(
            { ...base, transactionDate: '2026-05-27T21:30:00Z' },
            { today: TODAY, timeZone: 'America/Chicago' },
          ),
        ).TRANSACTION_DATE,
        '2026-05-27T16:30:00',
      );
    });

    it('refuses an empty iMIS ID or Activity Type', function () {
      assert.throws(
        () => buildActivity({ partyId: '', activityType: 'X' }, { today: TODAY }),
        /iMIS ID is required/,
      );
      assert.throws(
        () => buildActivity({ partyId: '1', activityType: '  ' }, { today: TODAY }),
        /Activity Type is required/,
      );
    });

    it('names the field whose text does not fit its type', function () {
      assert.throws(
        () => buildActivity({ partyId: '1', activityType: 'X', quantity: 'two' }, { today: TODAY }),
        {
          name: 'InputError',
          message: /^Quantity \(QUANTITY\): "two" is not a number/,
        },
      );
      assert.throws(
        () => buildActivity({ partyId: '1', activityType: 'X', uf6: '27/05/2026' }, { today: TODAY }),
        /User Field 6 \(UF_6\): "27\/05\/2026" is not a date/,
      );
      assert.throws(
        () => buildActivity({ partyId: '1', activityType: 'X', colour: 'red' }, { today: TODAY }),
        /colour/,
      );
    });
  });

  describe('insertActivity', function () {
    let stub: Stub | undefined;
    afterEach(async () => {
      await stub?.close();
      stub = undefined;
    });

    async function site(answer: (sent: unknown) => { status: number; body: unknown }): Promise<ImisClient> {
      stub = await startStub((hit, res) => {
        if (hit.path === '/token') tokenAnswer(res, 1);
        else {
          const { status, body } = answer(JSON.parse(hit.body));
          json(res, status, body);
        }
      });
      return new ImisClient({ baseUrl: stub.url, username: 'MANAGER', password: 'manager', retryBaseMs: 10 });
    }

    it('posts one activity and returns its SEQN and the created record', async function () {
      const client = await site((sent) => {
        const record = { SEQN: 16565, ...decodeEntity(sent) };
        return { status: 201, body: encodeEntity({ entityTypeName: 'Activity', properties: record }) };
      });
      const created = await insertActivity(
        client,
        { partyId: '22708', activityType: 'ONLINEAPP', amount: '10' },
        { today: TODAY },
      );
      assert.equal(created.seqn, 16565);
      assert.deepEqual(created.record, {
        SEQN: 16565,
        PartyId: '22708',
        ACTIVITY_TYPE: 'ONLINEAPP',
        TRANSACTION_DATE: TODAY,
        AMOUNT: 10,
      });
      assert.equal(stub?.count('/api/Activity'), 1);
      assert.equal(stub?.hits.at(-1)?.method, 'POST');
    });

    it('reports no SEQN when iMIS answers 0 for it', async function () {
      const client = await site((sent) => ({
        status: 201,
        body: encodeEntity({ properties: { SEQN: 0, ...decodeEntity(sent) } }),
      }));
      const created = await insertActivity(client, { partyId: '1', activityType: 'X' }, { today: TODAY });
      assert.equal(created.seqn, null);
    });

    it('fails with iMIS’s own message when iMIS rejects the activity', async function () {
      const client = await site(() => ({
        status: 400,
        body: { IsValid: false, Errors: { $values: [{ Message: 'Party 99999 does not exist' }] } },
      }));
      await assert.rejects(
        insertActivity(client, { partyId: '99999', activityType: 'X' }, { today: TODAY }),
        (err) => {
          assert.ok(err instanceof ImisError);
          assert.equal(err.kind, 'rejected');
          assert.equal(err.message, 'iMIS rejected POST /api/Activity: Party 99999 does not exist');
          return true;
        },
      );
    });
  });
});
