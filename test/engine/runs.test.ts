import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RunHistory, RunTracker } from '../../src/engine/runs.js';
import type { RunRecord } from '../../src/engine/runs.js';
import { freshDataDir } from '../support/red.js';

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
    const runs = new RunTracker();
    runs.start({ id: 'r1', flowId: 'f', trigger, input: { x: 1 } });
    runs.delivered('r1', node('a'));
    runs.release('r1');
    runs.completed('r1', 'a', 'iMIS rejected POST /api/Activity: Party 99999 does not exist');
    const run = runs.get('r1');
    assert.equal(run?.status, 'failed');
    assert.match(run?.error ?? '', /99999/);
    assert.equal(run?.steps[0].outcome, 'failed');
    assert.deepEqual(run?.input, { x: 1 });
  });

  it('ends at once a run whose trigger is wired to nothing', () => {
    const runs = new RunTracker();
    runs.start({ id: 'r1', flowId: 'f', trigger, input: {} });
    runs.release('r1');
    assert.equal(runs.get('r1')?.status, 'ok');
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

  it('keeps the newest runs per flow and lists newest first', () => {
    let t = 0;
    const runs = new RunTracker({ keepPerFlow: 2, now: () => new Date(1_700_000_000_000 + t++ * 1000) });
    for (const id of ['a', 'b', 'c']) {
      runs.start({ id, flowId: 'f', trigger, input: {} });
      runs.release(id);
    }
    assert.deepEqual(
      runs.list('f').map((r) => r.id),
      ['c', 'b'],
    );
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

  it('cuts the history file back to the newest runs once it has doubled', () => {
    const file = join(freshDataDir(), 'runs.jsonl');
    const history = new RunHistory(file, 3, 0);
    for (let i = 0; i < 7; i++) {
      history.append({
        id: `r${i}`,
        flowId: 'f',
        trigger,
        status: 'ok',
        startedAt: '',
        steps: [],
        input: {},
      });
      history.flush();
    }
    history.close();
    assert.deepEqual(
      new RunHistory(file, 3).load().map((r) => r.id),
      ['r4', 'r5', 'r6'],
    );
  });

  it('keeps settled runs across restarts through the run history', () => {
    const history = new RunHistory(join(freshDataDir(), 'runs.jsonl'));
    const runs = new RunTracker({ onSettled: (r) => history.append(r) });
    runs.start({ id: 'r1', flowId: 'f', trigger, input: { a: 1 } });
    runs.release('r1');
    history.close();
    const restarted = new RunTracker();
    restarted.restore(history.load());
    assert.equal(restarted.get('r1')?.status, 'ok');
  });
});
