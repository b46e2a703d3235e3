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

  it('settles as "unfinished" a run whose message a node never completes, after maxRunMs', () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const settled: RunRecord[] = [];
    const runs = new RunTracker({
      maxRunMs: 60_000,
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
});
