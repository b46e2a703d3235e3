import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, unparse } from 'papaparse';
import {
  conditionalStatus,
  csvBody,
  expiryFrom,
  exportError,
  jsonBody,
  keyHash,
  publicUrl,
  PublishedStore,
  servePublished,
  toCsv,
  toJson,
} from '../../src/core/export.js';
import type { Published } from '../../src/core/export.js';
import { SqliteStore } from '../../src/store/sqlite.js';

/** The whole body `p` serves, as text, read the way a GET sends it. */
async function bodyOf(store: PublishedStore, key: string, p: Published): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of store.body(key, p)) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
}

/** Parsed CSV as arrays of strings (header first). */
const table = (csv: string): string[][] => parse<string[]>(csv, { skipEmptyLines: false }).data;

describe('CSV conversion', () => {
  it('makes the header the union of the row keys, in first-seen order', () => {
    const csv = toCsv([
      { id: 1, name: 'Ann' },
      { id: 2, email: 'b@x.org' },
      { name: 'Cy', city: 'Oslo', id: 3 },
    ]);
    assert.equal(csv, 'id,name,email,city\r\n1,Ann,,\r\n2,,b@x.org,\r\n3,Cy,,Oslo');
  });

  it('quotes fields holding commas, quotes and newlines, and only those', () => {
    const rows = [{ a: 'x,y', b: 'say "hi"', c: 'line1\nline2', d: 'plain' }];
    const csv = toCsv(rows);
    assert.equal(csv, 'a,b,c,d\r\n"x,y","say ""hi""","line1\nline2",plain');
    assert.deepEqual(table(csv)[1], ['x,y', 'say "hi"', 'line1\nline2', 'plain']);
  });

  it('flattens nested objects to dotted columns by default, or writes them as JSON', () => {
    const rows = [{ id: 'A1', address: { city: 'Lyon', geo: { lat: 45.7 } }, tags: ['x', 'y'] }];
    assert.equal(toCsv(rows), 'id,address.city,address.geo.lat,tags\r\nA1,Lyon,45.7,"[""x"",""y""]"');
    const asJson = table(toCsv(rows, { nested: 'json' }));
    assert.deepEqual(asJson[0], ['id', 'address', 'tags']);
    assert.deepEqual(JSON.parse(asJson[1][1]), { city: 'Lyon', geo: { lat: 45.7 } });
    assert.deepEqual(JSON.parse(asJson[1][2]), ['x', 'y']);
  });

  it('writes null and undefined as empty, dates as ISO 8601, booleans and numbers as text', () => {
    const when = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
    const csv = toCsv([{ a: null, b: undefined, c: when, d: true, e: 0 }]);
    assert.equal(csv, 'a,b,c,d,e\r\n,,2025-01-02T03:04:05.000Z,true,0');
  });

  it('keeps UTF-8 text intact through a papaparse round trip, with a BOM only when asked', () => {
    const rows = [{ name: 'Éloïse Ødegård', city: '日本, 東京' }];
    const csv = toCsv(rows);
    assert.ok(!csv.startsWith('\ufeff'));
    const back = parse<Record<string, string>>(Buffer.from(csv, 'utf8').toString('utf8'), {
      header: true,
    }).data;
    assert.deepEqual(back, rows);
    assert.ok(toCsv(rows, { bom: true }).startsWith('\ufeffname,city'));
  });

  // Speed is measured by `npm run bench` (export section against papaparse), not asserted here.
  it('converts 100,000 rows of 10 columns', function () {
    this.timeout(30_000);
    const rows = Array.from({ length: 100_000 }, (_, i) => {
      const row: Record<string, unknown> = {};
      for (let c = 0; c < 10; c++) row[`col${c}`] = c % 3 === 0 ? i * c : `v${i}, "${c}"`;
      return row;
    });
    const csv = toCsv(rows);
    const lines = csv.split('\r\n');
    assert.equal(lines.length, 100_001);
    assert.deepEqual(table(lines[100_000])[0], Object.values(rows[99_999]).map(String));
  });
});

describe('Large export bodies, written in pieces', () => {
  // The body of a large export is made, stored and served a thousand rows at a time (memory stays
  // flat from run to run); its pieces joined must be exactly what one papaparse / JSON.stringify
  // call over all the rows gives.
  const joined = (pieces: Iterable<Buffer>) => Buffer.concat([...pieces]);
  const papaparseOnce = { quotes: false, newline: '\r\n', header: true, skipEmptyLines: false } as const;
  const tricky = (i: number): Record<string, unknown> => ({
    id: i,
    name: i % 7 === 0 ? '' : `n${i}, "quoted"`,
    note: i % 11 === 0 ? ' padded ' : i % 13 === 0 ? 'two\r\nlines' : null,
    city: i % 5 === 0 ? 'Zürich' : 'Lyon',
  });

  it('writes the same CSV for 2,345 rows as papaparse in one call, header once', () => {
    const rows = Array.from({ length: 2345 }, (_, i) => tricky(i));
    const once = unparse(rows, { ...papaparseOnce, columns: ['id', 'name', 'note', 'city'] });
    assert.equal(toCsv(rows), once);
    assert.ok(joined(csvBody(rows)).equals(Buffer.from(once, 'utf8')));
    assert.ok(joined(csvBody(rows, { bom: true })).equals(Buffer.from(`\ufeff${once}`, 'utf8')));
  });

  it('keeps empty lines of a one-column CSV and nested rows across pieces', () => {
    const empty = Array.from({ length: 2001 }, () => ({ a: '' }));
    assert.equal(toCsv(empty), unparse(empty, { ...papaparseOnce, columns: ['a'] }));
    const nested = Array.from({ length: 2100 }, (_, i) => ({ id: i, address: { city: `c${i}` } }));
    const data = nested.map((r) => [String(r.id), r.address.city]);
    const once = unparse({ fields: ['id', 'address.city'], data }, papaparseOnce);
    assert.ok(joined(csvBody(nested)).equals(Buffer.from(once, 'utf8')));
  });

  it('writes the same JSON for 2,500 rows as JSON.stringify, bigints as text', () => {
    const rows: unknown[] = Array.from({ length: 2500 }, (_, i) => tricky(i));
    rows[1500] = { big: 12345678901234567890n };
    rows[2400] = null;
    const once = JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const pieces = [...jsonBody(rows)];
    assert.ok(pieces.length > 3, 'in pieces');
    assert.ok(Buffer.concat(pieces).equals(Buffer.from(once, 'utf8')));
    assert.equal(joined(jsonBody([])).toString(), '[]');
  });
});

describe('Published export data', () => {
  const data = [{ id: '101', name: 'Ann' }];
  let file: string;
  const opened: SqliteStore[] = [];
  /** A store on this test's database file, as a process (or a restarted one) opens it. */
  const storage = () => {
    const store = new SqliteStore({ file });
    opened.push(store);
    return store.exports;
  };
  beforeEach(() => {
    file = join(mkdtempSync(join(tmpdir(), 'imis-export-')), 'imis.db');
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('gives JSON and CSV bodies with their content types and a quoted SHA-256 ETag', async () => {
    const store = new PublishedStore(storage());
    const j = await store.publish('k', 'json', data);
    assert.equal(await bodyOf(store, 'k', j), toJson(data));
    assert.equal(j.bytes, Buffer.byteLength(toJson(data)));
    assert.equal(j.contentType, 'application/json; charset=utf-8');
    assert.match(j.etag, /^"[A-Za-z0-9_-]{43}"$/);
    assert.equal(j.rows, 1);
    const c = await store.publish('k', 'csv', data);
    assert.equal(await bodyOf(store, 'k', c), 'id,name\r\n101,Ann');
    assert.equal(c.contentType, 'text/csv; charset=utf-8');
    assert.notEqual(c.etag, j.etag);
  });

  it('serves the same body and ETag after a restart', async () => {
    const first = await new PublishedStore(storage()).publish('secret-token', 'csv', data);
    const restarted = new PublishedStore(storage());
    const again = await restarted.get('secret-token');
    assert.ok(again);
    assert.equal(await bodyOf(restarted, 'secret-token', again), 'id,name\r\n101,Ann');
    assert.equal(again.bytes, first.bytes);
    assert.equal(again.etag, first.etag);
    assert.equal(again.lastModified.getTime(), first.lastModified.getTime());
    assert.equal(again.rows, 1);
    assert.equal(again.format, 'csv');
  });

  it('serves, in each process sharing the store, what any of them published last (shared: no copy in memory)', async () => {
    const backing = storage();
    const a = new PublishedStore(backing, true);
    const b = new PublishedStore(backing, true);
    await a.publish('k', 'json', data);
    assert.equal((await b.get('k'))?.rows, 1);
    const second = await a.publish('k', 'json', [{ id: '202' }, { id: '303' }]);
    const seen = await b.get('k');
    assert.equal(seen?.etag, second.etag, 'the same bytes from the other process');
    assert.ok(seen);
    assert.equal(await bodyOf(b, 'k', seen), toJson([{ id: '202' }, { id: '303' }]));
    assert.equal(seen?.lastModified.getTime(), second.lastModified.getTime());
    // Kept in memory (SQLite, one process), the other one's copy would stay behind.
    const alone = new PublishedStore(backing);
    await alone.get('k');
    await a.publish('k', 'json', []);
    assert.equal((await alone.get('k'))?.rows, 2, 'one process: its memory is the truth');
  });

  it('never stores the key itself, only its hash', async () => {
    const store = storage();
    await new PublishedStore(store).publish('my-secret-token', 'json', data);
    await opened[opened.length - 1].close();
    assert.ok(!readFileSync(file).includes('my-secret-token'));
    assert.ok(await storage().get(keyHash('my-secret-token')));
  });

  it('replaces the data on every publish, and forgets it on remove', async () => {
    const store = new PublishedStore(storage());
    await store.publish('k', 'json', data);
    const second = await store.publish('k', 'json', [{ id: '202' }, { id: '303' }]);
    assert.equal((await store.get('k'))?.rows, 2);
    assert.equal((await new PublishedStore(storage()).get('k'))?.etag, second.etag);
    await store.remove('k');
    assert.equal(await store.get('k'), undefined);
    assert.equal(await new PublishedStore(storage()).get('k'), undefined);
  });

  it('keeps Last-Modified when a publish changes nothing', async () => {
    const store = new PublishedStore(storage());
    const first = await store.publish('k', 'json', data);
    assert.equal(await store.publish('k', 'json', [...data]), first);
  });

  describe('link expiry (fake clock)', () => {
    const t0 = new Date('2026-01-31T12:00:00Z');
    const at = (ms: number) => new Date(t0.getTime() + ms);
    const DAY = 24 * 3600 * 1000;

    it('computes each period from the publish, months as calendar months', () => {
      assert.equal(expiryFrom('never', t0), undefined);
      assert.equal(expiryFrom('1d', t0)?.toISOString(), '2026-02-01T12:00:00.000Z');
      assert.equal(expiryFrom('3d', t0)?.toISOString(), '2026-02-03T12:00:00.000Z');
      assert.equal(expiryFrom('1w', t0)?.toISOString(), '2026-02-07T12:00:00.000Z');
      assert.equal(expiryFrom('2w', t0)?.toISOString(), '2026-02-14T12:00:00.000Z');
      assert.equal(
        expiryFrom('1M', new Date('2026-03-15T00:00:00Z'))?.toISOString(),
        '2026-04-15T00:00:00.000Z',
      );
      assert.equal(
        expiryFrom('3M', new Date('2026-03-15T00:00:00Z'))?.toISOString(),
        '2026-06-15T00:00:00.000Z',
      );
    });

    it('serves the link before the expiry, nothing after, and deletes the data', async () => {
      const backing = storage();
      const store = new PublishedStore(backing);
      await store.publish('k', 'json', data, {}, { after: '1d', renew: true }, t0);
      assert.ok(await store.get('k', at(DAY - 1)), 'works before');
      assert.ok(await new PublishedStore(storage()).get('k', at(DAY - 1)), 'and from the store');
      assert.equal(await store.get('k', at(DAY)), undefined, '404 after');
      assert.equal(await new PublishedStore(storage()).get('k', at(DAY)), undefined);
      assert.equal(await backing.get(keyHash('k'), t0), undefined, 'the data is deleted');
    });

    it('renews the period at each run when asked, and otherwise keeps it', async () => {
      const renewing = new PublishedStore(storage());
      await renewing.publish('r', 'json', data, {}, { after: '1d', renew: true }, t0);
      await renewing.publish('r', 'json', data, {}, { after: '1d', renew: true }, at(DAY / 2));
      assert.ok(await renewing.get('r', at(DAY + 1)), 'renewed: alive a day after the first publish');
      assert.equal((await renewing.get('r', at(DAY + 1)))?.expiresAt?.getTime(), at(DAY + DAY / 2).getTime());

      const fixed = new PublishedStore(storage());
      await fixed.publish('f', 'json', data, {}, { after: '1d', renew: false }, t0);
      const replaced = await fixed.publish(
        'f',
        'json',
        [{ id: '2' }],
        {},
        { after: '1d', renew: false },
        at(DAY / 2),
      );
      assert.equal(replaced.rows, 1);
      assert.equal(replaced.expiresAt?.getTime(), at(DAY).getTime(), 'data replaced, expiry kept');
      assert.equal(await fixed.get('f', at(DAY)), undefined);
      const again = await fixed.publish('f', 'json', data, {}, { after: '1d', renew: false }, at(2 * DAY));
      assert.equal(again.expiresAt?.getTime(), at(3 * DAY).getTime(), 'a new period after the expiry');
    });

    it('never expires a link without expiry, and lets the store prune expired ones', async () => {
      const backing = storage();
      const store = new PublishedStore(backing);
      await store.publish('forever', 'json', data, {}, undefined, t0);
      await new PublishedStore(backing).publish('brief', 'json', data, {}, { after: '1d', renew: true }, t0);
      assert.equal(await backing.prune(at(DAY)), 1);
      assert.ok(await store.get('forever', at(1000 * DAY)));
    });
  });

  it('rejects data that is not an array of rows', async () => {
    const store = new PublishedStore(storage());
    await assert.rejects(
      store.publish('k', 'json', { rows: [] } as unknown as unknown[]),
      /must be an array/,
    );
  });

  it('gives readers a complete body, or an error, while publishes alternate between a small and a big one', async function () {
    this.timeout(30_000);
    const small = Array.from({ length: 50 }, (_, i) => ({ id: i, text: 'small' }));
    const big = Array.from({ length: 5_000 }, (_, i) => ({ id: i, text: `big row ${i}, with "quotes"` }));
    const store = new PublishedStore(storage());
    const other = new PublishedStore(storage()); // another process on the same store
    await store.publish('k', 'json', small);
    let stop = false;
    let reads = 0;
    let cut = 0;
    const reader = (async () => {
      while (!stop) {
        for (const s of [store, other]) {
          const p = await s.get('k');
          assert.ok(p);
          let text: string;
          try {
            text = await bodyOf(s, 'k', p);
          } catch (err) {
            // Replaced while it was read: the reader is told, it never gets a part of a body.
            assert.match((err as Error).message, /published again while it was read/);
            cut++;
            continue;
          }
          const rows = JSON.parse(text) as unknown[];
          assert.ok(rows.length === small.length || rows.length === big.length);
          assert.equal(rows.length, p.rows);
          reads++;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let i = 0; i < 40; i++) {
      await store.publish('k', 'json', i % 2 ? small : big);
      await new Promise((resolve) => setImmediate(resolve));
    }
    stop = true;
    await reader;
    assert.ok(reads > 10, `${reads} complete reads, ${cut} cut`);
  });

  it('stores a big body in parts; a reader finishes a body one publish replaced, and is told when two did', async () => {
    const big = Array.from({ length: 5_000 }, (_, i) => ({ id: i, text: `big row ${i}` }));
    const store = new PublishedStore(storage());
    const p = await store.publish('k', 'json', big);
    const parts: Buffer[] = [];
    for await (const part of store.body('k', p)) parts.push(part);
    assert.ok(parts.length >= 5, `${parts.length} parts`);
    assert.equal(Buffer.concat(parts).toString('utf8'), toJson(big));

    const readAll = async (body: AsyncIterator<Buffer>, first: Buffer[]) => {
      for (let next = await body.next(); !next.done; next = await body.next()) first.push(next.value);
      return Buffer.concat(first).toString('utf8');
    };
    const started = store.body('k', p)[Symbol.asyncIterator]();
    const head = await started.next();
    assert.ok(!head.done);
    await store.publish('k', 'json', data);
    assert.equal(await readAll(started, [head.value]), toJson(big), 'one publish: the old body whole');

    const p2 = await store.publish('k', 'json', big.slice(1));
    const body = store.body('k', p2)[Symbol.asyncIterator]();
    assert.equal((await body.next()).done, false);
    await store.publish('k', 'json', data);
    await store.publish('k', 'json', []);
    await assert.rejects(async () => {
      for (let next = await body.next(); !next.done; next = await body.next());
    }, /published again while it was read \(\d+ of \d+ bytes\)/);
    const now = await store.get('k');
    assert.ok(now);
    assert.equal(await bodyOf(store, 'k', now), '[]');
  });

  describe('conditional GET', () => {
    let p: Published;
    before(async () => {
      p = await new PublishedStore(storage()).publish('k', 'json', data);
    });

    it('answers 304 for a matching ETag, 200 for another', () => {
      assert.equal(conditionalStatus(p, { 'if-none-match': p.etag }), 304);
      assert.equal(conditionalStatus(p, { 'if-none-match': `"other", ${p.etag}` }), 304);
      assert.equal(conditionalStatus(p, { 'if-none-match': `W/${p.etag}` }), 304);
      assert.equal(conditionalStatus(p, { 'if-none-match': '*' }), 304);
      assert.equal(conditionalStatus(p, { 'if-none-match': '"other"' }), 200);
      assert.equal(conditionalStatus(p, {}), 200);
    });

    it('answers 304 when not modified since, 200 when modified, and lets If-None-Match win', () => {
      const at = p.lastModified.toUTCString();
      const before = new Date(p.lastModified.getTime() - 1000).toUTCString();
      assert.equal(conditionalStatus(p, { 'if-modified-since': at }), 304);
      assert.equal(conditionalStatus(p, { 'if-modified-since': before }), 200);
      assert.equal(conditionalStatus(p, { 'if-modified-since': 'not a date' }), 200);
      assert.equal(conditionalStatus(p, { 'if-none-match': '"other"', 'if-modified-since': at }), 200);
    });
  });
});

describe('Export public URL and answers', () => {
  it("builds the public URL from the node's base, else Node-RED's address, then httpNodeRoot", () => {
    const path = '/imis/export/tok';
    assert.equal(publicUrl({ publicBase: '' }, path), 'http://127.0.0.1:1880/imis/export/tok');
    assert.equal(
      publicUrl({ publicBase: '', uiHost: '0.0.0.0', uiPort: 1999, httpNodeRoot: '/api/' }, path),
      'http://127.0.0.1:1999/api/imis/export/tok',
    );
    assert.equal(
      publicUrl({ publicBase: '', uiHost: 'flows.example.org', uiPort: 80 }, path),
      'http://flows.example.org:80/imis/export/tok',
    );
    assert.equal(
      publicUrl({ publicBase: 'https://data.example.org/', httpNodeRoot: '/' }, path),
      'https://data.example.org/imis/export/tok',
    );
  });

  it('answers 200 with the body and its length, none for HEAD, and 304 with only the validators for a current copy', () => {
    const p: Published = {
      bodyId: 'b1',
      bytes: 2,
      contentType: 'application/json; charset=utf-8',
      etag: '"abc"',
      lastModified: new Date('2026-06-01T10:00:00Z'),
      rows: 0,
      format: 'json',
    };
    const body = (async function* () {
      yield Buffer.from('[]');
    })();
    const ok = servePublished(p, 'GET', {}, () => body);
    assert.equal(ok.status, 200);
    assert.equal(ok.body, body);
    assert.equal(ok.headers.ETag, '"abc"');
    assert.equal(ok.headers['Content-Length'], '2');
    const unread = () => assert.fail('the body is not read');
    const head = servePublished(p, 'HEAD', {}, unread);
    assert.equal(head.body, undefined);
    assert.equal(head.headers['Content-Length'], '2');
    const notModified = servePublished(p, 'GET', { 'if-none-match': '"abc"' }, unread);
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body, undefined);
    assert.deepEqual(Object.keys(notModified.headers).sort(), ['Cache-Control', 'ETag', 'Last-Modified']);
  });

  it('answers errors as uncached JSON', () => {
    const answer = exportError(404, 'No export at this URL');
    assert.equal(answer.headers['Cache-Control'], 'no-store');
    assert.deepEqual(JSON.parse(String(answer.body)), { error: true, message: 'No export at this URL' });
  });
});
