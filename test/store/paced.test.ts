import assert from 'node:assert/strict';
import sinon from 'sinon';
import { pacedBatches } from '../../src/store/index.js';

describe('Paced batches (pruning a backlog)', () => {
  it('pauses after each full batch twice as long as it took, and stops at the first short one', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'Date'] });
    try {
      const left = [200, 200, 37];
      let calls = 0;
      const batch = async () => {
        calls++;
        clock.tick(10); // each batch takes 10 ms
        return left.shift() ?? 0;
      };
      const done = pacedBatches(batch, 200);
      await clock.tickAsync(0);
      assert.equal(calls, 1);
      await clock.tickAsync(19);
      assert.equal(calls, 1, 'still pausing: 2 × 10 ms');
      await clock.tickAsync(1);
      assert.equal(calls, 2);
      await clock.tickAsync(20);
      assert.equal(calls, 3);
      assert.equal(await done, 437, 'every row counted');
      await clock.tickAsync(100);
      assert.equal(calls, 3, 'no batch after a short one');
    } finally {
      clock.restore();
    }
  });
});
