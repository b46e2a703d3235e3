import assert from 'node:assert/strict';
import {
  ACTIVITIES_QUERY,
  CONTACTS_QUERY,
  MEMBERS_COUNT,
  MEMBERS_QUERY,
  memberRow,
  ROWS_COUNT,
  ROWS_QUERY,
  syntheticRow,
} from '../../src/emulator/iqa-seed.js';
import type { IqaRow } from '../../src/emulator/iqa.js';
import type { Emulator } from '../../src/emulator/server.js';
import type { GenericEntityData } from '../../src/imis/generic-entity.js';
import {
  api,
  firstError,
  GENERIC_ENTITY,
  plainValues,
  PROPERTY,
  PROPERTY_COLLECTION,
  sharedEmulator,
  wireValues,
  type Collection,
  type Executed,
  type Paged,
  type PersonAnswer,
  type Refusal,
} from './helpers.js';

/** A DocumentSummaryData of the document system (docs/imis-api.md §2.4), the fields read here. */
interface DocumentSummary {
  $type: string;
  DocumentTypeId: string;
  DocumentId: string;
  DocumentVersionId: string;
  Path: string;
  Name: string;
}

/** An IqaQueryDefinitionData (docs/imis-api.md §4), the fields read here. */
interface QueryDefinition {
  $type: string;
  Path: string;
  Document: { Name: string };
  Parameters: Collection<{ PropertyName: string; Operation: number; Prompt: string; AllowMultiple: boolean }>;
  Properties: Collection<{ Alias: string; Caption: string; DataTypeName: string; DisplayOrder: number }>;
}

const PAGED_ENTITIES =
  'Asi.Soa.Core.DataContracts.PagedResult`1[[Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts]], Asi.Contracts';
const ENTITY_LIST =
  'System.Collections.Generic.List`1[[Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts]], mscorlib';
const PAGED_OBJECTS = 'Asi.Soa.Core.DataContracts.PagedResult`1[[System.Object, mscorlib]], Asi.Contracts';
const OBJECT_COLLECTION = 'System.Collections.ObjectModel.Collection`1[[System.Object, mscorlib]], mscorlib';

function queryUrl(
  endpoint: 'iqa' | 'Query',
  name: string,
  extra: Record<string, string | string[]> = {},
): string {
  const params = new URLSearchParams({ QueryName: name });
  for (const [key, value] of Object.entries(extra)) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  return `/api/${endpoint}?${params.toString()}`;
}

function execute(entity: string, operation: string, parameters: unknown[]): unknown {
  return {
    $type: 'Asi.Soa.Core.DataContracts.GenericExecuteRequest, Asi.Contracts',
    EntityTypeName: entity,
    OperationName: operation,
    Parameters: {
      $type: 'System.Collections.ObjectModel.Collection`1[[System.Object, mscorlib]], mscorlib',
      $values: parameters,
    },
  };
}

const str = (value: string) => ({ $type: 'System.String', $value: value });

describe('emulator: IQA (docs/imis-api.md §4)', () => {
  let emulator: Emulator;
  let token: string;
  sharedEmulator((shared) => ({ emulator, token } = shared));

  const get = <T = unknown>(path: string) => api<T>(emulator, token, 'GET', path);

  describe('GET /api/iqa', () => {
    it('answers a PagedResult of GenericEntityData rows starting with ResultRow', async () => {
      const { status, body } = await get<Paged<GenericEntityData>>(queryUrl('iqa', CONTACTS_QUERY));
      assert.equal(status, 200);
      assert.equal(body.$type, PAGED_ENTITIES);
      assert.equal(body.Items.$type, ENTITY_LIST);
      const { Items, ...envelope } = body;
      assert.deepEqual(envelope, {
        $type: PAGED_ENTITIES,
        Offset: 0,
        Limit: 100,
        Count: 8,
        TotalCount: 8,
        NextPageLink: null,
        HasNext: false,
        NextOffset: 0,
      });
      const [first] = Items.$values;
      assert.deepEqual(Object.keys(first), [
        '$type',
        'EntityTypeName',
        'PrimaryParentEntityTypeName',
        'Properties',
      ]);
      assert.equal(first.$type, GENERIC_ENTITY);
      assert.equal(first.EntityTypeName, '59');
      assert.equal(first.Properties.$type, PROPERTY_COLLECTION);
      assert.ok(first.Properties.$values.every((p: { $type: string }) => p.$type === PROPERTY));
      assert.deepEqual(
        first.Properties.$values.map((p: { Name: string }) => p.Name),
        ['ResultRow', 'ID', 'Full Name', 'Email', 'Member Type', 'Status'],
      );
      assert.deepEqual(wireValues(first), {
        ResultRow: { $type: 'System.Int32', $value: 1 },
        ID: '101',
        'Full Name': 'John Smith',
        Email: 'john.smith@example.org',
        'Member Type': 'M',
        Status: 'A',
      });
      assert.deepEqual(
        Items.$values.map((row: unknown) => plainValues(row).ResultRow),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
    });

    it('types values by column and omits Value for nulls', async () => {
      const { body } = await get<Paged<GenericEntityData>>(queryUrl('iqa', ROWS_QUERY, { limit: '10' }));
      const rows = body.Items.$values.map(wireValues);
      const expected = syntheticRow(0);
      assert.deepEqual(rows[0], {
        ResultRow: { $type: 'System.Int32', $value: 1 },
        Row: { $type: 'System.Int32', $value: 1 },
        Code: 'R000001',
        Name: 'Item 1',
        Category: expected.Category,
        Amount: { $type: 'System.Decimal', $value: expected.Amount },
        Quantity: { $type: 'System.Int32', $value: expected.Quantity },
        Ratio: { $type: 'System.Double', $value: expected.Ratio },
        Active: { $type: 'System.Boolean', $value: expected.Active },
        'Created On': expected['Created On'],
        Notes: expected.Notes ?? undefined,
      });
      const nullNotes = body.Items.$values.find((_row: unknown, i: number) => syntheticRow(i).Notes === null);
      assert.ok(nullNotes, 'a row without Notes among the first 10');
      const notes = nullNotes.Properties.$values.find((p: { Name: string }) => p.Name === 'Notes');
      assert.deepEqual(notes, { $type: PROPERTY, Name: 'Notes' });
    });
  });

  describe('GET /api/Query', () => {
    it('answers a PagedResult of flat rows keyed by display alias', async () => {
      const { status, body } = await get<Paged<IqaRow>>(queryUrl('Query', CONTACTS_QUERY, { limit: '3' }));
      assert.equal(status, 200);
      assert.equal(body.$type, PAGED_OBJECTS);
      assert.equal(body.Items.$type, OBJECT_COLLECTION);
      assert.deepEqual(body.Items.$values[0], {
        ID: '101',
        'Full Name': 'John Smith',
        Email: 'john.smith@example.org',
        'Member Type': 'M',
        Status: 'A',
      });
      assert.equal(body.Items.$values[2]['Full Name'], 'Ahmed Khan');
      assert.deepEqual(
        [body.Offset, body.Limit, body.Count, body.TotalCount, body.HasNext, body.NextOffset],
        [0, 3, 3, 8, true, 3],
      );
    });

    it('reflects live data: a new contact, an organisation', async () => {
      const created = await api<PersonAnswer>(emulator, token, 'POST', '/api/Party', {
        $type: 'Asi.Soa.Membership.DataContracts.PersonData, Asi.Contracts',
        PersonName: { FirstName: 'Nia', LastName: 'Okoro' },
      });
      const { body } = await get<Paged<IqaRow>>(queryUrl('Query', CONTACTS_QUERY));
      assert.equal(body.TotalCount, 9);
      const rows = body.Items.$values;
      assert.equal(rows.find((row) => row.ID === '30010')?.['Full Name'], 'Northwind Clinic');
      assert.equal(rows.at(-1)?.ID, created.body.PartyId);
      assert.equal(rows.at(-1)?.['Full Name'], 'Nia Okoro');
    });

    it('pages with limit (default 100, at most 500) and offset; NextOffset is 0 on the last page', async () => {
      const first = await get<Paged<IqaRow>>(queryUrl('Query', MEMBERS_QUERY));
      assert.deepEqual(
        [
          first.body.Limit,
          first.body.Count,
          first.body.TotalCount,
          first.body.HasNext,
          first.body.NextOffset,
        ],
        [100, 100, MEMBERS_COUNT, true, 100],
      );
      const big = await get<Paged<IqaRow>>(
        queryUrl('Query', MEMBERS_QUERY, { limit: '2000', offset: '24800' }),
      );
      assert.deepEqual(
        [big.body.Offset, big.body.Limit, big.body.Count, big.body.HasNext, big.body.NextOffset],
        [24800, 500, 200, false, 0],
      );
      assert.deepEqual(big.body.Items.$values[0], memberRow(24800));
      assert.deepEqual(big.body.Items.$values.at(-1), memberRow(MEMBERS_COUNT - 1));
      const past = await get<Paged<IqaRow>>(queryUrl('Query', MEMBERS_QUERY, { offset: '30000' }));
      assert.deepEqual([past.body.Count, past.body.HasNext, past.body.NextOffset], [0, false, 0]);
    });
  });

  describe('parameters', () => {
    beforeEach(() => {
      emulator.state.activities.push(
        {
          SEQN: 16600,
          PartyId: '101',
          ACTIVITY_TYPE: 'EVENT',
          TRANSACTION_DATE: '2026-01-02T00:00:00',
          AMOUNT: 25,
        },
        { SEQN: 16601, PartyId: '12345', ACTIVITY_TYPE: 'MEETING', PRODUCT_CODE: 'ANNUAL' },
        { SEQN: 16602, PartyId: '22708', ACTIVITY_TYPE: 'EVENT', PRODUCT_CODE: 'GALA' },
      );
    });

    it('filters positionally with parameter=, bare or with an operator prefix', async () => {
      const all = await get<Paged<IqaRow>>(queryUrl('Query', ACTIVITIES_QUERY));
      assert.equal(all.body.TotalCount, 3);
      for (const value of ['EVENT', 'eq:event', 'startswith:EV']) {
        const { body } = await get<Paged<IqaRow>>(queryUrl('Query', ACTIVITIES_QUERY, { parameter: value }));
        assert.deepEqual(
          body.Items.$values.map((row) => row.SEQN),
          [16600, 16602],
          value,
        );
      }
      const ne = await get<Paged<IqaRow>>(queryUrl('Query', ACTIVITIES_QUERY, { parameter: 'ne:EVENT' }));
      assert.deepEqual(ne.body.Items.$values, [
        {
          ID: '12345',
          SEQN: 16601,
          'Activity Type': 'MEETING',
          'Transaction Date': null,
          'Product Code': 'ANNUAL',
          Amount: null,
        },
      ]);
      const empty = await get<Paged<IqaRow>>(queryUrl('Query', ACTIVITIES_QUERY, { parameter: '' }));
      assert.equal(empty.body.TotalCount, 3);
      const iqa = await get<Paged<GenericEntityData>>(
        queryUrl('iqa', ACTIVITIES_QUERY, { parameter: 'EVENT' }),
      );
      assert.equal(iqa.body.TotalCount, 2);
      assert.deepEqual(wireValues(iqa.body.Items.$values[0]).Amount, { $type: 'System.Decimal', $value: 25 });
      assert.deepEqual(wireValues(iqa.body.Items.$values[0]).SEQN, { $type: 'System.Int32', $value: 16600 });
    });

    it('fills prompts in filter order, paging over the filtered rows', async () => {
      const expected: number[] = [];
      for (let i = 0; i < MEMBERS_COUNT; i++) {
        const row = memberRow(i);
        if (row['Member Type'] === 'STU' && row.Status === 'I') expected.push(i);
      }
      assert.ok(expected.length > 50);
      const page = await get<Paged<IqaRow>>(
        queryUrl('Query', MEMBERS_QUERY, { parameter: ['eq:STU', 'I'], limit: '20', offset: '20' }),
      );
      assert.equal(page.body.TotalCount, expected.length);
      assert.deepEqual(
        page.body.Items.$values,
        expected.slice(20, 40).map((i) => memberRow(i)),
      );
      const onlySecond = await get<Paged<IqaRow>>(
        queryUrl('Query', MEMBERS_QUERY, { parameter: ['', 'I'], limit: '1' }),
      );
      assert.ok(onlySecond.body.TotalCount > expected.length);
    });

    it('refuses more values than prompts, and a missing required prompt', async () => {
      const tooMany = await get(queryUrl('Query', ACTIVITIES_QUERY, { parameter: ['EVENT', 'X'] }));
      assert.equal(tooMany.status, 400);
      assert.match(firstError(tooMany.body), /takes 1 parameter, but 2 were given/);

      emulator.state.iqa.addQuery({
        path: '$/Test/Required',
        columns: [{ alias: 'ID', type: 'String' }],
        parameters: [{ name: 'CsContact.Id', property: 'ID', prompt: 'Required' }],
        rows: () => [{ ID: '1' }, { ID: '2' }],
      });
      const missing = await get(queryUrl('Query', '$/Test/Required'));
      assert.equal(missing.status, 400);
      assert.match(firstError(missing.body), /CsContact.Id is required/);
      const given = await get<Paged<IqaRow>>(queryUrl('Query', '$/Test/Required', { parameter: '2' }));
      assert.deepEqual(given.body.Items.$values, [{ ID: '2' }]);
    });
  });

  describe('errors and lookups', () => {
    it('answers 404 with a Message to an unknown query, 400 without QueryName', async () => {
      for (const endpoint of ['iqa', 'Query'] as const) {
        const unknown = await get<Refusal>(queryUrl(endpoint, '$/Common/Queries/Nope'));
        assert.equal(unknown.status, 404);
        assert.match(unknown.body.Message, /The query '\$\/Common\/Queries\/Nope' was not found/);
      }
      const missing = await get('/api/Query');
      assert.equal(missing.status, 400);
      assert.match(firstError(missing.body), /QueryName is required/);
      const anonymous = await api(emulator, undefined, 'GET', queryUrl('Query', CONTACTS_QUERY));
      assert.equal(anonymous.status, 401);
      const post = await api(emulator, token, 'POST', queryUrl('Query', CONTACTS_QUERY), {});
      assert.equal(post.status, 405);
    });

    it('finds queries ignoring case, and by QueryDocumentVersionKey', async () => {
      const lower = await get(queryUrl('Query', CONTACTS_QUERY.toLowerCase(), { limit: '1' }));
      assert.equal(lower.status, 200);
      const query = emulator.state.iqa.find(CONTACTS_QUERY);
      assert.ok(query);
      const byKey = await get<Paged<GenericEntityData>>(
        `/api/iqa?QueryDocumentVersionKey=${query.documentVersionId}&limit=1`,
      );
      assert.equal(byKey.status, 200);
      assert.equal(byKey.body.TotalCount, 8);
    });

    it('addQuery adds a query until reset()', async () => {
      emulator.state.iqa.addQuery({
        path: '$/Test/Numbers',
        columns: [
          { alias: 'N', type: 'Integer' },
          { alias: 'Even', type: 'Boolean' },
        ],
        rows: function* () {
          for (let n = 1; n <= 3; n++) yield { N: n, Even: n % 2 === 0 };
        },
      });
      const { body } = await get<Paged<IqaRow>>(queryUrl('Query', '$/Test/Numbers'));
      assert.deepEqual(body.Items.$values, [
        { N: 1, Even: false },
        { N: 2, Even: true },
        { N: 3, Even: false },
      ]);
      emulator.state.reset();
      assert.equal((await get(queryUrl('Query', '$/Test/Numbers'))).status, 404);
      assert.throws(
        () => emulator.state.iqa.addQuery({ path: 'Common/X', columns: [], rows: () => [] }),
        /path/,
      );
    });
  });

  describe('the 100,000 × 10 query', () => {
    it('serves the first and the last page, generated on demand', async () => {
      const first = await get<Paged<IqaRow>>(queryUrl('Query', ROWS_QUERY, { limit: '500' }));
      assert.equal(first.body.TotalCount, ROWS_COUNT);
      assert.equal(first.body.Count, 500);
      assert.deepEqual(first.body.Items.$values[0], syntheticRow(0));
      assert.deepEqual(first.body.Items.$values[499], syntheticRow(499));
      assert.equal(Object.keys(first.body.Items.$values[0]).length, 10);

      const last = await get<Paged<GenericEntityData>>(
        queryUrl('iqa', ROWS_QUERY, { limit: '500', offset: String(ROWS_COUNT - 500) }),
      );
      assert.deepEqual(
        [last.body.Offset, last.body.Count, last.body.TotalCount, last.body.HasNext, last.body.NextOffset],
        [ROWS_COUNT - 500, 500, ROWS_COUNT, false, 0],
      );
      const lastRow = plainValues(last.body.Items.$values[499]);
      assert.equal(lastRow.ResultRow, ROWS_COUNT);
      assert.equal(lastRow.Row, ROWS_COUNT);
      assert.equal(lastRow.Code, 'R100000');
      assert.equal(lastRow.Amount, syntheticRow(ROWS_COUNT - 1).Amount);
    });

    it('filters by its Category prompt', async () => {
      const { body } = await get<Paged<IqaRow>>(
        queryUrl('Query', ROWS_QUERY, { parameter: 'Delta', limit: '5' }),
      );
      let expected = 0;
      for (let i = 0; i < ROWS_COUNT; i++) if (syntheticRow(i).Category === 'Delta') expected++;
      assert.equal(body.TotalCount, expected);
      assert.ok(body.Items.$values.every((row) => row.Category === 'Delta'));
    });
  });

  describe('query picker: DocumentSummary and QueryDefinition _execute', () => {
    /** `_execute`s `operation` of `entity`; the answer's Result read as `T`. */
    const run = <T = unknown>(entity: string, operation: string, parameters: unknown[]) =>
      api<Executed<T>>(
        emulator,
        token,
        'POST',
        `/api/${entity}/_execute`,
        execute(entity, operation, parameters),
      );
    const strings = (...values: string[]) => ({ $type: 'System.String[]', $values: values });

    it('FindByPath gives a folder or query summary, or a null Result', async () => {
      const folder = await run<DocumentSummary>('DocumentSummary', 'FindByPath', [str('$/Common/Queries')]);
      assert.equal(folder.status, 200);
      assert.equal(folder.body.$type, 'Asi.Soa.Core.DataContracts.GenericExecuteResult, Asi.Contracts');
      assert.equal(folder.body.IsSuccessStatusCode, true);
      assert.equal(folder.body.Result.$type, 'Asi.Soa.Core.DataContracts.DocumentSummaryData, Asi.Contracts');
      assert.equal(folder.body.Result.DocumentTypeId, 'FOL');
      assert.equal(folder.body.Result.Path, '$/Common/Queries');
      assert.equal(folder.body.Result.Name, 'Queries');

      const query = await run<DocumentSummary>('DocumentSummary', 'FindByPath', [str(CONTACTS_QUERY)]);
      assert.equal(query.body.Result.DocumentTypeId, 'IQD');
      assert.equal(query.body.Result.Name, 'All');
      assert.equal(
        query.body.Result.DocumentVersionId,
        emulator.state.iqa.find(CONTACTS_QUERY)?.documentVersionId,
      );

      const none = await run('DocumentSummary', 'FindByPath', [str('$/Nowhere')]);
      assert.equal(none.status, 200);
      assert.equal(none.body.Result, null);
    });

    it('FindDocumentsInFolder lists a folder by DocumentId or path, filtered by type', async () => {
      const folder = await run<DocumentSummary>('DocumentSummary', 'FindByPath', [str('$/Common/Queries')]);
      const list = await run<Collection<DocumentSummary>>('DocumentSummary', 'FindDocumentsInFolder', [
        str(folder.body.Result.DocumentId),
        strings('IQD', 'FOL'),
        { $type: 'System.Boolean', $value: false },
      ]);
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.Result.$values.map((doc) => [doc.DocumentTypeId, doc.Path]),
        [
          ['FOL', '$/Common/Queries/Activities'],
          ['FOL', '$/Common/Queries/Search'],
        ],
      );
      const large = await run<Collection<DocumentSummary>>('DocumentSummary', 'FindDocumentsInFolder', [
        str('$/Emulator/Large'),
        strings('IQD'),
        { $type: 'System.Boolean', $value: false },
      ]);
      assert.deepEqual(
        large.body.Result.$values.map((doc) => doc.Name),
        ['Members 25000', 'Rows 100000x10'],
      );
      const recursive = await run<Collection<DocumentSummary>>('DocumentSummary', 'FindDocumentsInFolder', [
        str('$'),
        strings('IQD'),
        true,
      ]);
      assert.equal(recursive.body.Result.$values.length, emulator.state.iqa.queries.length);
      const bad = await run('DocumentSummary', 'Delete', [str('$')]);
      assert.equal(bad.status, 400);
    });

    it('QueryDefinition FindByPath gives the prompts and columns', async () => {
      const { status, body } = await run<QueryDefinition>('QueryDefinition', 'FindByPath', [
        str(MEMBERS_QUERY),
      ]);
      assert.equal(status, 200);
      const definition = body.Result;
      assert.equal(definition.$type, 'Asi.Soa.Core.DataContracts.IqaQueryDefinitionData, Asi.Contracts');
      assert.equal(definition.Path, MEMBERS_QUERY);
      assert.equal(definition.Document.Name, 'Members 25000');
      assert.deepEqual(
        definition.Parameters.$values.map((p) => [p.PropertyName, p.Operation, p.Prompt, p.AllowMultiple]),
        [
          ['CsContact.MemberType', 1, 'Optional', false],
          ['CsContact.Status', 1, 'Optional', false],
        ],
      );
      assert.deepEqual(
        definition.Properties.$values.map((p) => [p.Alias, p.Caption, p.DataTypeName, p.DisplayOrder]),
        [
          ['ID', 'ID', 'String', 1],
          ['Full Name', 'Full Name', 'String', 2],
          ['Email', 'Email', 'String', 3],
          ['Member Type', 'Member Type', 'String', 4],
          ['Status', 'Status', 'String', 5],
          ['Join Date', 'Join Date', 'DateTime', 6],
        ],
      );
      const none = await run('QueryDefinition', 'FindByPath', [str('$/Nope')]);
      assert.equal(none.body.Result, null);
    });
  });
});
