import assert from 'node:assert/strict';
import { queued, rejected } from '../../src/engine/ihook.js';

describe('iHook response contract', () => {
  const at = new Date('2026-05-27T09:15:00.000Z');

  it('answers 200 {error:false,id,queueTime} when queued', () => {
    assert.deepEqual(queued('RUN1', at), {
      status: 200,
      body: { error: false, id: 'RUN1', queueTime: '2026-05-27T09:15:00.000Z' },
    });
  });

  it('answers 202 with "Return 202 Accepted" and no body with "Omit Response Body"', () => {
    assert.deepEqual(queued('RUN1', at, { accepted202: true, omitBody: true }), { status: 202 });
  });

  it("maps each rejection to iHook's status codes with {error:true,message}", () => {
    assert.equal(rejected({ kind: 'invalid-json', detail: 'x' }).status, 400);
    assert.equal(rejected({ kind: 'not-object' }).status, 400);
    assert.equal(rejected({ kind: 'unknown-url' }).status, 401);
    assert.equal(rejected({ kind: 'too-large', limitBytes: 10 }).status, 413);
    assert.equal(rejected({ kind: 'server', detail: 'x' }).status, 500);
    const schema = rejected({ kind: 'schema', violations: [{ path: '/memberId', message: 'is required' }] });
    assert.equal(schema.status, 400);
    assert.equal(schema.body?.error, true);
    assert.equal(schema.body?.message, 'Payload failed schema validation: /memberId: is required');
  });

  it('answers 415 to a charset or Content-Encoding it cannot read, 400 to a body its encoding does not match', () => {
    const charset = rejected({ kind: 'charset', charset: 'LATIN9' });
    assert.equal(charset.status, 415);
    assert.match(String(charset.body?.message), /"LATIN9".*UTF-8/);
    const encoding = rejected({ kind: 'content-encoding', encoding: 'x-squeeze' });
    assert.equal(encoding.status, 415);
    assert.match(String(encoding.body?.message), /"x-squeeze"/);
    assert.equal(rejected({ kind: 'encoding-mismatch', encoding: 'gzip' }).status, 400);
    assert.equal(rejected({ kind: 'unreadable', reason: 'r' }).status, 400);
  });
});
