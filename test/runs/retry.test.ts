import assert from 'node:assert/strict';
import { RetryScheduler } from '../../src/runs/retry.js';
import type { RetryPolicy, RetrySchedulerOptions, RetryStorage } from '../../src/runs/retry.js';
import type { RunRecord } from '../../src/runs/tracker.js';
import { waitFor } from '../support/wait.js';

/** Planned retries as the store keeps them (the contract test holds both engines to this). */
function memoryStorage(): RetryStorage & { records: Map<string, RunRecord>; planned: Map<string, number> } {
  const records = new Map<string, RunRecord>();
  const planned = new Map<string, number>();
  return {
    records,
    planned,
    retries: {
      async due(now, limit) {
        return [...planned]
          .filter(([, at]) => at <= now.getTime())
          .sort((a, b) => a[1] - b[1])
          .slice(0, limit)
          .map(([id]) => id);
      },
      async claim(id) {
        return planned.delete(id);
      },
    },
    runs: {
      async get(id) {
        return records.get(id);
      },
    },
  };
}

const failed = (id: string, over: Partial<RunRecord> = {}): RunRecord => ({
  id,
  flowId: 'f',
  trigger: { id: 'hook', type: 'imis-webhook-in' },
  status: 'failed',
  startedAt: new Date(0).toISOString(),
  steps: [],
  input: { memberId: '101' },
  transientError: true,
  ...over,
});

describe('Automatic retries kept in the store (RetryScheduler)', () => {
  const policy: RetryPolicy = { attempts: 2, delaySec: 10 };
  let now: number;
  let made: { id: string; retry: number; input: unknown }[];
  let warnings: string[];
  const scheduler = (storage: RetryStorage, over: Partial<RetrySchedulerOptions> = {}) =>
    new RetryScheduler({
      storage,
      policyOf: () => policy,
      unsafe: (step) => step.type === 'imis-insert-activity',
      rerun: async (run, retry) => {
        made.push({ id: run.id, retry, input: run.input });
        return true;
      },
      warn: (reason, id) => warnings.push(`${reason} ${id}`),
      now: () => now,
      ...over,
    });

  beforeEach(() => {
    now = Date.parse('2026-11-29T10:00:00Z');
    made = [];
    warnings = [];
  });

  it('plans a retry with backoff only for a transient failure with retries left and no unsafe step', () => {
    const s = scheduler(memoryStorage());
    const run = failed('a');
    assert.equal(s.plan(run), true);
    assert.equal(run.retryAt, new Date(now + 10_000).toISOString());
    const second = failed('b', { retry: 1 });
    s.plan(second);
    assert.equal(second.retryAt, new Date(now + 20_000).toISOString(), 'twice as long');
    for (const no of [
      failed('c', { retry: 2 }),
      failed('d', { transientError: false }),
      failed('e', { status: 'ok' }),
      failed('f', { steps: [{ id: 'i', type: 'imis-insert-activity', startedAt: '', outcome: 'failed' }] }),
    ]) {
      assert.equal(s.plan(no), false, no.id);
      assert.equal(no.retryAt, undefined);
    }
    assert.equal(scheduler(memoryStorage(), { policyOf: () => undefined }).plan(failed('g')), false);
  });

  it('after a restart, the sweep makes the retries that came due, once, with the stored input', async () => {
    const storage = memoryStorage();
    const run = failed('a');
    scheduler(storage).plan(run);
    storage.records.set(run.id, run);
    storage.planned.set(run.id, Date.parse(run.retryAt as string));
    // The process that planned it is gone; a new one starts.
    const restarted = scheduler(storage);
    assert.equal(await restarted.sweep(), 0, 'not due yet');
    now += 10_000;
    assert.equal(await restarted.sweep(), 1);
    assert.deepEqual(made, [{ id: 'a', retry: 1, input: { memberId: '101' } }]);
    assert.equal(await restarted.sweep(), 0, 'made once');
    assert.equal(await scheduler(storage).sweep(), 0, 'not by another process either');
  });

  it('the timer of the process that planned it makes the retry with the input in memory, and a sweep leaves it', async () => {
    const storage = memoryStorage();
    // A real clock and a 20 ms delay: the timer fires soon.
    const s = scheduler(storage, { policyOf: () => ({ attempts: 1, delaySec: 0.02 }), now: Date.now });
    const run = failed('a');
    s.plan(run);
    storage.records.set(run.id, { ...run, input: undefined, inputNotStored: true });
    storage.planned.set(run.id, Date.parse(run.retryAt as string) - 1_000); // due for a sweep already
    s.schedule(run);
    assert.equal(await s.sweep(), 0, 'its own timer holds it');
    assert.deepEqual(made, []);
    await waitFor(() => made.length > 0, 2000, 'the retry made by the timer');
    assert.deepEqual(made, [{ id: 'a', retry: 1, input: { memberId: '101' } }]);
    assert.equal(storage.planned.size, 0, 'claimed');
    s.close();
  });

  it('does not make a retry whose input was not kept, or whose trigger is gone, and says why', async () => {
    const storage = memoryStorage();
    for (const run of [failed('secret', { input: undefined, inputNotStored: true }), failed('gone')]) {
      storage.records.set(run.id, run);
      storage.planned.set(run.id, now);
    }
    const s = scheduler(storage, {
      rerun: async (run, retry) => {
        if (run.id === 'gone') return false;
        made.push({ id: run.id, retry, input: run.input });
        return true;
      },
    });
    assert.equal(await s.sweep(), 0);
    assert.deepEqual(made, []);
    assert.deepEqual(warnings.sort(), ['input-not-kept secret', 'trigger-gone gone']);
    assert.equal(storage.planned.size, 0, 'taken off the list, not tried again forever');
  });
});
