import assert from 'node:assert/strict';
import { queued, rejected, rejectionRecord } from '../../src/core/ihook.js';

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

  it('keeps of a rejection its status and reason without the excerpt of the body JSON.parse quotes', () => {
    let detail = '';
    try {
      JSON.parse('{"memberId": secret-value}');
    } catch (err) {
      detail = (err as Error).message;
    }
    assert.match(String(rejected({ kind: 'invalid-json', detail }).body?.message), /secret-val/);
    assert.deepEqual(rejectionRecord({ kind: 'invalid-json', detail }), {
      status: 400,
      reason: "Invalid JSON body: Unexpected token 's'",
    });
    assert.deepEqual(rejectionRecord({ kind: 'invalid-json', detail: 'Unexpected end of JSON input' }), {
      status: 400,
      reason: 'Invalid JSON body: Unexpected end of JSON input',
    });
    assert.deepEqual(rejectionRecord({ kind: 'bad-events', detail: 'Event 0 has no id' }), {
      status: 400,
      reason: 'Event 0 has no id',
    });
  });
});
