import assert from 'node:assert/strict';
import sinon from 'sinon';
import { CronExpressionError } from '../../src/core/cron.js';
import { CronTimer, cronCommand } from '../../src/core/cron-timer.js';
import type { CronState, CronTimerOptions, CronView, ScheduledTrigger } from '../../src/core/cron-timer.js';

/** The Cron trigger's timer alone: a fake clock, a state port in memory, no Node-RED. */
describe('Cron timer (fake clock)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({
      now: new Date('2026-06-01T10:00:00.500Z'),
      toFake: ['setTimeout', 'clearTimeout', 'Date'],
    });
  });
  afterEach(() => clock.restore());

  const flush = () => new Promise((resolve) => setImmediate(resolve));

  /** A timer with its events recorded, and its state kept in `saved`. */
  function timer(options: Partial<CronTimerOptions> & { stored?: CronState } = {}) {
    const fired: ScheduledTrigger[] = [];
    const views: CronView[] = [];
    const invalid: CronExpressionError[] = [];
    const missed: Date[] = [];
    const saved: CronState[] = [];
    const t = new CronTimer({
      expression: '*/5 * * * * ? *',
      timeZone: 'UTC',
      enabled: true,
      misfire: 'skip',
      state: {
        load: async () => options.stored,
        save: async (state) => {
          saved.push(structuredClone(state));
        },
      },
      fire: (trigger) => fired.push(trigger),
      changed: (view) => views.push(view),
      invalid: (err) => invalid.push(err),
      missed: (at) => missed.push(at),
      stateFailed: (err) => assert.fail(err),
      ...options,
    });
    return { t, fired, views, invalid, missed, saved };
  }

  it("fires at each scheduled time with iWorkflow's trigger object, the next computed from the last", async () => {
    const { t, fired, views } = timer();
    await t.ready;
    assert.deepEqual(views.at(-1), { state: 'waiting', next: new Date('2026-06-01T10:00:05Z') });
    await clock.tickAsync(4500);
    assert.deepEqual(fired, [
      {
        scheduledStartTimeUtc: '2026-06-01T10:00:05+00:00',
        actualStartTimeUtc: '2026-06-01T10:00:05+00:00',
        cronExpression: '*/5 * * * * ? *',
      },
    ]);
    await clock.tickAsync(10_000);
    assert.equal(fired.length, 3);
    assert.deepEqual(views.at(-1), { state: 'waiting', next: new Date('2026-06-01T10:00:20Z') });
    t.close();
    await clock.tickAsync(60_000);
    assert.equal(fired.length, 3, 'nothing after close');
  });

  it('waits in steps for a run further away than setTimeout can wait (about 24.8 days)', async () => {
    const { t, fired } = timer({ expression: '0 0 0 1 1 ? 2027' });
    await t.ready;
    await clock.tickAsync(Date.parse('2027-01-01T00:00:00Z') - Date.now() - 1000);
    assert.equal(fired.length, 0);
    await clock.tickAsync(1000);
    assert.equal(fired[0]?.scheduledStartTimeUtc, '2027-01-01T00:00:00+00:00');
  });

  it('pauses, resumes, runs now, and replaces its schedule, saving each change', async () => {
    const { t, fired, views, saved } = timer();
    await t.ready;
    t.apply({ kind: 'disable' });
    assert.deepEqual(views.at(-1), { state: 'disabled' });
    await clock.tickAsync(20_000);
    assert.equal(fired.length, 0);
    t.apply({ kind: 'trigger' });
    assert.equal(fired.length, 1, 'a run now, even when paused');
    t.apply({ kind: 'replace', expression: '*/2 * * * * ? *' });
    t.apply({ kind: 'enable' });
    await clock.tickAsync(4000);
    assert.equal(fired.length, 3);
    assert.deepEqual(
      { enabled: saved.at(-1)?.enabled, expression: saved.at(-1)?.expression },
      { enabled: true, expression: '*/2 * * * * ? *' },
    );
  });

  it('keeps the old schedule when a replacement does not parse', async () => {
    const { t, fired } = timer();
    await t.ready;
    assert.throws(() => t.apply({ kind: 'replace', expression: '61 * * * * ?' }), CronExpressionError);
    await clock.tickAsync(5000);
    assert.equal(fired.length, 1);
  });

  it('resumes a stored state made against the same configured schedule, and drops it for another', async () => {
    const stored: CronState = {
      enabled: false,
      expression: '*/2 * * * * ? *',
      timeZone: 'UTC',
      configured: '*/5 * * * * ? *|UTC',
    };
    const same = timer({ stored });
    await same.t.ready;
    assert.deepEqual(same.views.at(-1), { state: 'disabled' });
    same.t.close();
    const redeployed = timer({ stored, expression: '*/10 * * * * ? *' });
    await redeployed.t.ready;
    assert.deepEqual(redeployed.views.at(-1), { state: 'waiting', next: new Date('2026-06-01T10:00:10Z') });
  });

  it('runs once for the run missed while stopped, when asked to', async () => {
    const stored: CronState = { lastScheduled: '2026-05-31T08:00:00.000Z', configured: '0 0 8 * * ? *|UTC' };
    const { t, fired, missed } = timer({ expression: '0 0 8 * * ? *', misfire: 'once', stored });
    await t.ready;
    await flush();
    assert.deepEqual(missed, [new Date('2026-06-01T08:00:00Z')]);
    assert.equal(fired[0]?.scheduledStartTimeUtc, '2026-06-01T08:00:00+00:00');
    const quiet = timer({ expression: '0 0 8 * * ? *', stored });
    await quiet.t.ready;
    await flush();
    assert.equal(quiet.fired.length, 0, 'not when skipped');
  });

  it('stays idle and says so for an expression that does not parse', async () => {
    const { t, views, invalid, fired } = timer({ expression: '0 0 0 ? * 9 *' });
    await t.ready;
    assert.equal(invalid.length, 1);
    assert.deepEqual(views.at(-1), { state: 'invalid' });
    await clock.tickAsync(7 * 24 * 3600 * 1000);
    assert.equal(fired.length, 0);
  });

  it('reads control messages: enable, disable, trigger or run, and { cron, timeZone }', () => {
    assert.deepEqual(cronCommand('enable'), { kind: 'enable' });
    assert.deepEqual(cronCommand('disable'), { kind: 'disable' });
    assert.deepEqual(cronCommand('run'), { kind: 'trigger' });
    assert.deepEqual(cronCommand({ cron: '0 0 * * * ?', timeZone: 'Asia/Tokyo' }), {
      kind: 'replace',
      expression: '0 0 * * * ?',
      timeZone: 'Asia/Tokyo',
    });
    assert.equal(cronCommand('start'), undefined);
    assert.equal(cronCommand({ cron: 5 }), undefined);
  });
});
