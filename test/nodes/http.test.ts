import assert from 'node:assert/strict';
import { readJsonBody } from '../../src/nodes/lib/http.js';

/**
 * A body another parser read before ours (Node-RED embedded in an app that parses bodies itself,
 * where our claim on the body cannot run): what it left is still checked.
 */
describe('Webhook body already parsed upstream', () => {
  const parsed = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    ({ _body: true, body, headers, readableEnded: true }) as any;
  const res = undefined as any;

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
});
