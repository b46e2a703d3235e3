import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import safeStableStringify from 'safe-stable-stringify';
import { DeltaInputError, computeDelta, rowHash, stableRowJson } from '../../src/core/delta.js';

const rows = [
  { ID: '101', Name: 'John Smith', Email: 'john@example.org' },
  { ID: '102', Name: 'Maria Garcia', Email: 'maria@example.org' },
  { ID: 103, Name: 'Ahmed Khan', Email: null },
];

/** The hashes a run would leave behind. */
const hashesOf = (result: ReturnType<typeof computeDelta>, before = new Map<string, string>()) => {
  const next = new Map(before);
  for (const [k, h] of result.upserts) next.set(k, h);
  for (const k of result.removed) next.delete(k);
  return next;
};

describe('Delta Hash computation', function () {
  this.timeout(30_000);
  it('returns every row on the first run, and none when nothing changed', () => {
    const first = computeDelta(rows, 'ID', new Map());
    assert.deepEqual(first.changed, rows);
    assert.deepEqual(first.counts, { rows: 3, added: 3, changed: 0, unchanged: 0, removed: 0 });
    const again = computeDelta(structuredClone(rows), 'ID', hashesOf(first));
    assert.deepEqual(again.changed, []);
    assert.deepEqual(again.upserts, []);
    assert.deepEqual(again.counts, { rows: 3, added: 0, changed: 0, unchanged: 3, removed: 0 });
  });

  it('returns changed and new rows, and the keys that disappeared', () => {
    const stored = hashesOf(computeDelta(rows, 'ID', new Map()));
    const next = [
      { ID: '101', Name: 'John Smith', Email: 'john.smith@example.org' },
      { ID: 103, Name: 'Ahmed Khan', Email: null },
      { ID: '104', Name: 'Emily Lee', Email: 'emily@example.com' },
    ];
    const delta = computeDelta(next, 'ID', stored);
    assert.deepEqual(
      (delta.changed as { ID: unknown }[]).map((r) => r.ID),
      ['101', '104'],
    );
    assert.deepEqual(delta.removed, ['102']);
    assert.deepEqual(delta.counts, { rows: 3, added: 1, changed: 1, unchanged: 1, removed: 1 });
    assert.deepEqual(
      delta.upserts.map(([k]) => k),
      ['101', '104'],
    );
  });

  it('hashes the same values in another property order alike, and any changed value differently', () => {
    assert.equal(rowHash({ a: 1, b: { c: [1, 2], d: 'x' } }), rowHash({ b: { d: 'x', c: [1, 2] }, a: 1 }));
    assert.notEqual(rowHash({ a: 1, b: [1, 2] }), rowHash({ a: 1, b: [2, 1] }));
    assert.notEqual(rowHash({ a: '1' }), rowHash({ a: 1 }));
    assert.notEqual(rowHash({ a: null }), rowHash({}));
    const expected = createHash('sha256').update('{"a":1,"b":"x"}').digest('base64url');
    assert.equal(rowHash({ b: 'x', a: 1 }), expected, 'SHA-256 of the sorted JSON');
  });

  it('writes flat rows (the fast path) exactly as the stable serialisation of nested ones does', () => {
    const json = stableRowJson();
    const flat = [
      { z: 1, a: 'x', m: null, q: true },
      { q: false, m: 'é ✓ "quoted" \\ \n\u0001 \ud800', a: -0, z: 1e21 },
      { a: NaN, b: undefined, c: Infinity, d: '' },
      { '10': 1, '9': 2, b: 3, B: 4, _: 5 },
      JSON.parse('{"__proto__": 1, "a": 2}'),
      { a: 1, b: 2, c: 3 },
      {},
    ];
    for (const row of flat) assert.equal(json(row), safeStableStringify(row), JSON.stringify(row));
    const nested = { b: { y: 1, x: [{ d: 1, c: 2 }] }, a: new Date('2026-05-27T00:00:00Z') };
    assert.equal(json(nested), '{"a":"2026-05-27T00:00:00.000Z","b":{"x":[{"c":2,"d":1}],"y":1}}');
  });

  it('refuses a key that appears twice, naming the key and the rows', () => {
    assert.throws(
      () => computeDelta([...rows, { ID: '102', Name: 'Again' }], 'ID', new Map()),
      (err: Error) =>
        err instanceof DeltaInputError &&
        /"ID" must be unique.*key "102" appears in rows 2 and 4/.test(err.message),
    );
    assert.throws(
      () => computeDelta([{ ID: 7 }, { ID: '7' }], 'ID', new Map()),
      /key "7" appears in rows 1 and 2/,
    );
  });

  it('names a missing key column, a row without a key and input that is not an array of rows', () => {
    assert.throws(
      () => computeDelta(rows, 'Id', new Map()),
      /Row 1 has no key column "Id" \(its columns: ID, Name, Email\)/,
    );
    assert.throws(
      () => computeDelta([{ ID: '' }], 'ID', new Map()),
      /Row 1 has no usable value in the key column "ID"/,
    );
    assert.throws(
      () => computeDelta({ rows }, 'ID', new Map(), 'msg.payload'),
      /msg.payload must be an array of rows, not object/,
    );
    assert.throws(() => computeDelta([1], 'ID', new Map()), /Row 1 is not an object/);
    assert.throws(() => computeDelta(rows, ' ', new Map()), /No Key Column/);
    const loop: Record<string, unknown> = { ID: 'x' };
    loop.self = { loop };
    assert.throws(() => computeDelta([loop], 'ID', new Map()), /Row 1 \(key "x"\) cannot be written as JSON/);
  });

  it('compares 100,000 rows', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => ({ ID: String(i), n: i, text: `row ${i}` }));
    const first = computeDelta(many, 'ID', new Map());
    assert.equal(first.changed.length, 100_000);
    many[500] = { ...many[500], text: 'changed' };
    const second = computeDelta(many.slice(1), 'ID', hashesOf(first));
    assert.deepEqual(second.changed, [many[500]]);
    assert.deepEqual(second.removed, ['0']);
  });
});
