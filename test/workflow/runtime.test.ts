import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sinon from 'sinon';
import { SqliteStore } from '../../src/store/sqlite.js';
import {
  ConditionError,
  KeyError,
  WorkflowDefinitionError,
  WorkflowError,
  WorkflowRuntime,
  exportWorkflow,
  importWorkflow,
  keyResolver,
  layoutWorkflow,
} from '../../src/workflow/index.js';
import type { WorkflowEvent } from '../../src/workflow/index.js';
import { waitFor } from '../support/wait.js';
import { HOUR, orderLifecycle } from './fixtures.js';

const T0 = Date.parse('2026-03-02T09:00:00Z');

/** A runtime on a fresh SQLite file with a clock the test moves. */
function setup(file = join(mkdtempSync(join(tmpdir(), 'imis-wf-')), 'imis.db')) {
  const clock = { now: T0 };
  const store = new SqliteStore({ file });
  const runtime = new WorkflowRuntime(store, { now: () => clock.now });
  const events: WorkflowEvent[] = [];
  runtime.on('change', (e: WorkflowEvent) => events.push(e));
  return { clock, store, runtime, events, file };
}

describe('Workflow runtime', () => {
  const open: { store: SqliteStore; runtime: WorkflowRuntime }[] = [];
  const make = (file?: string) => {
    const s = setup(file);
    open.push(s);
    return s;
  };
  afterEach(async () => {
    for (const { runtime, store } of open.splice(0)) {
      runtime.stop();
      await store.close();
    }
  });

  it('creates a new key in the initial state and fires the first matching transition of the trigger type', async () => {
    const { runtime, store, events } = make();
    runtime.register(orderLifecycle());
    const outcome = await runtime.fire('ORDER', { key: 'SO-1', trigger: 'webhook', msg: {} });
    assert.equal(outcome.fired, true);
    assert.equal(outcome.created, true);
    assert.equal(outcome.instance.state, 'SUBMITTED');
    assert.equal(outcome.instance.dueAt, T0 + 48 * HOUR);
    assert.deepEqual(
      events.map((e) => [e.kind, e.from, e.to, e.transition, e.trigger]),
      [
        ['created', undefined, 'NEW', undefined, 'webhook'],
        ['transition', 'NEW', 'SUBMITTED', 'SUBMIT', 'webhook'],
      ],
    );
    const stored = await store.workflows.getInstance('ORDER', 'SO-1');
    assert.equal(stored?.state, 'SUBMITTED');
    assert.equal(stored?.lastTransition, 'SUBMIT');
    assert.equal(stored?.lastTrigger, 'webhook');
    assert.deepEqual(
      (await store.workflows.instanceHistory('ORDER', 'SO-1')).map((h) => [
        h.kind,
        h.from,
        h.to,
        h.transition,
      ]),
      [
        ['created', undefined, 'NEW', undefined],
        ['transition', 'NEW', 'SUBMITTED', 'SUBMIT'],
      ],
    );
  });

  it('evaluates conditions over the message, in the order of the table, and skips disabled transitions', async () => {
    const def = orderLifecycle();
    def.transitions.splice(1, 0, {
      code: 'CONFIRM_OFF',
      from: 'SUBMITTED',
      to: 'CONFIRMED',
      trigger: 'poll',
      enabled: false,
    });
    const { runtime } = make();
    runtime.register(def);
    await runtime.fire('ORDER', { key: 'A', trigger: 'webhook' });
    await runtime.fire('ORDER', { key: 'B', trigger: 'webhook' });
    const pending = await runtime.fire('ORDER', {
      key: 'A',
      trigger: 'poll',
      msg: { payload: { status: 'Pending' } },
    });
    assert.deepEqual([pending.fired, !pending.fired && pending.reason], [false, 'no-transition']);
    const confirmed = await runtime.fire('ORDER', {
      key: 'A',
      trigger: 'poll',
      msg: { payload: { status: 'Confirmed' } },
    });
    assert.equal(confirmed.fired && confirmed.event.transition, 'CONFIRM');
    assert.equal(confirmed.fired && confirmed.final, true);
    const rejected = await runtime.fire('ORDER', {
      key: 'B',
      trigger: 'poll',
      msg: { payload: { status: 'Rejected' } },
    });
    assert.equal(rejected.fired && rejected.event.transition, 'REJECT');
    assert.equal(rejected.instance.state, 'FAILED');
  });

  it('fires a transition named by code only from its state, when enabled and its condition holds', async () => {
    const { runtime } = make();
    runtime.register(orderLifecycle());
    await runtime.fire('ORDER', { key: 'A', trigger: 'webhook' });
    const reason = async (transition: string, msg: unknown = {}) => {
      const o = await runtime.fire('ORDER', { key: 'A', transition, msg });
      return o.fired ? `fired ${o.event.transition}` : o.reason;
    };
    assert.equal(await reason('NOPE'), 'unknown-transition');
    assert.equal(await reason('RETRY'), 'wrong-state');
    assert.equal(await reason('CONFIRM', { payload: { status: 'Pending' } }), 'condition-false');
    assert.equal(await reason('EXPIRE'), 'fired EXPIRE');
    assert.equal(await reason('RETRY'), 'fired RETRY');
    const off = orderLifecycle();
    off.transitions[3].enabled = false;
    runtime.register(off);
    assert.equal(await reason('EXPIRE'), 'transition-disabled');
  });

  it('never moves an instance out of a final state', async () => {
    const { runtime } = make();
    runtime.register(orderLifecycle());
    await runtime.fire('ORDER', { key: 'A', trigger: 'webhook' });
    await runtime.fire('ORDER', {
      key: 'A',
      transition: 'CONFIRM',
      msg: { payload: { status: 'Confirmed' } },
    });
    const again = await runtime.fire('ORDER', { key: 'A', trigger: 'manual' });
    assert.deepEqual(
      [again.fired, !again.fired && again.reason, again.instance.state],
      [false, 'final', 'CONFIRMED'],
    );
    assert.equal(runtime.activeInstances('ORDER'), 0);
  });

  it('keeps a new key that matched nothing in the initial state, and says so', async () => {
    const { runtime, store } = make();
    runtime.register(orderLifecycle());
    const outcome = await runtime.fire('ORDER', { key: 'N', trigger: 'poll', msg: {} });
    assert.deepEqual([outcome.fired, outcome.created, outcome.instance.state], [false, true, 'NEW']);
    assert.equal((await store.workflows.getInstance('ORDER', 'N'))?.state, 'NEW');
    assert.equal(runtime.activeInstances('ORDER'), 1);
  });

  it('fails a condition that cannot be evaluated with an error naming the transition', async () => {
    const def = orderLifecycle();
    def.transitions[1].condition = '$number(payload.status) > 1';
    const { runtime } = make();
    runtime.register(def);
    await runtime.fire('ORDER', { key: 'A', trigger: 'webhook' });
    await assert.rejects(
      runtime.fire('ORDER', { key: 'A', trigger: 'poll', msg: { payload: { status: 'abc' } } }),
      (err: Error) =>
        err instanceof ConditionError && /condition of transition CONFIRM failed/.test(err.message),
    );
  });

  it('takes the key from a template, a message property, or the run', () => {
    const get = (msg: Record<string, unknown>, path: string) =>
      path.split('.').reduce<unknown>((v, p) => (v as Record<string, unknown> | undefined)?.[p], msg);
    const runId = (msg: Record<string, unknown>) => msg._msgid as string;
    const byTemplate = keyResolver(orderLifecycle(), get, runId);
    assert.equal(byTemplate({ payload: { orderId: 'SO-7' } }), 'SO-7');
    assert.throws(() => byTemplate({ payload: {} }), KeyError);
    const byProperty = keyResolver(orderLifecycle({ keyType: 'msg', key: 'payload.order.id' }), get, runId);
    assert.equal(byProperty({ payload: { order: { id: 42 } } }), '42');
    assert.throws(
      () => byProperty({ payload: {} }),
      /gives no key for workflow ORDER \(msg.payload.order.id/,
    );
    const perRun = keyResolver(orderLifecycle({ instanceMode: 'run', key: '' }), get, runId);
    assert.equal(perRun({ _msgid: 'run-1', payload: { orderId: 'ignored' } }), 'run-1');
  });

  it('fires a timeout once it falls due, as the on-timeout transition, and re-arms the next state', async () => {
    const { runtime, clock, events } = make();
    runtime.register(orderLifecycle());
    await runtime.synced('ORDER');
    await runtime.fire('ORDER', { key: 'A', trigger: 'webhook' });
    clock.now = T0 + 47 * HOUR;
    assert.equal(await runtime.fireDue(), false);
    assert.equal((await runtime.instance('ORDER', 'A'))?.state, 'SUBMITTED');
    clock.now = T0 + 48 * HOUR + 5;
    await runtime.fireDue();
    const moved = await runtime.instance('ORDER', 'A');
    assert.deepEqual(
      [moved?.state, moved?.lastTrigger, moved?.lastTransition, moved?.dueAt],
      ['FAILED', 'timeout', 'EXPIRE', undefined],
    );
    const fired = events.at(-1) as WorkflowEvent;
    assert.deepEqual([fired.trigger, fired.transition, fired.dueAt], ['timeout', 'EXPIRE', T0 + 48 * HOUR]);
    assert.equal(await runtime.fireDue(), false, 'fired once');
    assert.equal(events.filter((e) => e.trigger === 'timeout').length, 1);
  });

  it('runs one timer for all timeouts and fires each at its due time (fake clock)', async () => {
    const timers = sinon.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const store = new SqliteStore({ file: ':memory:' });
      const runtime = new WorkflowRuntime(store, { maxSleepMs: 24 * HOUR });
      open.push({ store, runtime });
      const fired: [string, number][] = [];
      runtime.on('change', (e: WorkflowEvent) => {
        if (e.trigger === 'timeout') fired.push([e.key, Date.now() - (e.dueAt as number)]);
      });
      const def = orderLifecycle();
      def.states[1].timeoutHours = 1;
      runtime.register(def);
      await runtime.synced('ORDER');
      runtime.start();
      await runtime.fire('ORDER', { key: 'first', trigger: 'webhook' });
      await timers.tickAsync(30 * 60 * 1000);
      await runtime.fire('ORDER', { key: 'second', trigger: 'webhook' });
      const setTimeoutSpy = sinon.spy(globalThis, 'setTimeout');
      await timers.tickAsync(30 * 60 * 1000);
      await new Promise((r) => setImmediate(r));
      await timers.tickAsync(1);
      assert.deepEqual(
        fired.map((f) => f[0]),
        ['first'],
      );
      await timers.tickAsync(30 * 60 * 1000);
      await new Promise((r) => setImmediate(r));
      await timers.tickAsync(1);
      assert.deepEqual(
        fired.map((f) => f[0]),
        ['first', 'second'],
      );
      assert.ok(
        fired.every(([, late]) => late <= 5),
        `fired on time: ${JSON.stringify(fired)}`,
      );
      assert.ok(
        setTimeoutSpy.callCount <= 4,
        `one timer re-armed, not one per instance (${setTimeoutSpy.callCount})`,
      );
      setTimeoutSpy.restore();
    } finally {
      timers.restore();
    }
  });

  it('fires the timeouts that fell due while stopped at the next start-up, once', async () => {
    const first = make();
    first.runtime.register(orderLifecycle());
    await first.runtime.fire('ORDER', { key: 'A', trigger: 'webhook' });
    await first.runtime.fire('ORDER', { key: 'B', trigger: 'webhook' });
    first.runtime.stop();
    await first.store.close();
    open.splice(0);

    const second = make(first.file);
    second.clock.now = T0 + 72 * HOUR;
    second.runtime.register(orderLifecycle());
    const done = new Promise<void>((resolve) => {
      second.runtime.on('change', () => {
        if (second.events.filter((e) => e.trigger === 'timeout').length === 2) resolve();
      });
    });
    second.runtime.start();
    await done;
    assert.deepEqual(second.events.map((e) => [e.key, e.to, e.trigger, e.at - (e.dueAt as number)]).sort(), [
      ['A', 'FAILED', 'timeout', 24 * HOUR],
      ['B', 'FAILED', 'timeout', 24 * HOUR],
    ]);
    assert.equal(await second.store.workflows.nextDueAt(['ORDER']), undefined);
  });

  it('does not create, move or time out anything while the workflow is disabled', async () => {
    const { runtime, clock, store } = make();
    runtime.register(orderLifecycle());
    await runtime.fire('ORDER', { key: 'A', trigger: 'webhook' });
    runtime.register(orderLifecycle({ enabled: false }));
    const fresh = await runtime.fire('ORDER', { key: 'B', trigger: 'webhook' });
    assert.deepEqual([fresh.fired, fresh.created, !fresh.fired && fresh.reason], [false, false, 'disabled']);
    assert.equal(await store.workflows.getInstance('ORDER', 'B'), undefined);
    const old = await runtime.fire('ORDER', { key: 'A', transition: 'EXPIRE' });
    assert.equal(!old.fired && old.reason, 'disabled');
    clock.now = T0 + 50 * HOUR;
    assert.equal(await runtime.fireDue(), false);
    assert.equal((await store.workflows.getInstance('ORDER', 'A'))?.state, 'SUBMITTED');
    runtime.register(orderLifecycle());
    await runtime.fireDue();
    assert.equal(
      (await store.workflows.getInstance('ORDER', 'A'))?.state,
      'FAILED',
      'fires once enabled again',
    );
  });

  it('keeps instances whose state left the definition, flagged, until reset to a state', async () => {
    const { runtime, store } = make();
    const flaggedReports: unknown[] = [];
    runtime.on('flagged', (code: string, counts: unknown) => flaggedReports.push([code, counts]));
    runtime.register(orderLifecycle());
    await runtime.fire('ORDER', { key: 'A', trigger: 'webhook' });
    await runtime.fire('ORDER', { key: 'B', trigger: 'webhook' });
    await runtime.fire('ORDER', { key: 'C', trigger: 'poll' }); // stays NEW

    const edited = orderLifecycle();
    edited.states[1] = { code: 'SENT', description: 'Renamed', timeoutHours: 48, onTimeout: 'EXPIRE' };
    for (const t of edited.transitions) {
      if (t.from === 'SUBMITTED') t.from = 'SENT';
      if (t.to === 'SUBMITTED') t.to = 'SENT';
    }
    runtime.register(edited);
    const report = await runtime.synced('ORDER');
    assert.deepEqual(report?.flagged, { SUBMITTED: 2 });
    assert.deepEqual(flaggedReports, [['ORDER', { SUBMITTED: 2 }]]);
    const a = await store.workflows.getInstance('ORDER', 'A');
    assert.deepEqual([a?.state, a?.flags], ['SUBMITTED', ['state-missing']]);
    const page = await store.workflows.listInstances({ workflow: 'ORDER', flagged: true });
    assert.deepEqual(
      page.instances.map((i) => i.key),
      ['A', 'B'],
    );
    assert.equal(runtime.activeInstances('ORDER'), 3, 'flagged instances still count');

    const stuck = await runtime.fire('ORDER', { key: 'A', trigger: 'poll', msg: {} });
    assert.equal(!stuck.fired && stuck.reason, 'state-missing');
    const reset = await runtime.reset('ORDER', 'A', 'SENT', 'admin');
    assert.deepEqual(
      [reset.kind, reset.from, reset.to, reset.actor],
      ['reset', 'SUBMITTED', 'SENT', 'admin'],
    );
    const after = await store.workflows.getInstance('ORDER', 'A');
    assert.deepEqual([after?.state, after?.flags, after?.dueAt], ['SENT', undefined, T0 + 48 * HOUR]);
    await assert.rejects(runtime.reset('ORDER', 'A', 'NOWHERE'), (e: Error) => e instanceof WorkflowError);

    // Put back, the state's instances are unflagged.
    runtime.register(orderLifecycle());
    assert.deepEqual((await runtime.synced('ORDER'))?.flagged, { SENT: 1 });
    assert.equal((await store.workflows.getInstance('ORDER', 'B'))?.flags, undefined);
  });

  it('moves due times when a state timeout is edited, and only then', async () => {
    const { runtime, store } = make();
    runtime.register(orderLifecycle());
    await runtime.fire('ORDER', { key: 'A', trigger: 'webhook' });
    const shorter = orderLifecycle();
    shorter.states[1].timeoutHours = 2.5;
    runtime.register(shorter);
    assert.deepEqual((await runtime.synced('ORDER'))?.retimed, ['SUBMITTED']);
    assert.equal((await store.workflows.getInstance('ORDER', 'A'))?.dueAt, T0 + 2.5 * HOUR);
    runtime.register(shorter);
    assert.deepEqual((await runtime.synced('ORDER'))?.retimed, []);
    const none = orderLifecycle();
    none.states[1].timeoutHours = null;
    none.states[1].onTimeout = '';
    runtime.register(none);
    await runtime.synced('ORDER');
    assert.equal((await store.workflows.getInstance('ORDER', 'A'))?.dueAt, undefined);
  });

  it('refuses a definition that breaks a rule, naming the culprit', () => {
    const { runtime } = make();
    const def = orderLifecycle();
    def.transitions[0].to = 'SUBMITED';
    assert.throws(
      () => runtime.register(def),
      (err: Error) =>
        err instanceof WorkflowDefinitionError &&
        /Transition SUBMIT goes to unknown state SUBMITED/.test(err.message),
    );
    assert.equal(runtime.get('ORDER'), undefined);
  });

  it('never loses a change when two processes move the same instance at once', async () => {
    const a = make();
    const b = make(a.file);
    a.runtime.register(orderLifecycle());
    b.runtime.register(orderLifecycle());
    await a.runtime.fire('ORDER', { key: 'X', trigger: 'webhook' });
    const results = await Promise.all([
      a.runtime.fire('ORDER', { key: 'X', transition: 'EXPIRE' }),
      b.runtime.fire('ORDER', { key: 'X', transition: 'EXPIRE' }),
    ]);
    assert.deepEqual(results.map((r) => r.fired).sort(), [false, true], 'exactly one fired');
    const lost = results.find((r) => !r.fired);
    assert.equal(lost && !lost.fired && lost.reason, 'wrong-state', 'the other saw the change');
    const history = await a.store.workflows.instanceHistory('ORDER', 'X');
    assert.deepEqual(
      history.map((h) => h.transition ?? h.kind),
      ['created', 'SUBMIT', 'EXPIRE'],
    );
  });

  it('prunes instances in a final state longer than the retention, with their history; active ones stay', async () => {
    const store = new SqliteStore({ file: ':memory:' });
    const clock = { now: T0 };
    const runtime = new WorkflowRuntime(store, { now: () => clock.now, keepFinalMs: 30 * 24 * HOUR });
    open.push({ store, runtime });
    runtime.register(orderLifecycle());
    await runtime.synced('ORDER');
    const confirm = { trigger: 'poll' as const, msg: { payload: { status: 'Confirmed' } } };
    await runtime.fire('ORDER', { key: 'DONE', trigger: 'webhook' });
    await runtime.fire('ORDER', { key: 'DONE', ...confirm });
    await runtime.fire('ORDER', { key: 'WAITING', trigger: 'webhook' });
    await runtime.reset('ORDER', 'WAITING', 'NEW');
    clock.now = T0 + 20 * 24 * HOUR;
    await runtime.fire('ORDER', { key: 'LATE', trigger: 'webhook' });
    await runtime.fire('ORDER', { key: 'LATE', ...confirm });
    assert.equal(await runtime.pruneFinal(), 0, 'nothing final for 30 days yet');

    clock.now = T0 + 31 * 24 * HOUR;
    assert.equal(await runtime.pruneFinal(), 1);
    assert.equal(await runtime.instance('ORDER', 'DONE'), undefined, 'the old final instance is gone');
    assert.deepEqual(await runtime.history('ORDER', 'DONE'), []);
    assert.equal((await runtime.instance('ORDER', 'WAITING'))?.state, 'NEW', 'an old active one stays');
    assert.equal((await runtime.instance('ORDER', 'LATE'))?.state, 'CONFIRMED', 'a recent final one stays');
    assert.deepEqual(runtime.instanceCounts('ORDER'), { NEW: 1, CONFIRMED: 1 });

    const created = await runtime.fire('ORDER', { key: 'DONE', trigger: 'webhook' });
    assert.equal(created.created, true, 'the key starts a new instance');
  });

  it('prunes at start and then periodically when given a retention, never without one', async () => {
    const keep = new WorkflowRuntime(new SqliteStore({ file: ':memory:' }));
    const store = new SqliteStore({ file: ':memory:' });
    const clock = { now: T0 };
    const runtime = new WorkflowRuntime(store, {
      now: () => clock.now,
      keepFinalMs: HOUR,
      pruneEveryMs: 20,
      pruneBatch: 2,
    });
    open.push({ store, runtime }, { store: keep.store as SqliteStore, runtime: keep });
    runtime.register(orderLifecycle());
    keep.register(orderLifecycle());
    for (const rt of [runtime, keep]) {
      await rt.synced('ORDER');
      for (let n = 0; n < 5; n++) {
        await rt.fire('ORDER', { key: `K${n}`, trigger: 'webhook' });
        await rt.fire('ORDER', {
          key: `K${n}`,
          transition: 'CONFIRM',
          msg: { payload: { status: 'Confirmed' } },
        });
      }
    }
    const until = (done: () => boolean) => waitFor(done, 2000, 'the pruning');
    clock.now = T0 + 2 * HOUR;
    keep.start();
    runtime.start();
    await until(() => Object.keys(runtime.instanceCounts('ORDER')).length === 0);
    assert.deepEqual(runtime.instanceCounts('ORDER'), {}, 'all five pruned at start, in batches of two');

    await runtime.fire('ORDER', { key: 'K9', trigger: 'webhook' });
    await runtime.fire('ORDER', {
      key: 'K9',
      transition: 'CONFIRM',
      msg: { payload: { status: 'Confirmed' } },
    });
    assert.deepEqual(runtime.instanceCounts('ORDER'), { CONFIRMED: 1 });
    clock.now = T0 + 4 * HOUR;
    await until(() => Object.keys(runtime.instanceCounts('ORDER')).length === 0);
    assert.equal(await runtime.instance('ORDER', 'K9'), undefined, 'pruned by the next periodic round');

    assert.equal(await keep.pruneFinal(), 0, 'no retention: kept for ever');
    assert.deepEqual(keep.instanceCounts('ORDER'), { CONFIRMED: 5 });
  });

  it('deletes an instance with its history', async () => {
    const { runtime, store, events } = make();
    runtime.register(orderLifecycle());
    await runtime.fire('ORDER', { key: 'A', trigger: 'webhook' });
    const deleted = await runtime.remove('ORDER', 'A', 'admin');
    assert.deepEqual([deleted.kind, deleted.from, events.at(-1)?.kind], ['deleted', 'SUBMITTED', 'deleted']);
    assert.equal(await store.workflows.getInstance('ORDER', 'A'), undefined);
    assert.deepEqual(await store.workflows.instanceHistory('ORDER', 'A'), []);
    assert.equal(runtime.activeInstances('ORDER'), 0);
    await assert.rejects(runtime.remove('ORDER', 'A'), /has no instance A/);
  });
});

describe('Workflow file (export / import)', () => {
  it('round-trips a definition through the versioned file', () => {
    const file = exportWorkflow(orderLifecycle(), new Date('2026-01-01T00:00:00Z'));
    assert.equal(file.format, 'imis-workflow');
    assert.equal(file.version, 1);
    const back = importWorkflow(JSON.stringify(file));
    assert.deepEqual(exportWorkflow(back, new Date('2026-01-01T00:00:00Z')), file);
  });

  it('reads the vendor names of trigger types', () => {
    const file = editable(exportWorkflow(orderLifecycle()));
    file.workflow.transitions[0].trigger = 'On Webhook';
    file.workflow.transitions[1].trigger = 'On Scheduled Poll';
    const def = importWorkflow(file);
    assert.deepEqual(
      def.transitions.slice(0, 2).map((t) => t.trigger),
      ['webhook', 'poll'],
    );
  });

  it('refuses what is not a workflow file, a newer version, and broken content, saying why', () => {
    assert.throws(() => importWorkflow('{"nodes": []}'), /not an iMIS workflow/);
    assert.throws(() => importWorkflow('not json'), /not JSON/);
    const newer = { ...exportWorkflow(orderLifecycle()), version: 2 };
    assert.throws(() => importWorkflow(newer), /version 2 workflow, newer than this package reads \(1\)/);
    const broken = editable(exportWorkflow(orderLifecycle()));
    delete broken.workflow.transitions[0].to;
    broken.workflow.states[1].timeoutHours = 'soon';
    assert.throws(() => importWorkflow(broken), /\/workflow\/states\/1\/timeoutHours must be number,null/);
    const pigeon = editable(exportWorkflow(orderLifecycle()));
    pigeon.workflow.transitions[2].trigger = 'pigeon';
    assert.throws(() => importWorkflow(pigeon), /Transition REJECT has an unknown trigger type "pigeon"/);
  });
});

/** A workflow file as plain JSON, to edit into what a file from elsewhere (or a broken one) holds. */
function editable(file: unknown) {
  return file as { workflow: { transitions: Record<string, unknown>[]; states: Record<string, unknown>[] } };
}

describe('Workflow layout', () => {
  it('places every state in its own box and draws every transition, the timeout ones marked', () => {
    const layout = layoutWorkflow(orderLifecycle());
    assert.deepEqual(
      layout.states.map((s) => s.code),
      ['NEW', 'SUBMITTED', 'CONFIRMED', 'FAILED'],
    );
    for (const a of layout.states)
      for (const b of layout.states) {
        if (a === b) continue;
        const apart =
          Math.abs(a.x - b.x) >= (a.width + b.width) / 2 || Math.abs(a.y - b.y) >= (a.height + b.height) / 2;
        assert.ok(apart, `${a.code} and ${b.code} overlap`);
      }
    assert.ok(layout.states.every((s) => s.x + s.width / 2 <= layout.width + 1));
    const byCode = Object.fromEntries(layout.transitions.map((t) => [t.code, t]));
    assert.deepEqual(Object.keys(byCode).sort(), ['CONFIRM', 'EXPIRE', 'REJECT', 'RETRY', 'SUBMIT']);
    assert.equal(byCode.EXPIRE.timeout, true);
    assert.equal(byCode.SUBMIT.timeout, false);
    assert.ok(byCode.SUBMIT.points.length >= 2);
    assert.equal(layout.states.find((s) => s.code === 'NEW')?.initial, true);
    assert.equal(layout.states.find((s) => s.code === 'SUBMITTED')?.timeoutHours, 48);
    const newBox = layout.states.find((s) => s.code === 'NEW')!;
    const confirmed = layout.states.find((s) => s.code === 'CONFIRMED')!;
    assert.ok(newBox.x < confirmed.x, 'left to right');
  });

  it('draws a definition still being typed, leaving out arrows to unknown states', () => {
    const def = orderLifecycle();
    def.transitions[0].to = 'SUBM';
    const layout = layoutWorkflow(def);
    assert.equal(
      layout.transitions.find((t) => t.code === 'SUBMIT'),
      undefined,
    );
    assert.equal(layout.transitions.length, 4);
  });
});
