import assert from 'node:assert/strict';
import { MAX_REASON_LENGTH, RefusedCalls } from '../../src/runs/refused.js';
import type { RefusedCall } from '../../src/runs/refused.js';

const call = (trigger: string, second: number, flowId = 'f1'): RefusedCall => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString(),
  trigger: { id: trigger, type: 'imis-webhook-in' },
  flowId,
  status: 401,
  reason: `refusal ${second}`,
  address: '127.0.0.1',
});

describe('Refused calls kept for the runs dashboard', () => {
  it('lists the refusals of every endpoint newest first, filtered by endpoint, flow and count', () => {
    const log = new RefusedCalls();
    log.add(call('a', 1));
    log.add(call('b', 2, 'f2'));
    log.add(call('a', 3));
    assert.deepEqual(
      log.list().map((c) => c.reason),
      ['refusal 3', 'refusal 2', 'refusal 1'],
    );
    assert.deepEqual(
      log.list({ triggerId: 'a' }).map((c) => c.reason),
      ['refusal 3', 'refusal 1'],
    );
    assert.deepEqual(
      log.list({ flowId: 'f2' }).map((c) => c.reason),
      ['refusal 2'],
    );
    assert.equal(log.list({ limit: 2 }).length, 2);
  });

  it("lists an endpoint's refusals of the same millisecond newest first too", () => {
    const log = new RefusedCalls();
    log.add({ ...call('a', 1), reason: 'first' });
    log.add({ ...call('a', 1), reason: 'second' });
    log.add({ ...call('a', 1), reason: 'third' });
    assert.deepEqual(
      log.list().map((c) => c.reason),
      ['third', 'second', 'first'],
    );
  });

  it('keeps the last N per endpoint, so a flood at one endpoint does not push out the others', () => {
    const log = new RefusedCalls(3);
    log.add(call('quiet', 0));
    for (let s = 1; s <= 10; s++) log.add(call('busy', s));
    assert.deepEqual(
      log.list({ triggerId: 'busy' }).map((c) => c.reason),
      ['refusal 10', 'refusal 9', 'refusal 8'],
    );
    assert.equal(log.list({ triggerId: 'quiet' }).length, 1);
  });

  it('forgets an endpoint', () => {
    const log = new RefusedCalls();
    log.add(call('a', 1));
    log.forget('a');
    assert.deepEqual(log.list(), []);
  });

  it('keeps few calls to unknown URLs per endpoint type, apart from the endpoints, and counts them all', () => {
    const log = new RefusedCalls(3, 2);
    log.add(call('a', 0));
    for (let s = 1; s <= 50; s++)
      log.add({ ...call('x', s), trigger: { type: 'imis-webhook-in' }, flowId: undefined });
    log.add({ ...call('x', 51), trigger: { type: 'imis-change-in' }, flowId: undefined });
    assert.deepEqual(
      log.list().map((c) => c.reason),
      ['refusal 51', 'refusal 50', 'refusal 49', 'refusal 0'],
    );
    assert.equal(log.count(), 52);
    assert.equal(log.count({ flowId: 'f1' }), 1);
    assert.equal(log.count({ triggerId: 'a' }), 1);
  });

  it('cuts a long reason', () => {
    const log = new RefusedCalls();
    log.add({ ...call('a', 1), reason: 'x'.repeat(5000) });
    const [kept] = log.list();
    assert.equal(kept.reason.length, MAX_REASON_LENGTH);
    assert.ok(kept.reason.endsWith('…'));
  });
});
