import assert from 'node:assert/strict';
import { RunTracker } from '../../src/runs/tracker.js';
import type { RunRecord } from '../../src/runs/tracker.js';

const trigger = { id: 'hook', type: 'imis-webhook-in' };
const node = (id: string) => ({ id, type: 'imis-insert-activity' });

describe('Run tracker', () => {
  it('ends a run when the last delivered message completes, not before', () => {
    const settled: RunRecord[] = [];
    const runs = new RunTracker({ onSettled: (r) => settled.push(r) });
    runs.start({ id: 'r1', flowId: 'f', trigger, input: {} });
    runs.delivered('r1', node('a'));
    runs.release('r1');
    runs.delivered('r1', node('b'));
    runs.completed('r1', 'a');
    assert.equal(settled.length, 0);
    runs.completed('r1', 'b');
    assert.equal(settled.length, 1);
    assert.equal(settled[0].status, 'ok');
    assert.deepEqual(
      settled[0].steps.map((s) => [s.id, s.outcome]),
      [
        ['a', 'ok'],
        ['b', 'ok'],
      ],
    );
  });

  it('marks the run failed with the first error and the failing step', () => {
    const settled: RunRecord[] = [];
    const runs = new RunTracker({ onSettled: (r) => settled.push(r) });
    runs.start({ id: 'r1', flowId: 'f', trigger, input: { x: 1 } });
    runs.delivered('r1', node('a'));
    runs.release('r1');
    runs.completed('r1', 'a', 'iMIS rejected POST /api/Activity: Party 99999 does not exist');
    const run = settled[0];
    assert.equal(run?.status, 'failed');
    assert.match(run?.error ?? '', /99999/);
    assert.equal(run?.steps[0].outcome, 'failed');
    assert.deepEqual(run?.input, { x: 1 });
  });

  it('ends at once a run whose trigger is wired to nothing', () => {
    const settled: RunRecord[] = [];
    const runs = new RunTracker({ onSettled: (r) => settled.push(r) });
    runs.start({ id: 'r1', flowId: 'f', trigger, input: {} });
    runs.release('r1');
    assert.equal(settled[0]?.status, 'ok');
    assert.equal(runs.isLive('r1'), false);
  });

  it('ignores a completion from a node that was not delivered to (e.g. a Catch node)', () => {
    const runs = new RunTracker();
    runs.start({ id: 'r1', flowId: 'f', trigger, input: {} });
    runs.delivered('r1', node('a'));
    runs.release('r1');
    runs.completed('r1', 'catch');
    assert.equal(runs.isLive('r1'), true);
  });

  it('lists only the runs still in flight, newest first, and forgets a run once settled', () => {
    let t = 0;
    const settled: string[] = [];
    const runs = new RunTracker({
      now: () => new Date(1_700_000_000_000 + t++ * 1000),
      onSettled: (r) => settled.push(r.id),
    });
    for (const id of ['a', 'b', 'c']) {
      runs.start({ id, flowId: 'f', trigger, input: {} });
      runs.delivered(id, node('slow'));
      runs.release(id);
    }
    runs.completed('a', 'slow');
    assert.deepEqual(
      runs.list('f').map((r) => r.id),
      ['c', 'b'],
    );
    assert.deepEqual(settled, ['a']);
    assert.equal(runs.get('a'), undefined);
  });

  it('settles as "unfinished" a run whose message a node holds with no progress for unfinishedAfterMs', () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const settled: RunRecord[] = [];
    const runs = new RunTracker({
      unfinishedAfterMs: 60_000,
      now: () => new Date(t),
      onSettled: (r) => settled.push(r),
    });
    runs.start({ id: 'r1', flowId: 'f', trigger, input: {} });
    runs.delivered('r1', node('held'));
    runs.release('r1');
    t += 30_000;
    runs.sweep();
    assert.equal(settled.length, 0);
    t += 31_000;
    runs.sweep();
    assert.equal(settled.length, 1);
    assert.equal(settled[0].status, 'unfinished');
  });

  it('keeps a long run that still makes progress, and ends it unfinished once it stops', () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const settled: RunRecord[] = [];
    const runs = new RunTracker({
      unfinishedAfterMs: 60_000,
      now: () => new Date(t),
      onSettled: (r) => settled.push(r),
    });
    runs.start({ id: 'r1', flowId: 'f', trigger, input: {} });
    runs.delivered('r1', node('a'));
    runs.release('r1');
    for (let i = 0; i < 5; i++) {
      t += 50_000;
      runs.delivered('r1', node('b'));
      runs.completed('r1', 'b');
      runs.sweep();
    }
    assert.equal(settled.length, 0, 'a run that progresses every 50 s stays running past 4 minutes');
    t += 61_000;
    runs.sweep();
    assert.equal(settled[0]?.status, 'unfinished');
  });

  it('merges the messages a node handles together into one step with a count', () => {
    const settled: RunRecord[] = [];
    const runs = new RunTracker({ onSettled: (r) => settled.push(r) });
    runs.start({ id: 'r1', flowId: 'f', trigger, input: {} });
    runs.delivered('r1', node('split'));
    runs.release('r1');
    for (let i = 0; i < 1000; i++) runs.delivered('r1', node('change'));
    runs.completed('r1', 'split');
    for (let i = 0; i < 1000; i++) {
      runs.delivered('r1', node('join'));
      runs.completed('r1', 'change');
    }
    for (let i = 0; i < 999; i++) runs.completed('r1', 'join');
    assert.deepEqual(
      runs.get('r1')?.holding?.map((h) => h.id),
      ['join'],
      'the join holds the last part',
    );
    runs.delivered('r1', node('insert'));
    runs.completed('r1', 'join');
    runs.completed('r1', 'insert');
    assert.deepEqual(
      settled[0].steps.map((s) => [s.id, s.count ?? 1, s.outcome]),
      [
        ['split', 1, 'ok'],
        ['change', 1000, 'ok'],
        ['join', 1000, 'ok'],
        ['insert', 1, 'ok'],
      ],
    );
    assert.equal(settled[0].holding, undefined, 'a finished run names no holder');
  });

  it('starts a new step when a node is reached again after its step ended and other nodes ran', () => {
    const settled: RunRecord[] = [];
    const runs = new RunTracker({ onSettled: (r) => settled.push(r) });
    runs.start({ id: 'r1', flowId: 'f', trigger, input: {} });
    for (const id of ['a', 'b', 'a']) {
      runs.delivered('r1', node(id));
      runs.completed('r1', id);
    }
    runs.release('r1');
    assert.deepEqual(
      settled[0].steps.map((s) => s.id),
      ['a', 'b', 'a'],
    );
  });

  it('keeps at most maxSteps steps and counts the others, still ending the run when they complete', () => {
    const settled: RunRecord[] = [];
    const runs = new RunTracker({ maxSteps: 3, onSettled: (r) => settled.push(r) });
    runs.start({ id: 'r1', flowId: 'f', trigger, input: {} });
    for (let i = 0; i < 5; i++) runs.delivered('r1', node(`n${i}`));
    runs.release('r1');
    for (let i = 0; i < 5; i++) runs.completed('r1', `n${i}`);
    assert.equal(settled[0]?.steps.length, 3);
    assert.equal(settled[0]?.stepsOmitted, 2);
    assert.equal(settled[0]?.status, 'ok');
  });

  it('takes the business key and values a message carries, the latest winning, within the limits', () => {
    const settled: RunRecord[] = [];
    const runs = new RunTracker({ onSettled: (r) => settled.push(r) });
    runs.start({
      id: 'r1',
      flowId: 'f',
      trigger,
      input: {},
      businessKey: ' M-1 ',
      values: { eventCode: 'CONF' },
    });
    runs.label('r1', { businessKey: 'SO-1001', values: { orderId: 1001, ok: true, skipped: { a: 1 } } });
    runs.keyIfNone('r1', 'instance-key');
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`v${i}`, 'x'.repeat(2000)]));
    runs.label('r1', { values: many });
    runs.release('r1');
    const run = settled[0];
    assert.equal(run.businessKey, 'SO-1001');
    assert.equal(run.values?.eventCode, 'CONF');
    assert.equal(run.values?.orderId, '1001');
    assert.equal(run.values?.ok, 'true');
    assert.equal(run.values?.skipped, undefined);
    assert.equal(Object.keys(run.values ?? {}).length, 25);
    assert.equal(run.values?.v0.length, 1000);
  });

  it('gives a run without a key the instance key, and leaves a key it has', () => {
    const settled: RunRecord[] = [];
    const runs = new RunTracker({ onSettled: (r) => settled.push(r) });
    runs.start({ id: 'r1', flowId: 'f', trigger, input: {} });
    runs.keyIfNone('r1', 'SO-1');
    runs.keyIfNone('r1', 'SO-2');
    runs.release('r1');
    assert.equal(settled[0].businessKey, 'SO-1');
  });

  it('keeps a failed run "running" while its Catch branch is still in flight, then ends it failed', () => {
    const settled: RunRecord[] = [];
    const runs = new RunTracker({ onSettled: (r) => settled.push(r) });
    runs.start({ id: 'r1', flowId: 'f', trigger, input: {} });
    runs.delivered('r1', node('throws'));
    runs.release('r1');
    runs.failed('r1', 'throws', 'boom');
    runs.delivered('r1', node('catch'));
    runs.delivered('r1', node('handle'));
    runs.completed('r1', 'throws');
    runs.completed('r1', 'catch');
    assert.equal(runs.get('r1')?.status, 'running', 'the branch after the Catch node is not done yet');
    runs.completed('r1', 'handle');
    assert.equal(settled[0]?.status, 'failed');
    assert.equal(settled[0]?.error, 'boom');
  });
});
