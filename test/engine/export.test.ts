import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parse } from 'papaparse';
import { conditionalStatus, PublishedStore, toCsv, toJson } from '../../src/engine/export.js';

const freshDir = () => mkdtempSync(join(tmpdir(), 'imis-export-'));

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

  it('converts 100,000 rows of 10 columns in reasonable time', function () {
    this.timeout(30_000);
    const rows = Array.from({ length: 100_000 }, (_, i) => {
      const row: Record<string, unknown> = {};
      for (let c = 0; c < 10; c++) row[`col${c}`] = c % 3 === 0 ? i * c : `v${i}, "${c}"`;
      return row;
    });
    const started = performance.now();
    const csv = toCsv(rows);
    const ms = Math.round(performance.now() - started);
    console.log(`      toCsv: 100,000 rows × 10 columns in ${ms} ms (${(csv.length / 1e6).toFixed(1)} MB)`);
    assert.ok(ms < 10_000, `${ms} ms`);
    assert.equal(csv.split('\r\n').length, 100_001);
  });
});

describe('Published export data', () => {
  const data = [{ id: '101', name: 'Ann' }];

  it('gives JSON and CSV bodies with their content types and a quoted SHA-256 ETag', () => {
    const store = new PublishedStore(freshDir());
    const j = store.publish('k', 'json', data);
    assert.equal(j.body.toString('utf8'), toJson(data));
    assert.equal(j.contentType, 'application/json; charset=utf-8');
    assert.match(j.etag, /^"[A-Za-z0-9_-]{43}"$/);
    assert.equal(j.rows, 1);
    const c = store.publish('k', 'csv', data);
    assert.equal(c.body.toString('utf8'), 'id,name\r\n101,Ann');
    assert.equal(c.contentType, 'text/csv; charset=utf-8');
    assert.notEqual(c.etag, j.etag);
  });

  it('serves the same body and ETag after a restart', () => {
    const dir = freshDir();
    const first = new PublishedStore(dir).publish('secret-token', 'csv', data);
    const again = new PublishedStore(dir).get('secret-token');
    assert.ok(again);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.etag, first.etag);
    assert.equal(again.lastModified.getTime(), first.lastModified.getTime());
    assert.equal(again.rows, 1);
    assert.equal(again.format, 'csv');
  });

  it('never names a file after the key', () => {
    const dir = freshDir();
    new PublishedStore(dir).publish('my-secret-token', 'json', data);
    const names = readdirSync(dir);
    assert.equal(names.length, 2);
    for (const name of names) assert.ok(!name.includes('my-secret-token'), name);
  });

  it('replaces the data on every publish, and forgets it on remove', () => {
    const dir = freshDir();
    const store = new PublishedStore(dir);
    store.publish('k', 'json', data);
    const second = store.publish('k', 'json', [{ id: '202' }, { id: '303' }]);
    assert.equal(store.get('k')?.rows, 2);
    assert.equal(new PublishedStore(dir).get('k')?.etag, second.etag);
    store.remove('k');
    assert.equal(store.get('k'), undefined);
    assert.equal(new PublishedStore(dir).get('k'), undefined);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('keeps Last-Modified when a publish changes nothing', () => {
    const store = new PublishedStore(freshDir());
    const first = store.publish('k', 'json', data);
    assert.equal(store.publish('k', 'json', [...data]), first);
  });

  it('rebuilds its metadata when the process died between writing the body and the metadata', () => {
    const dir = freshDir();
    const store = new PublishedStore(dir);
    store.publish('k', 'json', data);
    const meta = readdirSync(dir).find((n) => n.endsWith('.meta.json')) as string;
    const oldMeta = readFileSync(join(dir, meta));
    store.publish('k', 'json', [{ a: 1 }, { a: 2 }, { a: 3 }]);
    writeFileSync(join(dir, meta), oldMeta);
    const loaded = new PublishedStore(dir).get('k');
    assert.equal(loaded?.rows, 3);
    assert.equal(loaded?.format, 'json');
    assert.equal(loaded?.etag, store.get('k')?.etag);
  });

  it('rejects data that is not an array of rows', () => {
    const store = new PublishedStore(freshDir());
    assert.throws(() => store.publish('k', 'json', { rows: [] } as unknown as unknown[]), /must be an array/);
  });

  describe('readers during repeated publishes', () => {
    const small = Array.from({ length: 50 }, (_, i) => ({ id: i, text: 'small' }));
    const big = Array.from({ length: 5_000 }, (_, i) => ({ id: i, text: `big row ${i}, with "quotes"` }));

    it('always get a complete body from get()', async function () {
      this.timeout(30_000);
      const store = new PublishedStore(freshDir());
      store.publish('k', 'json', small);
      let stop = false;
      let reads = 0;
      const reader = (async () => {
        while (!stop) {
          const p = store.get('k');
          assert.ok(p);
          const rows = JSON.parse(p.body.toString('utf8')) as unknown[];
          assert.ok(rows.length === small.length || rows.length === big.length);
          assert.equal(rows.length, p.rows);
          reads++;
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      for (let i = 0; i < 40; i++) {
        store.publish('k', 'json', i % 2 ? small : big);
        await new Promise((resolve) => setImmediate(resolve));
      }
      stop = true;
      await reader;
      assert.ok(reads > 10, String(reads));
    });

    it('always read a complete file from disk, from another thread and from async reads', async function () {
      this.timeout(30_000);
      const store = new PublishedStore(freshDir());
      const file = store.dataPath('k');
      const sizes = [small.length, big.length];
      store.publish('k', 'csv', small);
      // A worker thread reads the file in a tight loop while this thread keeps publishing.
      const worker = new Worker(
        `
        const { parentPort, workerData } = require('node:worker_threads');
        const { readFileSync } = require('node:fs');
        const { parse } = require('papaparse');
        let stop = false, reads = 0, bad = [];
        parentPort.on('message', () => { stop = true; });
        (function loop() {
          for (let i = 0; i < 20 && !stop; i++) {
            const text = readFileSync(workerData.file, 'utf8');
            const rows = parse(text, { header: true }).data;
            if (!workerData.sizes.includes(rows.length) || rows.some((r) => r.text === undefined)) {
              bad.push(text.length);
            }
            reads++;
          }
          if (stop) parentPort.postMessage({ reads, bad });
          else setImmediate(loop);
        })();
        `,
        { eval: true, workerData: { file, sizes } },
      );
      const result = new Promise<{ reads: number; bad: number[] }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      let asyncReads = 0;
      for (let i = 0; i < 40; i++) {
        store.publish('k', 'csv', i % 2 ? small : big);
        const [text] = await Promise.all([readFile(file, 'utf8'), new Promise((r) => setTimeout(r, 2))]);
        const rows = parse<Record<string, string>>(text, { header: true }).data;
        assert.ok(sizes.includes(rows.length), `async read of ${rows.length} rows`);
        asyncReads++;
      }
      worker.postMessage('stop');
      const { reads, bad } = await result;
      await worker.terminate();
      assert.deepEqual(bad, []);
      assert.ok(reads > 10, `worker reads: ${reads}`);
      assert.equal(asyncReads, 40);
    });
  });

  describe('conditional GET', () => {
    const store = new PublishedStore(freshDir());
    const p = store.publish('k', 'json', data);

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
