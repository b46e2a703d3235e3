import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sinon from 'sinon';
import type { SinonSpyCall } from 'sinon';
import type { ScheduledTrigger } from '../../src/core/cron-timer.js';
import type { NodeStatus } from 'node-red';
import { freshDataDir, helper, packageNodes, received, startHelper, stopHelper } from '../support/red.js';
import type { RunStartInfo } from '../support/red.js';

const START = new Date('2026-06-01T10:00:00.500Z');

describe('Cron trigger', function () {
  let clock: sinon.SinonFakeTimers;
  let dataDir: string;

  beforeEach(async () => {
    dataDir = freshDataDir();
    await startHelper(dataDir);
    clock = sinon.useFakeTimers({ now: START, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(async () => {
    clock.restore();
    await stopHelper();
  });

  const load = (config: Record<string, unknown>) =>
    helper.load(packageNodes(), [
      { id: 'tab', type: 'tab' },
      { id: 'cron', z: 'tab', type: 'imis-cron', name: 'nightly', ...config, wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ]);
  const collect = () => received<RunStartInfo & { payload: { trigger: ScheduledTrigger } }>('out');
  const flush = () => new Promise((r) => setImmediate(r));
  /** Lets the node read its stored state (asynchronous) before the test goes on. */
  const settle = async (done: () => boolean) => {
    for (let i = 0; i < 200 && !done(); i++) await flush();
  };
  const loaded = async (config: Record<string, unknown>) => {
    await load(config);
    await settle(() => helper.getNode('cron').status.called);
  };

  it("fires at each scheduled second with iWorkflow's trigger object", async () => {
    await loaded({ expression: '*/5 * * * * ? *', timeZone: 'UTC' });
    const got = collect();
    await clock.tickAsync(4500);
    await flush();
    assert.equal(got.length, 1);
    assert.deepEqual(Object.keys(got[0].payload.trigger), [
      'scheduledStartTimeUtc',
      'actualStartTimeUtc',
      'cronExpression',
    ]);
    assert.equal(got[0].payload.trigger.scheduledStartTimeUtc, '2026-06-01T10:00:05+00:00');
    assert.equal(got[0].payload.trigger.cronExpression, '*/5 * * * * ? *');
    assert.equal(got[0]._msgid, got[0].imis.runId);
    await clock.tickAsync(10000);
    await flush();
    assert.equal(got.length, 3);
  });

  it('honours Quartz day-of-week numbering (2-6 = Monday to Friday)', async () => {
    // 2026-06-06 is a Saturday: the next weekday 08:00 UTC is Monday 2026-06-08.
    clock.setSystemTime(new Date('2026-06-06T09:00:00Z'));
    await loaded({ expression: '0 0 8 ? * 2-6 *', timeZone: 'UTC' });
    const got = collect();
    await clock.tickAsync(47 * 3600 * 1000);
    await flush();
    assert.equal(got.length, 1);
    assert.equal(got[0].payload.trigger.scheduledStartTimeUtc, '2026-06-08T08:00:00+00:00');
  });

  it('shows the next run in its status', async () => {
    await loaded({ expression: '0 0 12 * * ? *', timeZone: 'UTC' });
    const statuses: NodeStatus[] = [];
    helper.getNode('cron').on('call:status', (c: SinonSpyCall) => statuses.push(c.args[0]));
    helper.getNode('cron').receive({ payload: 'enable' });
    await flush();
    assert.ok(statuses.some((s) => /^next: /.test(String(s.text)) && s.fill === 'green'));
  });

  it('stops on "disable", starts again on "enable", and runs at once on "trigger"', async () => {
    await loaded({ expression: '* * * * * ? *', timeZone: 'UTC' });
    const got = collect();
    helper.getNode('cron').receive({ payload: 'disable' });
    await flush();
    await clock.tickAsync(5000);
    await flush();
    assert.equal(got.length, 0);
    helper.getNode('cron').receive({ payload: 'trigger' });
    await flush();
    assert.equal(got.length, 1);
    helper.getNode('cron').receive({ payload: 'enable' });
    await flush();
    await clock.tickAsync(3000);
    await flush();
    assert.equal(got.length, 4);
  });

  it('keeps a paused state and a replaced expression across restarts', async () => {
    const flow = { expression: '0 0 * * * ? *', timeZone: 'UTC' };
    await loaded(flow);
    helper.getNode('cron').receive({ payload: { cron: '*/2 * * * * ? *' } });
    helper.getNode('cron').receive({ payload: 'disable' });
    await flush();
    await helper.unload();
    await loaded(flow);
    let got = collect();
    await clock.tickAsync(10000);
    await flush();
    assert.equal(got.length, 0, 'still disabled after the restart');
    helper.getNode('cron').receive({ payload: 'enable' });
    await flush();
    got = collect();
    await clock.tickAsync(4000);
    await flush();
    assert.equal(got.length, 2, 'the replaced every-2-seconds schedule survived');
  });

  it('rejects a bad replacement expression with a catchable error and keeps the old schedule', async () => {
    await loaded({ expression: '*/5 * * * * ? *', timeZone: 'UTC' });
    const errors: unknown[] = [];
    helper.getNode('cron').on('call:error', (c: SinonSpyCall) => errors.push(c.args[0]));
    helper.getNode('cron').receive({ payload: { cron: '61 * * * * ?' } });
    await flush();
    assert.ok(errors.length >= 1);
    const got = collect();
    await clock.tickAsync(5000);
    await flush();
    assert.equal(got.length, 1);
  });

  it('runs once at start-up for a run missed while stopped, when asked to (state kept by version 0.1)', async () => {
    mkdirSync(join(dataDir, 'cron'), { recursive: true });
    writeFileSync(
      join(dataDir, 'cron', 'cron.json'),
      JSON.stringify({ lastScheduled: '2026-05-31T08:00:00.000Z', configured: '0 0 8 * * ? *|UTC' }),
    );
    await load({ expression: '0 0 8 * * ? *', timeZone: 'UTC', runMissed: true });
    const got = collect();
    await settle(() => got.length > 0);
    await flush();
    assert.equal(got.length, 1);
    assert.equal(got[0].payload.trigger.scheduledStartTimeUtc, '2026-06-01T08:00:00+00:00');
  });

  describe('across daylight-saving transitions (fake clock)', () => {
    const HOUR = 3600 * 1000;
    const firings = async (expression: string, timeZone: string, from: string, hours: number) => {
      clock.setSystemTime(new Date(from));
      await loaded({ expression, timeZone });
      const got = collect();
      await clock.tickAsync(hours * HOUR);
      await flush();
      return got.map((m) => m.payload.trigger.scheduledStartTimeUtc as string);
    };

    for (const [zone, fallBackDay] of [
      ['America/New_York', '2026-11-01T04:00:00Z'],
      ['Europe/Berlin', '2026-10-24T22:00:00Z'],
    ]) {
      it(`runs an hourly job 25 times, an hour apart, on the fall-back day in ${zone}`, async () => {
        const fired = await firings(
          '0 0 * * * ? *',
          zone,
          new Date(Date.parse(fallBackDay) - 1000).toISOString(),
          25,
        );
        assert.equal(fired.length, 25);
        const times = fired.map((t) => Date.parse(t));
        assert.ok(
          times.every((t, i) => i === 0 || t - times[i - 1] === HOUR),
          'one hour apart, none twice, none skipped',
        );
      });
    }

    it('runs a daily 02:30 job exactly once on the spring-forward day (America/New_York)', async () => {
      const fired = await firings('0 30 2 * * ? *', 'America/New_York', '2026-03-07T12:00:00Z', 48);
      const onTheDay = fired.filter((t) => t.startsWith('2026-03-08'));
      assert.equal(onTheDay.length, 1, fired.join(', '));
    });

    it('runs a daily 01:30 job exactly once on the fall-back day (America/New_York)', async () => {
      const fired = await firings('0 30 1 * * ? *', 'America/New_York', '2026-10-31T12:00:00Z', 48);
      assert.equal(fired.filter((t) => t.startsWith('2026-11-01')).length, 1, fired.join(', '));
    });
  });

  it('flags an invalid expression in its status instead of running', async () => {
    await loaded({ expression: '0 0 0 ? * 9 *', timeZone: 'UTC' });
    const node = helper.getNode('cron');
    assert.ok(node.status.calledWithMatch({ fill: 'red', text: 'invalid expression' }));
    const got = collect();
    await clock.tickAsync(7 * 24 * 3600 * 1000);
    await flush();
    assert.equal(got.length, 0);
  });
});

/** What POST /imis/cron/describe answers to a valid schedule (imis-cron.ts). */
interface Described {
  valid: true;
  description: string;
  timeZone: string;
  next: string[];
}

/** What it answers to an invalid one: which input is wrong, and why. */
interface NotDescribed {
  valid: false;
  field: 'timeZone' | 'expression';
  error: string;
}

describe('Cron trigger: the editor helpers (description, next runs, validation)', function () {
  beforeEach(async () => {
    await startHelper(freshDataDir());
    await helper.load(packageNodes(), [{ id: 'tab', type: 'tab' }]);
  });
  afterEach(stopHelper);

  /** POST /imis/cron/describe (imis-cron.ts): its answer, read as a description unless told. */
  const describeExpression = async <T = Described>(expression: string, timeZone = 'UTC') =>
    (await helper.request().post<T>('/imis/cron/describe').send({ expression, timeZone }).expect(200)).body;

  it('describes an expression in plain English, with its next five runs', async () => {
    const got = await describeExpression('0 0 8 ? * MON-FRI *');
    assert.equal(got.valid, true);
    assert.equal(got.description, 'At 08:00, Monday through Friday');
    assert.equal(got.next.length, 5);
    assert.ok(
      got.next.every((t) => t.endsWith('T08:00:00.000Z')),
      got.next.join(),
    );
  });

  it('keeps our wording for a Unix day-of-month or day-of-week and for a one-time date', async () => {
    assert.equal(
      (await describeExpression('0 8 1 * 1')).description,
      'At 08:00, on day 1 of the month or on Monday',
    );
    assert.equal((await describeExpression('0 30 9 27 5 ? 2036')).description, 'At 09:30, on May 27, 2036');
  });

  it("accepts and words Quartz.NET's overnight, wrap-around and last-weekday forms", async () => {
    const overnight = await describeExpression('0 0 22-2 * * ?');
    assert.equal(overnight.valid, true);
    assert.equal(overnight.description, 'Every hour, between 22:00 and 02:00');
    assert.equal(
      (await describeExpression('0 0 8 ? * FRI-TUE')).description,
      'At 08:00, Friday through Tuesday',
    );
    assert.equal(
      (await describeExpression('0 0 8 1,15,L * ?')).description,
      'At 08:00, on day 1, day 15 and the last day of the month',
    );
    assert.equal(
      (await describeExpression('0 0 8 ? * FRI/2')).description,
      'At 08:00, only on Friday, every 2 weeks',
    );
  });

  it('says what is wrong with an invalid expression', async () => {
    const got = await describeExpression<NotDescribed>('0 0 0 ? * 9 *');
    assert.equal(got.valid, false);
    assert.match(got.error, /day-of-week value 9 is out of range/);
  });

  const describeCron = async <T = Described>(body: Record<string, unknown>) =>
    (await helper.request().post<T>('/imis/cron/describe').send(body).expect(200)).body;

  it('lists the next runs with the zone they are shown in', async () => {
    const r = await describeCron({ expression: '0 0 9 * * ? *', timeZone: 'America/Chicago' });
    assert.equal(r.valid, true);
    assert.equal(r.timeZone, 'America/Chicago');
    assert.equal(r.next.length, 5);
    for (const t of r.next) {
      const local = new Date(t).toLocaleTimeString('en-GB', { timeZone: 'America/Chicago', hour12: false });
      assert.equal(local, '09:00:00', `${t} is 09:00 in Chicago`);
    }
  });

  it("names this server's zone when the node has none", async () => {
    const r = await describeCron({ expression: '0 0 9 * * ? *', timeZone: '' });
    assert.equal(r.timeZone, Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('blames the zone, not the expression, for an unknown time zone', async () => {
    const r = await describeCron<NotDescribed>({ expression: '0 0 9 * * ? *', timeZone: 'Mars/Olympus' });
    assert.deepEqual({ valid: r.valid, field: r.field }, { valid: false, field: 'timeZone' });
    assert.match(r.error, /Unknown time zone 'Mars\/Olympus'/);
  });

  it('blames the expression for an invalid expression', async () => {
    const r = await describeCron<NotDescribed>({ expression: '0 0 25 * * ? *', timeZone: 'UTC' });
    assert.deepEqual({ valid: r.valid, field: r.field }, { valid: false, field: 'expression' });
  });
});
