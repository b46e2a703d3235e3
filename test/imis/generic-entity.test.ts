import assert from 'node:assert/strict';
import {
  decodeEntity,
  decodePagedResult,
  encodeEntity,
  toImisDateTime,
  toWireValue,
} from '../../src/imis/generic-entity.js';
import { imisMessagesFrom } from '../../src/imis/errors.js';

describe('GenericEntityData codec', function () {
  it('writes the wire format of docs/imis-api.md §2.1 exactly', function () {
    const wire = encodeEntity({
      entityTypeName: 'Name_CEU',
      parentEntityTypeName: 'Party',
      parentId: '23179',
      properties: {
        PartyId: '23179',
        SEQN: 2,
        CEU_Hours: '10',
        CEU_Fee: '12.50',
        CEU_Approved: 'true',
        CEU_Date: '2026-05-27T09:15',
        CEU_Notes: 'text',
        CEU_Course: '',
      },
      propertyTypes: {
        CEU_Hours: 'Double',
        CEU_Fee: 'Decimal',
        CEU_Approved: 'Boolean',
        CEU_Date: 'Date',
        SEQN: 'Integer',
      },
    });
    const property = 'Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts';
    assert.deepEqual(wire, {
      $type: 'Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts',
      EntityTypeName: 'Name_CEU',
      PrimaryParentEntityTypeName: 'Party',
      PrimaryParentIdentity: {
        $type: 'Asi.Soa.Core.DataContracts.IdentityData, Asi.Contracts',
        EntityTypeName: 'Party',
        IdentityElements: {
          $type: 'System.Collections.ObjectModel.Collection`1[[System.String, mscorlib]], mscorlib',
          $values: ['23179'],
        },
      },
      Properties: {
        $type: 'Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts',
        $values: [
          { $type: property, Name: 'PartyId', Value: '23179' },
          { $type: property, Name: 'SEQN', Value: { $type: 'System.Int32', $value: 2 } },
          { $type: property, Name: 'CEU_Hours', Value: { $type: 'System.Double', $value: 10 } },
          { $type: property, Name: 'CEU_Fee', Value: { $type: 'System.Decimal', $value: 12.5 } },
          { $type: property, Name: 'CEU_Approved', Value: { $type: 'System.Boolean', $value: true } },
          { $type: property, Name: 'CEU_Date', Value: '2026-05-27T09:15:00' },
          { $type: property, Name: 'CEU_Notes', Value: 'text' },
          { $type: property, Name: 'CEU_Course' },
        ],
      },
    });
  });

  it('leaves Value out for null, undefined and empty text', function () {
    const wire = encodeEntity({ properties: { A: null, B: undefined, C: '' } });
    assert.deepEqual(
      wire.Properties.$values.map((p) => Object.keys(p)),
      [
        ['$type', 'Name'],
        ['$type', 'Name'],
        ['$type', 'Name'],
      ],
    );
    assert.equal('EntityTypeName' in wire, false);
    assert.equal('PrimaryParentIdentity' in wire, false);
  });

  it('writes a Standalone parent without identity elements', function () {
    const wire = encodeEntity({
      entityTypeName: 'ABC_Log',
      parentEntityTypeName: 'Standalone',
      properties: {},
    });
    assert.deepEqual(wire.PrimaryParentIdentity, {
      $type: 'Asi.Soa.Core.DataContracts.IdentityData, Asi.Contracts',
      EntityTypeName: 'Standalone',
    });
  });

  it('follows the JS type when no property type is given', function () {
    const wire = encodeEntity({ properties: { I: 3, D: 2.5, B: false, S: 'x' } });
    assert.deepEqual(
      wire.Properties.$values.map((p) => p.Value),
      [
        { $type: 'System.Int32', $value: 3 },
        { $type: 'System.Decimal', $value: 2.5 },
        { $type: 'System.Boolean', $value: false },
        'x',
      ],
    );
  });

  it('converts template text to the declared type', function () {
    const opts = { name: 'P' };
    assert.deepEqual(toWireValue(' 10 ', 'Decimal', opts), { $type: 'System.Decimal', $value: 10 });
    assert.deepEqual(toWireValue('-1.5e2', 'Double', opts), { $type: 'System.Double', $value: -150 });
    assert.deepEqual(toWireValue('42', 'Integer', opts), { $type: 'System.Int32', $value: 42 });
    assert.deepEqual(toWireValue('TRUE', 'Boolean', opts), { $type: 'System.Boolean', $value: true });
    assert.deepEqual(toWireValue('no', 'Boolean', opts), { $type: 'System.Boolean', $value: false });
    assert.equal(toWireValue(7, 'String', opts), '7');
  });

  it('refuses text that is not of the declared type, naming the property', function () {
    assert.throws(
      () => encodeEntity({ properties: { AMOUNT: '12,50' }, propertyTypes: { AMOUNT: 'Decimal' } }),
      {
        name: 'InputError',
        message: /^AMOUNT: "12,50" is not a number/,
      },
    );
    assert.throws(() => toWireValue('1.5', 'Integer', { name: 'SEQN' }), /SEQN: "1.5" is not a whole number/);
    assert.throws(
      () => toWireValue('maybe', 'Boolean', { name: 'Flag' }),
      /Flag: "maybe" is not a yes\/no value/,
    );
    assert.throws(() => toWireValue({ a: 1 }, undefined, { name: 'Obj' }), /Obj: cannot send/);
  });

  describe('dates', function () {
    it('sends a date or a zone-less date-time as iMIS local time, as written', function () {
      assert.equal(toImisDateTime('2026-05-27'), '2026-05-27T00:00:00');
      assert.equal(toImisDateTime('2026-05-27T09:15'), '2026-05-27T09:15:00');
      assert.equal(toImisDateTime('2026-05-27 09:15:07.123'), '2026-05-27T09:15:07');
    });

    it('converts a date-time with a zone to the wall clock of the iMIS time zone', function () {
      assert.equal(toImisDateTime('2026-05-27T13:15:00Z', 'America/New_York'), '2026-05-27T09:15:00');
      assert.equal(toImisDateTime('2026-05-27T09:15:00+02:00', 'UTC'), '2026-05-27T07:15:00');
      assert.equal(toImisDateTime('2026-01-01T00:30:00-0130', 'Europe/London'), '2026-01-01T02:00:00');
      assert.equal(toImisDateTime(new Date('2026-05-27T13:15:00Z'), 'Asia/Tokyo'), '2026-05-27T22:15:00');
    });

    it('refuses dates it would have to guess', function () {
      assert.throws(
        () => toImisDateTime('05/27/2026', undefined, 'Thru Date'),
        /Thru Date: "05\/27\/2026" is not a date/,
      );
      assert.throws(() => toImisDateTime('2026-02-30'), /is not a date/);
      assert.throws(() => toImisDateTime('2026-05-27T24:00'), /is not a date/);
    });
  });

  describe('decoding', function () {
    it('flattens an entity, unwrapping typed values and reading an omitted Value as null', function () {
      const properties = {
        PartyId: '23179',
        SEQN: 2,
        Hours: 1.5,
        Done: true,
        On: '2026-05-27T00:00:00',
        Empty: null,
      };
      const wire = encodeEntity({
        entityTypeName: 'Name_CEU',
        properties,
        propertyTypes: { Hours: 'Double' },
      });
      assert.deepEqual(decodeEntity(wire), properties);
      assert.deepEqual(
        JSON.parse(JSON.stringify(decodeEntity(JSON.parse(JSON.stringify(wire))))),
        properties,
      );
    });

    it('accepts properties without inner $type and a bare DateTime wrapper', function () {
      assert.deepEqual(
        decodeEntity({
          Properties: {
            $values: [
              { Name: 'A', Value: { $type: 'System.DateTime', $value: '2026-05-27T09:15:00' } },
              { Name: 'B' },
            ],
          },
        }),
        { A: '2026-05-27T09:15:00', B: null },
      );
    });

    it('turns other Json.NET objects into plain JSON', function () {
      assert.deepEqual(
        decodeEntity({
          $type: 'Asi.Soa.Membership.DataContracts.PersonData, Asi.Contracts',
          PartyId: '101',
          Emails: {
            $type: 'Asi.Soa.Membership.DataContracts.EmailDataCollection, Asi.Contracts',
            $values: [{ $type: 'x', Address: 'a@b.org' }],
          },
        }),
        { PartyId: '101', Emails: [{ Address: 'a@b.org' }] },
      );
      assert.throws(() => decodeEntity('nope'), TypeError);
    });

    it('reads a PagedResult envelope', function () {
      const page = decodePagedResult({
        $type: 'Asi.Soa.Core.DataContracts.PagedResult`1[[System.Object, mscorlib]], Asi.Contracts',
        Items: { $type: 'x', $values: [{ ID: '101' }, { ID: '102' }] },
        Offset: 0,
        Limit: 2,
        Count: 2,
        TotalCount: 5,
        NextPageLink: null,
        HasNext: true,
        NextOffset: 2,
      });
      assert.deepEqual(page, {
        items: [{ ID: '101' }, { ID: '102' }],
        offset: 0,
        limit: 2,
        count: 2,
        totalCount: 5,
        hasNext: true,
        nextOffset: 2,
      });
      assert.throws(() => decodePagedResult({ Nope: 1 }), /paged result/);
    });
  });

  describe('iMIS messages', function () {
    it('reads validation errors, token errors, Web API messages and short text', function () {
      assert.deepEqual(
        imisMessagesFrom({
          Errors: { $values: [{ Message: 'A is required' }, { Message: 'B is too long' }] },
        }),
        ['A is required', 'B is too long'],
      );
      assert.deepEqual(imisMessagesFrom({ error: 'invalid_grant', error_description: 'Bad password.' }), [
        'Bad password.',
      ]);
      assert.deepEqual(imisMessagesFrom({ error: 'unsupported_grant_type' }), ['unsupported_grant_type']);
      assert.deepEqual(
        imisMessagesFrom({ Message: 'The request is invalid.', ModelState: { x: ['x is wrong'] } }),
        ['The request is invalid.', 'x is wrong'],
      );
      assert.deepEqual(imisMessagesFrom('BadRequest: ValidationError'), ['BadRequest: ValidationError']);
      assert.deepEqual(imisMessagesFrom('<html>IIS error</html>'), []);
      assert.deepEqual(imisMessagesFrom(undefined), []);
    });
  });
});
