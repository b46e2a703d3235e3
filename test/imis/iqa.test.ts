import assert from 'node:assert/strict';
import * as seed from '../../src/emulator/iqa-seed.js';
import type { Emulator } from '../../src/emulator/server.js';
import type { ImisClient } from '../../src/imis/client.js';
import { ImisError } from '../../src/imis/errors.js';
import { describeQuery, fetchIqa, listQueries } from '../../src/imis/iqa.js';
import { emulatorAndClient } from './helpers.js';

describe('fetchIqa / listQueries / describeQuery against the emulator (docs/imis-api.md §4)', function () {
  let emulator: Emulator;
  let client: ImisClient;

  emulatorAndClient((shared) => ({ emulator, client } = shared), { retryBaseMs: 10, retryMaxMs: 100 });

  const queryRequests = (path: string) =>
    emulator.state.requests.filter((request) => request.path.toLowerCase() === path.toLowerCase());

  it('fetches all 25,000 rows of /api/Query in order, over 50 pages of 500', async function () {
    this.timeout(20_000);
    const progress: [number, number][] = [];
    const result = await fetchIqa(client, {
      path: seed.MEMBERS_QUERY,
      onPage: (rows, total) => progress.push([rows, total]),
    });
    assert.equal(result.totalCount, seed.MEMBERS_COUNT);
    assert.equal(result.pages, 50);
    assert.equal(result.rows.length, seed.MEMBERS_COUNT);
    for (const index of [0, 1, 499, 500, 12_345, seed.MEMBERS_COUNT - 1]) {
      assert.deepEqual(result.rows[index], seed.memberRow(index), `row ${index}`);
    }
    assert.ok(
      result.rows.every((row, index) => row.ID === String(200_001 + index)),
      'in order, none missing',
    );
    assert.equal(progress.length, 50);
    assert.deepEqual(progress[0], [500, seed.MEMBERS_COUNT]);
    assert.deepEqual(progress.at(-1), [seed.MEMBERS_COUNT, seed.MEMBERS_COUNT]);
    const requests = queryRequests('/api/Query');
    assert.equal(requests.length, 50);
    const first = new URLSearchParams(requests[0].query);
    assert.equal(first.get('QueryName'), seed.MEMBERS_QUERY);
    assert.equal(first.get('limit'), '500');
    assert.equal(first.get('offset'), '0');
    assert.equal(new URLSearchParams(requests[49].query).get('offset'), '24500');
  });

  it('fetches all 25,000 rows of /api/iqa, flattened, ResultRow kept', async function () {
    this.timeout(20_000);
    const result = await fetchIqa(client, { path: seed.MEMBERS_QUERY, endpoint: 'iqa' });
    assert.equal(result.pages, 50);
    assert.equal(result.rows.length, seed.MEMBERS_COUNT);
    assert.deepEqual(result.rows[0], { ResultRow: 1, ...seed.memberRow(0) });
    assert.deepEqual(result.rows[seed.MEMBERS_COUNT - 1], {
      ResultRow: seed.MEMBERS_COUNT,
      ...seed.memberRow(seed.MEMBERS_COUNT - 1),
    });
    assert.ok(result.rows.every((row, index) => row.ResultRow === index + 1));
    assert.equal(queryRequests('/api/iqa').length, 50);
  });

  it('drops ResultRow on request, and reads typed values as plain ones', async () => {
    const result = await fetchIqa(client, {
      path: seed.ROWS_QUERY,
      endpoint: 'iqa',
      maxRows: 3,
      dropResultRow: true,
    });
    assert.deepEqual(result.rows, [seed.syntheticRow(0), seed.syntheticRow(1), seed.syntheticRow(2)]);
  });

  it('passes parameters positionally', async function () {
    this.timeout(10_000);
    emulator.state.activities.push(
      { SEQN: 16600, PartyId: '101', ACTIVITY_TYPE: 'EVENT' },
      { SEQN: 16601, PartyId: '12345', ACTIVITY_TYPE: 'MEETING' },
    );
    for (const endpoint of ['query', 'iqa'] as const) {
      const result = await fetchIqa(client, {
        path: seed.ACTIVITIES_QUERY,
        parameters: ['eq:MEETING'],
        endpoint,
      });
      assert.equal(result.totalCount, 1);
      assert.equal(result.rows[0].SEQN, 16601);
      assert.equal(result.rows[0]['Activity Type'], 'MEETING');
    }
    const students = await fetchIqa(client, {
      path: seed.MEMBERS_QUERY,
      parameters: ['STU', ''],
      pageSize: 250,
    });
    const expected = Array.from({ length: seed.MEMBERS_COUNT }, (_, i) => seed.memberRow(i)).filter(
      (row) => row['Member Type'] === 'STU',
    );
    assert.equal(students.totalCount, expected.length);
    assert.deepEqual(students.rows, expected);
    const [request] = queryRequests('/api/Query').slice(-1);
    assert.deepEqual(new URLSearchParams(request.query).getAll('parameter'), ['STU']);
  });

  it('honours maxRows and clamps pageSize to 1..500', async () => {
    const some = await fetchIqa(client, { path: seed.MEMBERS_QUERY, maxRows: 1200, pageSize: 1000 });
    assert.equal(some.rows.length, 1200);
    assert.equal(some.pages, 3);
    assert.equal(some.totalCount, seed.MEMBERS_COUNT);
    assert.deepEqual(some.rows[1199], seed.memberRow(1199));
    const limits = queryRequests('/api/Query').map((r) => new URLSearchParams(r.query).get('limit'));
    assert.deepEqual(limits, ['500', '500', '200']);
    const tiny = await fetchIqa(client, { path: seed.CONTACTS_QUERY, pageSize: 0 });
    assert.equal(tiny.pages, 8);
    assert.equal(tiny.rows.length, 8);
  });

  it('rejects an unknown query with a clear not-found error', async () => {
    for (const endpoint of ['query', 'iqa'] as const) {
      await assert.rejects(
        fetchIqa(client, { path: '$/Common/Queries/Missing', endpoint }),
        (err: unknown) => {
          assert.ok(err instanceof ImisError);
          assert.equal(err.kind, 'not-found');
          assert.equal(err.status, 404);
          assert.match(err.message, /iMIS has no IQA query "\$\/Common\/Queries\/Missing"/);
          assert.match(err.message, /was not found/);
          return true;
        },
      );
    }
    await assert.rejects(fetchIqa(client, { path: '  ' }), /path is required/);
    await assert.rejects(
      fetchIqa(client, { path: seed.ACTIVITIES_QUERY, parameters: ['A', 'B'] }),
      (err: unknown) =>
        err instanceof ImisError && err.kind === 'rejected' && /takes 1 parameter/.test(err.message),
    );
  });

  // Speed is measured by `npm run bench` (export section), not asserted here.
  it('fetches all 100,000 rows × 10 columns, in order, over 200 pages', async function () {
    this.timeout(120_000);
    const result = await fetchIqa(client, { path: seed.ROWS_QUERY });
    assert.equal(result.rows.length, seed.ROWS_COUNT);
    assert.equal(result.pages, 200);
    assert.deepEqual(result.rows[0], seed.syntheticRow(0));
    assert.deepEqual(result.rows[54_321], seed.syntheticRow(54_321));
    assert.deepEqual(result.rows[seed.ROWS_COUNT - 1], seed.syntheticRow(seed.ROWS_COUNT - 1));
    assert.ok(result.rows.every((row, index) => row.Row === index + 1));

    const iqa = await fetchIqa(client, { path: seed.ROWS_QUERY, endpoint: 'iqa' });
    assert.equal(iqa.rows.length, seed.ROWS_COUNT);
    assert.deepEqual(iqa.rows[seed.ROWS_COUNT - 1], {
      ResultRow: seed.ROWS_COUNT,
      ...seed.syntheticRow(seed.ROWS_COUNT - 1),
    });
  });

  it('lists the queries under a folder, descending into subfolders', async () => {
    const queries = await listQueries(client, '$/Common/Queries/');
    assert.deepEqual(
      queries.map((query) => [query.path, query.name, query.type, query.documentTypeId]),
      [
        [seed.ACTIVITIES_QUERY, 'By Type', 'query', 'IQD'],
        [seed.CONTACTS_QUERY, 'All', 'query', 'IQD'],
      ],
    );
    assert.equal(
      queries[1].documentVersionId,
      emulator.state.iqa.find(seed.CONTACTS_QUERY)?.documentVersionId,
    );
    const shallow = await listQueries(client, '$/Common/Queries', { recursive: false, includeFolders: true });
    assert.deepEqual(
      shallow.map((doc) => [doc.path, doc.type]),
      [
        ['$/Common/Queries/Activities', 'folder'],
        ['$/Common/Queries/Search', 'folder'],
      ],
    );
    const everything = await listQueries(client, '$');
    assert.equal(everything.length, emulator.state.iqa.queries.length);
    await assert.rejects(
      listQueries(client, '$/Nowhere'),
      (err: unknown) => err instanceof ImisError && err.kind === 'not-found',
    );
    await assert.rejects(listQueries(client, 'Common'), /starts with \$/);
  });

  it('describes a query: prompts in order and columns', async () => {
    const description = await describeQuery(client, seed.ACTIVITIES_QUERY);
    assert.equal(description.path, seed.ACTIVITIES_QUERY);
    assert.equal(description.name, 'By Type');
    assert.deepEqual(description.parameters, [
      {
        propertyName: 'CsActivity.ActivityType',
        prompt: 'Optional',
        allowMultiple: false,
        values: [],
        operation: 1,
        operator: 'eq',
      },
    ]);
    assert.deepEqual(
      description.properties.map((p) => [p.alias, p.dataTypeName, p.displayOrder]),
      [
        ['ID', 'String', 1],
        ['SEQN', 'Int32', 2],
        ['Activity Type', 'String', 3],
        ['Transaction Date', 'DateTime', 4],
        ['Product Code', 'String', 5],
        ['Amount', 'Decimal', 6],
      ],
    );
    await assert.rejects(
      describeQuery(client, '$/Nope'),
      (err: unknown) => err instanceof ImisError && err.kind === 'not-found',
    );
  });
});
