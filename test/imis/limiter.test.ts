import assert from 'node:assert/strict';
import { Limiter } from '../../src/imis/limiter.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Limiter', function () {
  it('runs at most max tasks at once and starts the others in arrival order', async function () {
    const limiter = new Limiter(2);
    const started: number[] = [];
    const release: (() => void)[] = [];
    const tasks = [0, 1, 2, 3, 4].map((n) =>
      limiter.run(async () => {
        started.push(n);
        await new Promise<void>((resolve) => (release[n] = resolve));
        return n;
      }),
    );
    await tick();
    assert.deepEqual(started, [0, 1]);
    assert.equal(limiter.active, 2);
    assert.equal(limiter.waiting, 3);
    release[1]();
    await tick();
    assert.deepEqual(started, [0, 1, 2]);
    release[0]();
    release[2]();
    await tick();
    assert.deepEqual(started, [0, 1, 2, 3, 4]);
    release[3]();
    release[4]();
    assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4]);
    assert.equal(limiter.active, 0);
  });

  it('frees the slot of a task that fails', async function () {
    const limiter = new Limiter(1);
    await assert.rejects(
      limiter.run(() => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(limiter.active, 0);
    assert.equal(await limiter.run(async () => 'next'), 'next');
  });

  it('refuses fewer than one slot', function () {
    assert.throws(() => new Limiter(0), RangeError);
  });
});
