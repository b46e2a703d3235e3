import assert from 'node:assert/strict';
import { coerce, normalizeDate } from '../../src/emulator/coerce.js';
import { ValidationError } from '../../src/emulator/errors.js';
import { decodeEntity, pagedResult } from '../../src/emulator/wire.js';

describe('emulator wire format', () => {
  it('reads bare, typed and omitted Values (docs/imis-api.md §2.1)', () => {
    const entity = decodeEntity({
      $type: 'Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts',
      EntityTypeName: 'Name_CEU',
      Identity: { EntityTypeName: 'Name_CEU', IdentityElements: { $values: ['23179', '2'] } },
      Properties: {
        $values: [
          { Name: 'PartyId', Value: '23179' },
          { Name: 'SEQN', Value: { $type: 'System.Int32', $value: 2 } },
          { Name: 'CEU_Course' },
        ],
      },
    });
    assert.equal(entity.entityTypeName, 'Name_CEU');
    assert.deepEqual(entity.identity, ['23179', '2']);
    assert.deepEqual(entity.properties, [
      { name: 'PartyId', value: '23179' },
      { name: 'SEQN', value: 2, clrType: 'System.Int32' },
      { name: 'CEU_Course', value: null },
    ]);
  });

  it('rejects a body without Properties or with a foreign $type', () => {
    assert.throws(
      () => decodeEntity({ $type: 'Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts' }),
      ValidationError,
    );
    assert.throws(
      () =>
        decodeEntity({ $type: 'Asi.Soa.Membership.DataContracts.PersonData, Asi.Contracts', Properties: [] }),
      ValidationError,
    );
  });

  it('normalises dates to ISO local time without a zone', () => {
    assert.equal(normalizeDate('2025-01-15'), '2025-01-15T00:00:00');
    assert.equal(normalizeDate('2025-01-15T10:30'), '2025-01-15T10:30:00');
    assert.equal(normalizeDate('2024-06-25T16:56:38.950'), '2024-06-25T16:56:38.95');
    assert.equal(normalizeDate('2025-01-15T10:00:00+02:00'), '2025-01-15T08:00:00');
    assert.equal(normalizeDate('1/15/2025 2:05 PM'), '2025-01-15T14:05:00');
    assert.equal(normalizeDate('2025-02-30'), undefined);
    assert.equal(normalizeDate('tomorrow'), undefined);
  });

  it('coerces numbers, booleans and text by property type', () => {
    assert.deepEqual(coerce({ name: 'Q', type: 'Decimal', caption: 'Q' }, '2.50'), { ok: true, value: 2.5 });
    assert.deepEqual(coerce({ name: 'N', type: 'Integer', caption: 'N' }, ''), { ok: true, value: null });
    assert.equal(coerce({ name: 'N', type: 'Integer', caption: 'N' }, 1.5).ok, false);
    assert.deepEqual(coerce({ name: 'B', type: 'Boolean', caption: 'B' }, 'TRUE'), { ok: true, value: true });
    assert.equal(coerce({ name: 'S', type: 'String', caption: 'S', maxLength: 3 }, 'abcd').ok, false);
  });

  it('puts NextOffset 0 and HasNext false past the last item', () => {
    const page = pagedResult('X, Y', [1, 2, 3], { offset: 5, limit: 10 });
    assert.equal(page.Count, 0);
    assert.equal(page.HasNext, false);
    assert.equal(page.NextOffset, 0);
  });
});
