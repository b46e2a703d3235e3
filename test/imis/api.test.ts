import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/server.js';
import {
  ApiCallError,
  apiPath,
  attemptCount,
  callImisApi,
  parseBody,
  parseQuery,
} from '../../src/imis/api.js';
import type { ImisClient } from '../../src/imis/client.js';
import { ImisError } from '../../src/imis/errors.js';
import { encodeEntity } from '../../src/imis/generic-entity.js';
import { emulatorAndClient } from './helpers.js';

const activity = (partyId: string, type = 'MEETING') =>
  encodeEntity({
    entityTypeName: 'Activity',
    parentEntityTypeName: 'Party',
    parentId: partyId,
    properties: { PartyId: partyId, ACTIVITY_TYPE: type, TRANSACTION_DATE: '2026-05-27' },
  });

describe('iMIS API calls (callImisApi) against the emulator', function () {
  this.timeout(20_000);
  let emulator: Emulator;
  let client: ImisClient;
  const requests = (method: string, prefix: string) =>
    emulator.state.requests.filter((r) => r.method === method && r.path.startsWith(prefix));

  emulatorAndClient((shared) => ({ emulator, client } = shared), {
    retries: 0,
    retryBaseMs: 5,
    retryMaxMs: 20,
    timeoutMs: 2000,
  });

  it('GETs a record as iMIS sends it, or flattened to plain values', async () => {
    const raw = await callImisApi(client, { method: 'GET', path: '/api/Party/101' });
    assert.match(String((raw.result as Record<string, unknown>).$type), /PersonData/);
    const plain = (await callImisApi(client, { method: 'GET', path: 'api/Party/101', simplify: true }))
      .result as { $type?: string; PersonName: { FirstName: string }; AdditionalAttributes: unknown[] };
    assert.equal(plain.$type, undefined);
    assert.equal(plain.PersonName.FirstName, 'John');
    assert.deepEqual(plain.AdditionalAttributes[0], { Name: 'CustomerTypeCode', Value: 'M' });
  });

  it('POSTs a body that iMIS stores, and flattens the GenericEntityData it answers', async () => {
    const called = await callImisApi(client, {
      method: 'POST',
      path: '/api/Activity',
      body: activity('22708'),
      simplify: true,
    });
    const created = called.result as Record<string, unknown>;
    assert.equal(created.PartyId, '22708');
    assert.equal(created.ACTIVITY_TYPE, 'MEETING');
    assert.ok(Number(created.SEQN) > 0);
    assert.equal(emulator.state.activitiesFor('22708').length, 1);
  });

  it('PUTs an update and DELETEs a row (null for an empty answer)', async () => {
    const put = await callImisApi(client, {
      method: 'PUT',
      path: '/api/Name_Demo/23179',
      body: encodeEntity({
        entityTypeName: 'Name_Demo',
        properties: { PartyId: '23179', Favorite_Color: 'Blue' },
      }),
      simplify: true,
    });
    assert.equal((put.result as Record<string, unknown>).Favorite_Color, 'Blue');
    assert.equal(emulator.state.panels.get('Name_Demo')?.[0].Favorite_Color, 'Blue');

    const deleted = await callImisApi(client, { method: 'DELETE', path: '/api/Name_CEU/~23179|1' });
    assert.equal(deleted.result, null);
    assert.deepEqual(
      emulator.state.panels.get('Name_CEU')?.map((r) => r.SEQN),
      [2],
    );
  });

  it('sends the query string, a repeated key twice, merged with one written in the path', async () => {
    for (const type of ['MEETING', 'EVENT', 'MEETING'])
      await callImisApi(client, { method: 'POST', path: '/api/Activity', body: activity('101', type) });
    const found = await callImisApi(client, {
      method: 'GET',
      path: '/api/Activity?PartyId=eq:101',
      query: '?ACTIVITY_TYPE=eq%3AMEETING&limit=10',
      simplify: true,
    });
    const page = found.result as { Items: Record<string, unknown>[]; TotalCount: number };
    assert.equal(page.TotalCount, 2);
    assert.deepEqual(
      page.Items.map((i) => i.ACTIVITY_TYPE),
      ['MEETING', 'MEETING'],
    );
    assert.equal(
      requests('GET', '/api/Activity')[0].query,
      '?PartyId=eq%3A101&ACTIVITY_TYPE=eq%3AMEETING&limit=10',
    );
    assert.deepEqual(parseQuery('parameter=a&parameter=b&x=1'), { parameter: ['a', 'b'], x: '1' });
  });

  it('fetches every page of a paged GET, following NextOffset', async () => {
    for (let i = 0; i < 12; i++)
      await callImisApi(client, { method: 'POST', path: '/api/Activity', body: activity('12345') });
    const seen: [number, number][] = [];
    const all = await callImisApi(client, {
      method: 'GET',
      path: '/api/Activity',
      query: 'PartyId=eq:12345&limit=5',
      fetchAllPages: true,
      simplify: true,
      onPage: (items, total) => seen.push([items, total]),
    });
    const items = all.result as Record<string, unknown>[];
    assert.equal(items.length, 12);
    assert.equal(new Set(items.map((i) => i.SEQN)).size, 12);
    assert.equal(items[0].PartyId, '12345');
    assert.equal(all.pages, 3);
    assert.equal(all.totalCount, 12);
    assert.deepEqual(seen, [
      [5, 12],
      [10, 12],
      [12, 12],
    ]);
    assert.deepEqual(
      requests('GET', '/api/Activity').map((r) => new URLSearchParams(r.query).get('offset')),
      ['0', '5', '10'],
    );
  });

  it('says to turn Fetch All Pages off when the answer is not paged', async () => {
    await assert.rejects(
      callImisApi(client, { method: 'GET', path: '/api/Party/101', fetchAllPages: true }),
      (err: Error) =>
        err instanceof ApiCallError && /not answer a paged result.*Fetch All Pages off/.test(err.message),
    );
  });

  it("fails with iMIS's own validation message for a 400", async () => {
    const bad = activity('99999');
    await assert.rejects(
      callImisApi(client, { method: 'POST', path: '/api/Activity', body: bad }),
      (err: Error) =>
        err instanceof ImisError &&
        err.kind === 'rejected' &&
        err.status === 400 &&
        /Party 99999 does not exist/.test(err.message),
    );
  });

  it('tries a POST again after 503s while attempts remain, and stops at the Attempt Count', async () => {
    emulator.state.injectFault({ method: 'POST', pathPrefix: '/api/Activity', status: 503, times: 2 });
    const ok = await callImisApi(client, {
      method: 'POST',
      path: '/api/Activity',
      body: activity('101'),
      attempts: 3,
    });
    assert.equal((ok.result as { $type: string }).$type.includes('GenericEntityData'), true);
    assert.equal(requests('POST', '/api/Activity').length, 3);
    assert.equal(emulator.state.activitiesFor('101').length, 1, 'inserted once');

    emulator.state.reset();
    emulator.state.injectFault({
      method: 'POST',
      pathPrefix: '/api/Activity',
      status: 503,
      times: 5,
      body: { Message: 'down for maintenance' },
    });
    await assert.rejects(
      callImisApi(client, { method: 'POST', path: '/api/Activity', body: activity('101'), attempts: 2 }),
      /503 Service Unavailable.*down for maintenance/,
    );
    assert.equal(requests('POST', '/api/Activity').length, 2);
    assert.equal(emulator.state.activitiesFor('101').length, 0);
  });

  it('never sends a POST or PUT again when iMIS may have applied it (timeout, 500), but does a GET', async () => {
    emulator.state.injectFault({
      method: 'POST',
      pathPrefix: '/api/Activity',
      status: 0,
      times: 1,
      delayMs: 2500,
    });
    await assert.rejects(
      callImisApi(client, { method: 'POST', path: '/api/Activity', body: activity('101'), attempts: 5 }),
      /did not answer POST \/api\/Activity.*not sent again/,
    );
    assert.equal(requests('POST', '/api/Activity').length, 1);

    emulator.state.reset();
    emulator.state.injectFault({ method: 'PUT', pathPrefix: '/api/Name_Demo', status: 500, times: 1 });
    await assert.rejects(
      callImisApi(client, {
        method: 'PUT',
        path: '/api/Name_Demo/23179',
        body: encodeEntity({ entityTypeName: 'Name_Demo', properties: { PartyId: '23179' } }),
        attempts: 5,
      }),
      /500/,
    );
    assert.equal(requests('PUT', '/api/Name_Demo').length, 1);

    emulator.state.reset();
    emulator.state.injectFault({ method: 'GET', pathPrefix: '/api/Party', status: 500, times: 2 });
    await callImisApi(client, { method: 'GET', path: '/api/Party/101', attempts: 3 });
    assert.equal(requests('GET', '/api/Party').length, 3);
  });
});

describe('iMIS API call checks (before anything is sent)', () => {
  it('takes only /api/ paths: no full URL, no /token, no .. segments', () => {
    assert.deepEqual(apiPath(' /api/Party/101?x=1 '), { path: '/api/Party/101', params: { x: '1' } });
    assert.deepEqual(apiPath('api/Party').path, '/api/Party');
    assert.throws(() => apiPath(''), /No path/);
    assert.throws(() => apiPath('https://other.example/api/Party'), /full URL/);
    assert.throws(() => apiPath('/token'), /not an iMIS REST API path/);
    assert.throws(() => apiPath('/api/'), /not an iMIS REST API path/);
    assert.throws(() => apiPath('/api/../token'), /\.\. segments/);
    assert.throws(() => apiPath('/api/%2e%2e/token'), /\.\. segments/);
  });

  it('reads Attempt Count from 1 to 10, 0 or empty meaning the server setting', () => {
    assert.equal(attemptCount(0), undefined);
    assert.equal(attemptCount(''), undefined);
    assert.equal(attemptCount('4'), 4);
    assert.throws(() => attemptCount(11), /from 1 to 10/);
    assert.throws(() => attemptCount(2.5), /from 1 to 10/);
  });

  it('parses a Body as JSON and names the problem when it is not', () => {
    assert.equal(parseBody('  '), undefined);
    assert.deepEqual(parseBody('{"a": [1]}'), { a: [1] });
    assert.throws(() => parseBody('{"a": smith}'), /Body is not JSON/);
  });
});
