import assert from 'node:assert/strict';
import { rejected } from '../../src/core/ihook.js';
import { readJsonBody } from '../../src/nodes/lib/http/json-body.js';

/**
 * A body another parser read before ours (Node-RED embedded in an app that parses bodies itself,
 * where our claim on the body cannot run): what it left is still checked.
 */
describe('Webhook body already parsed upstream', () => {
  const parsed = (
    body: unknown,
    headers: Record<string, string> = { 'content-type': 'application/json' },
    more: Record<string, unknown> = {},
  ) =>
    // Only what readJsonBody reads of a request another parser has consumed.
    ({ _body: true, body, headers, readableEnded: true, ...more }) as unknown as Parameters<
      typeof readJsonBody
    >[0];
  // Never used for a body already read.
  const res = undefined as unknown as Parameters<typeof readJsonBody>[1];

  it('is taken as it was parsed', async () => {
    assert.deepEqual(await readJsonBody(parsed({ a: 1 }), res, 1024), { ok: true, value: { a: 1 } });
  });

  it('is refused past the size limit even without a Content-Length (a chunked body)', async () => {
    const result = await readJsonBody(parsed({ data: 'x'.repeat(2000) }), res, 1024);
    assert.deepEqual(result, { ok: false, rejection: { kind: 'too-large', limitBytes: 1024 } });
  });

  it('is refused when it was not JSON', async () => {
    const result = await readJsonBody(
      parsed({ a: '1' }, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '3' }),
      res,
      1024,
    );
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.rejection.kind, 'content-type');
  });

  describe('with a signature to check', () => {
    const exact = Buffer.from('{"a": 1}');
    const check = (raw: Buffer | undefined) =>
      raw === undefined
        ? ({ kind: 'unverifiable' } as const)
        : raw.equals(exact)
          ? undefined
          : ({ kind: 'signature-invalid', header: 'X-Sig' } as const);

    it('checks the bytes an upstream raw parser kept (a Buffer body, or a rawBody beside it)', async () => {
      assert.deepEqual(await readJsonBody(parsed(exact), res, 1024, check), { ok: true, value: { a: 1 } });
      const withRaw = parsed({ a: 1 }, undefined, { rawBody: exact });
      assert.deepEqual(await readJsonBody(withRaw, res, 1024, check), { ok: true, value: { a: 1 } });
      const other = await readJsonBody(parsed(Buffer.from('{"a":1}')), res, 1024, check);
      assert.deepEqual(other, {
        ok: false,
        rejection: { kind: 'refused', refusal: { kind: 'signature-invalid', header: 'X-Sig' } },
      });
    });

    it('refuses a body parsed upstream into an object: its exact bytes are gone (500, not accepted)', async () => {
      const result = await readJsonBody(parsed({ a: 1 }), res, 1024, check);
      assert.deepEqual(result, {
        ok: false,
        rejection: { kind: 'refused', refusal: { kind: 'unverifiable' } },
      });
      assert.ok(!result.ok);
      assert.equal(rejected(result.rejection).status, 500);
    });
  });
});
