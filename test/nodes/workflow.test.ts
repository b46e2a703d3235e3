import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { WorkflowHistoryEntry, WorkflowInstancePage } from '../../src/store/types.js';
import type {
  StateDefinition,
  TransitionDefinition,
  WorkflowDefinition,
} from '../../src/workflow/definition.js';
import type { WorkflowFile } from '../../src/workflow/format.js';
import type { eventView, instanceView } from '../../src/nodes/lib/workflows.js';
import { normalizeDefinition } from '../../src/workflow/index.js';
import type { WorkflowLayout } from '../../src/workflow/layout.js';
import { orderLifecycle } from '../workflow/fixtures.js';
import { useRed } from '../support/emulated.js';
import {
  callsOn,
  DENY_HEADER,
  freshDataDir,
  helper,
  loggedText,
  packageNodes,
  received,
  startHelper,
  stopHelper,
  waitFor,
} from '../support/red.js';
import type { TestMessage } from '../support/red.js';
import type { ApiError } from '../support/runs.js';

/** The order lifecycle (test/workflow/fixtures.ts), as the config node holds it. */
function workflowConfig(over: Record<string, unknown> = {}) {
  return {
    id: 'wf',
    type: 'imis-workflow',
    ...normalizeDefinition({ ...orderLifecycle() }),
    cfgVersion: 1,
    ...over,
  };
}

function flow(wf: Record<string, unknown> = workflowConfig(), sm: Record<string, unknown> = {}) {
  return [
    { id: 'tab', type: 'tab' },
    wf,
    {
      id: 'sm',
      z: 'tab',
      type: 'imis-state-machine',
      workflow: 'wf',
      trigger: 'msg',
      noMatch: 'output',
      cfgVersion: 1,
      ...sm,
      wires: [['fired'], ['final'], ['nothing'], ['control']],
    },
    { id: 'events', z: 'tab', type: 'imis-workflow-in', workflow: 'wf', events: 'all', wires: [['evt']] },
    { id: 'fired', z: 'tab', type: 'helper' },
    { id: 'final', z: 'tab', type: 'helper' },
    { id: 'nothing', z: 'tab', type: 'helper' },
    { id: 'control', z: 'tab', type: 'helper' },
    { id: 'evt', z: 'tab', type: 'helper' },
  ];
}

type EventView = ReturnType<typeof eventView>;
/** A message the state machine passed on (fired, final, nothing): what moved in msg.workflow. */
type Moved = TestMessage<{
  payload: { orderId?: string };
  workflow: EventView & { created?: boolean; reason?: string; message?: string };
}>;
/** An answer of the control output: the instance (null once deleted), and the event of a command. */
type Control = TestMessage<{ payload: ReturnType<typeof instanceView> | null; workflow: Partial<EventView> }>;
interface Outputs {
  fired: Moved[];
  final: Moved[];
  nothing: Moved[];
  control: Control[];
  evt: TestMessage<{ payload: EventView }>[];
}

/** Collects what reaches each output, from now on. */
function outputs(): Outputs {
  return {
    fired: received('fired'),
    final: received('final'),
    nothing: received('nothing'),
    control: received('control'),
    evt: received('evt'),
  };
}

/** What node `id` last showed in its status, and the last error it reported. */
const statusText = (id: string) => callsOn(id, 'status').at(-1)?.[0]?.text;
const errorText = (id: string) => loggedText(callsOn(id, 'error').at(-1)?.[0]);

/** Sends `msg` to the state machine and waits until something leaves it. */
async function send(got: Outputs, msg: Record<string, unknown>) {
  const before = got.fired.length + got.final.length + got.nothing.length + got.control.length;
  const errorCount = () => callsOn('sm', 'error').length;
  const errors = errorCount();
  helper.getNode('sm').receive(msg);
  await waitFor(
    () =>
      got.fired.length + got.final.length + got.nothing.length + got.control.length > before ||
      errorCount() > errors,
    5000,
    'the state machine',
  );
}

describe('Workflow nodes', function () {
  this.timeout(20_000);
  let dataDir: string;
  useRed((env) => ({ dataDir } = env));

  it('creates an instance for a new order and fires On Webhook, reporting the transition and the event', async () => {
    await helper.load(packageNodes(), flow());
    const got = outputs();
    await send(got, { _msgid: 'run-1', trigger: 'On Webhook', payload: { orderId: 'SO-1' } });
    const msg = got.fired[0];
    assert.deepEqual(msg.payload, { orderId: 'SO-1' }, 'the message goes on');
    assert.deepEqual(
      [msg.workflow.key, msg.workflow.from, msg.workflow.to, msg.workflow.transition, msg.workflow.trigger],
      ['SO-1', 'NEW', 'SUBMITTED', 'SUBMIT', 'webhook'],
    );
    assert.equal(msg.workflow.created, true);
    assert.equal(msg.workflow.instance.state, 'SUBMITTED');
    assert.match(String(msg.workflow.instance.dueAt), /^\d{4}-\d\d-\d\dT/);
    await waitFor(() => got.evt.length === 2, 3000, 'two events');
    assert.deepEqual(
      got.evt.map((e) => [e.topic, e.payload.event, e.payload.to]),
      [
        ['created', 'created', 'NEW'],
        ['transition', 'transition', 'SUBMITTED'],
      ],
    );
    await waitFor(() => statusText('sm') === 'active: 1', 3000, 'status "active: 1"');
  });

  it('sends a transition into a final state to the second output, and a message that fires nothing to the third', async () => {
    await helper.load(packageNodes(), flow());
    const got = outputs();
    await send(got, { trigger: 'webhook', payload: { orderId: 'SO-2' } });
    await send(got, { trigger: 'On Scheduled Poll', payload: { orderId: 'SO-2', status: 'Pending' } });
    assert.equal(got.nothing.length, 1);
    assert.equal(got.nothing[0].workflow.reason, 'no-transition');
    assert.equal(
      got.nothing[0].workflow.message,
      'no enabled transition leaves state SUBMITTED on poll with a condition that holds',
    );
    await send(got, { trigger: 'poll', payload: { orderId: 'SO-2', status: 'Confirmed' } });
    assert.equal(got.final.length, 1);
    assert.equal(got.final[0].workflow.to, 'CONFIRMED');
    assert.equal(got.final[0].workflow.final, true);
    await send(got, { transition: 'EXPIRE', payload: { orderId: 'SO-2' } });
    assert.equal(got.nothing.at(-1)?.workflow.reason, 'final');
    assert.equal(got.fired.length, 1, 'only the first transition went to the first output');
  });

  it('raises a catchable error instead, when told to, naming key, workflow and reason', async () => {
    await helper.load(packageNodes(), flow(workflowConfig(), { noMatch: 'error', trigger: 'poll' }));
    const got = outputs();
    await send(got, { payload: { orderId: 'SO-3' } });
    const [, msg] = callsOn('sm', 'error').at(-1) ?? [];
    assert.match(
      errorText('sm'),
      /Nothing fired for SO-3 in workflow ORDER: no enabled transition leaves state NEW on poll/,
    );
    assert.equal(
      (msg?.payload as { orderId?: string } | undefined)?.orderId,
      'SO-3',
      'the error carries the message (Catch nodes get it)',
    );
    await send(got, { payload: {} });
    assert.match(errorText('sm'), /gives no key for workflow ORDER \(\{\{ input.orderId \}\} is empty\)/);
    await send(got, { trigger: 'sometimes', payload: { orderId: 'x' } });
    assert.equal(got.fired.length + got.nothing.length, 0);
  });

  it('answers query, reset and delete control messages on the fourth output', async () => {
    await helper.load(packageNodes(), flow());
    const got = outputs();
    await send(got, { trigger: 'webhook', payload: { orderId: 'SO-4' } });
    await send(got, { command: 'query', key: 'SO-4' });
    assert.equal(got.control[0].payload?.state, 'SUBMITTED');
    await send(got, { command: 'reset', payload: { orderId: 'SO-4' }, state: 'FAILED' });
    assert.equal(got.control[1].payload?.state, 'FAILED');
    assert.equal(got.control[1].workflow.event, 'reset');
    await send(got, { command: 'query', key: 'SO-4' });
    assert.equal(got.control[2].payload?.lastTrigger, 'reset');
    await send(got, { command: 'delete', key: 'SO-4' });
    await send(got, { command: 'query', key: 'SO-4' });
    assert.equal(got.control[4].payload, null);
    await waitFor(() => got.evt.some((e) => e.payload.event === 'deleted'), 3000, 'the deletion event');
  });

  it('prunes instances final for longer than imis.workflows.keepFinalDays (default imis.runs.maxAgeDays), active ones stay', async () => {
    const day = 24 * 60 * 60 * 1000;
    /**
     * A store in a fresh data folder holding CONFIRMED (final) and SUBMITTED instances entered 36 h
     * ago, and a CONFIRMED one entered 5 days ago (whose pruning tells that a pruning has run).
     */
    const seeded = async () => {
      const dir = freshDataDir();
      const store = new SqliteStore({ file: join(dir, 'imis.db') });
      for (const [key, state, days] of [
        ['OLD-FINAL', 'CONFIRMED', 1.5],
        ['OLD-ACTIVE', 'SUBMITTED', 1.5],
        ['ANCIENT-FINAL', 'CONFIRMED', 5],
      ] as const) {
        const since = Date.now() - days * day;
        const instance = { workflow: 'ORDER', key, state, since, createdAt: since, version: 1 };
        const history = [
          { workflow: 'ORDER', key, at: since, kind: 'created' as const, to: state, trigger: 'webhook' },
        ];
        await store.workflows.writeInstance({ instance, expectedVersion: 0, history });
      }
      await store.close();
      return dir;
    };
    const query = async (got: Outputs, key: string) => {
      await send(got, { command: 'query', key });
      return got.control.at(-1)?.payload?.state ?? null;
    };

    for (const settings of [{ workflows: { keepFinalDays: 1 } }, { runs: { maxAgeDays: 1 } }]) {
      await stopHelper();
      await startHelper(await seeded(), { imis: settings });
      await helper.load(packageNodes(), flow());
      const got = outputs();
      await waitFor(async () => (await query(got, 'OLD-FINAL')) === null, 2000, 'OLD-FINAL pruned');
      assert.equal(await query(got, 'OLD-FINAL'), null, `pruned with ${JSON.stringify(settings)}`);
      assert.equal(await query(got, 'OLD-ACTIVE'), 'SUBMITTED', 'an active instance stays');
    }

    await stopHelper();
    await startHelper(await seeded(), { imis: { runs: { maxAgeDays: 1 }, workflows: { keepFinalDays: 3 } } });
    await helper.load(packageNodes(), flow());
    const got = outputs();
    await waitFor(
      async () => (await query(got, 'ANCIENT-FINAL')) === null,
      2000,
      'a pruning (ANCIENT-FINAL pruned)',
    );
    assert.equal(await query(got, 'OLD-FINAL'), 'CONFIRMED', 'kept: keepFinalDays says 3 days');
  });

  it('keeps one instance per run in Per Run mode', async () => {
    await helper.load(packageNodes(), flow(workflowConfig({ instanceMode: 'run', key: '' })));
    const got = outputs();
    await send(got, { _msgid: 'run-a', trigger: 'webhook', payload: { orderId: 'same' } });
    await send(got, { _msgid: 'run-b', trigger: 'webhook', payload: { orderId: 'same' } });
    assert.deepEqual(
      got.fired.map((m) => [m.workflow.key, m.workflow.created]),
      [
        ['run-a', true],
        ['run-b', true],
      ],
    );
  });

  it('keeps instances across a redeploy and a restart, and fires timeouts that fell due meanwhile', async () => {
    const short = workflowConfig();
    (short.states as StateDefinition[])[1].timeoutHours = 0.0001; // 360 ms
    await helper.load(packageNodes(), flow(short));
    let got = outputs();
    await send(got, { trigger: 'webhook', payload: { orderId: 'SO-5' } });
    await send(got, { trigger: 'webhook', payload: { orderId: 'SO-6' } });

    // Redeploy: same store, same instances.
    await helper.unload();
    await helper.load(packageNodes(), flow(workflowConfig()));
    got = outputs();
    await send(got, { command: 'query', key: 'SO-5' });
    assert.equal(got.control[0].payload?.state, 'SUBMITTED');
    await waitFor(() => statusText('sm') === 'active: 2', 3000, 'active: 2 after the redeploy');

    // Restart: the process stops; the short timeout falls due while it is down.
    await stopHelper();
    const store = new SqliteStore({ file: join(dataDir, 'imis.db') });
    const due = await store.workflows.getInstance('ORDER', 'SO-6');
    await store.close();
    assert.ok(due?.dueAt, 'the due time is in the store');
    // The short timeout (360 ms after SO-6, the later, entered SUBMITTED) falls due while stopped.
    await waitFor(() => Date.now() > due.since + 360, 2000, 'the short timeout to fall due');
    // A new package context on the same data folder (a new process): store and runtime anew.
    await startHelper(`${dataDir}/`);
    await helper.load(packageNodes(), flow(short));
    got = outputs();
    await waitFor(
      () => got.evt.filter((e) => e.payload.trigger === 'timeout').length === 2,
      5000,
      'both timeouts',
    );
    assert.deepEqual(got.evt.map((e) => [e.payload.key, e.payload.transition, e.payload.to]).sort(), [
      ['SO-5', 'EXPIRE', 'FAILED'],
      ['SO-6', 'EXPIRE', 'FAILED'],
    ]);
    await send(got, { command: 'query', key: 'SO-6' });
    assert.deepEqual(
      [got.control[0].payload?.state, got.control[0].payload?.lastTrigger],
      ['FAILED', 'timeout'],
    );
  });

  it('flags instances whose state a redeployed definition dropped, and refuses an invalid definition', async () => {
    await helper.load(packageNodes(), flow());
    let got = outputs();
    await send(got, { trigger: 'webhook', payload: { orderId: 'SO-7' } });
    await helper.unload();
    const edited = workflowConfig();
    (edited.states as StateDefinition[])[1].code = 'SENT';
    for (const t of edited.transitions as TransitionDefinition[]) {
      if (t.from === 'SUBMITTED') t.from = 'SENT';
      if (t.to === 'SUBMITTED') t.to = 'SENT';
    }
    await helper.load(packageNodes(), flow(edited));
    got = outputs();
    // The redeployed definition is synced with the store after the deploy.
    await waitFor(
      async () => {
        await send(got, { command: 'query', key: 'SO-7' });
        return (got.control.at(-1)?.payload?.flags.length ?? 0) > 0;
      },
      2000,
      'SO-7 flagged',
    );
    assert.deepEqual(got.control.at(-1)?.payload?.flags, ['state-missing']);
    await send(got, { trigger: 'poll', payload: { orderId: 'SO-7' } });
    assert.equal(got.nothing[0].workflow.reason, 'state-missing');

    await helper.unload();
    const broken = workflowConfig();
    (broken.transitions as TransitionDefinition[])[0].to = 'SUBMITED';
    await helper.load(packageNodes(), flow(broken));
    got = outputs();
    assert.match(
      errorText('wf'),
      /Workflow ORDER is not valid: Transition SUBMIT goes to unknown state SUBMITED/,
    );
    assert.equal(statusText('sm'), 'invalid workflow');
    await send(got, { trigger: 'webhook', payload: { orderId: 'SO-8' } });
    assert.match(errorText('sm'), /not valid: Transition SUBMIT goes to unknown state/);
  });

  it('upgrades a config saved without a version (defaults from the first migration)', async () => {
    const { cfgVersion: _v, enabled: _e, instanceMode: _m, keyType: _k, ...old } = workflowConfig();
    await helper.load(
      packageNodes(),
      flow(old, { trigger: 'webhook', noMatch: undefined, cfgVersion: undefined }),
    );
    const got = outputs();
    await send(got, { payload: { orderId: 'SO-9' } });
    assert.equal(
      got.fired[0].workflow.to,
      'SUBMITTED',
      'enabled, per record, template key; trigger from the node',
    );
  });
});

describe('Workflow admin endpoints', function () {
  this.timeout(20_000);
  // A user who may read workflows but not change them; one who may do both (test/support/red.ts).
  const readOnly = { [DENY_HEADER]: 'imis-workflow.write' };
  const readWrite = {};

  useRed(() => undefined);
  beforeEach(() => helper.load(packageNodes(), flow()));

  it('lists the deployed workflows with their active instances, pages instances and shows history', async () => {
    const got = outputs();
    for (const id of ['A', 'B', 'C']) await send(got, { trigger: 'webhook', payload: { orderId: id } });
    await send(got, { trigger: 'poll', payload: { orderId: 'C', status: 'Confirmed' } });
    const list = (
      await helper
        .request()
        .get<{ code: string; initial?: string; active: number; errors: string[] }[]>('/imis/workflows')
        .set(readOnly)
        .expect(200)
    ).body;
    assert.deepEqual(
      list.map((w) => [w.code, w.initial, w.active, w.errors]),
      [['ORDER', 'NEW', 2, []]],
    );
    const page = (
      await helper
        .request()
        .get<WorkflowInstancePage>('/imis/workflows/ORDER/instances?state=SUBMITTED&limit=1')
        .set(readOnly)
        .expect(200)
    ).body;
    assert.deepEqual(
      page.instances.map((i) => i.key),
      ['A'],
    );
    assert.ok(page.next);
    const next = (
      await helper
        .request()
        .get<WorkflowInstancePage>(
          `/imis/workflows/ORDER/instances?state=SUBMITTED&limit=1&after=${page.next}`,
        )
        .set(readOnly)
        .expect(200)
    ).body;
    assert.deepEqual(
      next.instances.map((i) => i.key),
      ['B'],
    );
    const history = (
      await helper
        .request()
        .get<WorkflowHistoryEntry[]>('/imis/workflows/ORDER/instances/C/history')
        .set(readOnly)
        .expect(200)
    ).body;
    assert.deepEqual(
      history.map((h) => h.transition ?? h.kind),
      ['created', 'SUBMIT', 'CONFIRM'],
    );
  });

  it('advances by a Manual transition, resets with a state and deletes, for writers only', async () => {
    const got = outputs();
    await send(got, { trigger: 'webhook', payload: { orderId: 'A' } });
    const advance = () =>
      helper
        .request()
        .post<EventView>('/imis/workflows/ORDER/instances/A/advance')
        .send({ transition: 'EXPIRE' });
    await advance().set(readOnly).expect(403);
    const moved = (await advance().set(readWrite).expect(200)).body;
    assert.deepEqual(
      [moved.from, moved.to, moved.trigger, moved.actor],
      ['SUBMITTED', 'FAILED', 'manual', 'editor'],
    );
    await waitFor(
      () => got.evt.some((e) => e.payload.transition === 'EXPIRE'),
      3000,
      'the editor action as an event',
    );
    const notManual = await helper
      .request()
      .post<ApiError>('/imis/workflows/ORDER/instances/A/advance')
      .set(readWrite)
      .send({ transition: 'CONFIRM' })
      .expect(400);
    assert.match(notManual.body.error, /CONFIRM is not a Manual transition/);
    await helper
      .request()
      .post<ApiError>('/imis/workflows/ORDER/instances/A/reset')
      .set(readWrite)
      .send({ state: 'NOPE' })
      .expect(400);
    const reset = await helper
      .request()
      .post<EventView>('/imis/workflows/ORDER/instances/A/reset')
      .set(readWrite)
      .send({ state: 'NEW' })
      .expect(200);
    assert.equal(reset.body.to, 'NEW');
    await helper
      .request()
      .post<ApiError>('/imis/workflows/ORDER/instances/A/delete')
      .set(readOnly)
      .expect(403);
    await helper.request().post('/imis/workflows/ORDER/instances/A/delete').set(readWrite).expect(200);
    await helper.request().get<ApiError>('/imis/workflows/ORDER/instances/A').set(readOnly).expect(404);
    await helper
      .request()
      .get<ApiError>('/imis/workflows')
      .set({ [DENY_HEADER]: 'imis-workflow.read' })
      .expect(403);
  });

  it('exports and imports the versioned workflow file, and lays the workflow out', async () => {
    const file = (
      await helper
        .request()
        .post<WorkflowFile>('/imis/workflows/export')
        .set(readOnly)
        .send({ definition: workflowConfig() })
        .expect(200)
    ).body;
    assert.deepEqual([file.format, file.version, file.workflow.code], ['imis-workflow', 1, 'ORDER']);
    const back = (
      await helper
        .request()
        .post<{ workflow: WorkflowDefinition }>('/imis/workflows/import')
        .set(readOnly)
        .send({ file: JSON.stringify(file) })
        .expect(200)
    ).body;
    assert.equal(back.workflow.transitions[1].condition, 'payload.status = "Confirmed"');
    const refused = await helper
      .request()
      .post<ApiError>('/imis/workflows/import')
      .set(readOnly)
      .send({ file: '{"format":"x"}' })
      .expect(400);
    assert.match(refused.body.error, /not an iMIS workflow/);
    const layout = (
      await helper
        .request()
        .post<WorkflowLayout>('/imis/workflows/layout')
        .set(readOnly)
        .send({ definition: workflowConfig() })
        .expect(200)
    ).body;
    assert.equal(layout.states.length, 4);
    assert.equal(layout.transitions.find((t) => t.code === 'EXPIRE')?.timeout, true);
    // Left to right by default; top to bottom when asked (the narrow sidebar asks).
    const at = (l: WorkflowLayout, code: string) => l.states.find((st) => st.code === code)!;
    assert.ok(at(layout, 'SUBMITTED').x > at(layout, 'NEW').x, 'left to right');
    const tall = (
      await helper
        .request()
        .post<WorkflowLayout>('/imis/workflows/layout')
        .set(readOnly)
        .send({ definition: workflowConfig(), direction: 'TB' })
        .expect(200)
    ).body;
    assert.ok(at(tall, 'SUBMITTED').y > at(tall, 'NEW').y, 'top to bottom');
    assert.ok(tall.width < layout.width, 'narrower');
  });
});

describe('iMIS workflows sidebar texts', () => {
  it('finds every text the sidebar shows in its catalog (no raw keys)', () => {
    const root = join(__dirname, '../../..');
    // The sidebar's module and its graph's (src/editor): tr() looks texts up in imis-workflows.
    const html = ['nodes/imis-workflows.ts', 'workflows/graph.ts']
      .map((file) => readFileSync(join(root, 'src/editor', file), 'utf8'))
      .join('\n');
    const catalog = JSON.parse(readFileSync(join(root, 'nodes/locales/en-US/imis-workflows.json'), 'utf8'));
    const has = (key: string) =>
      typeof key
        .split('.')
        .reduce<unknown>(
          (n, p) => (n as Record<string, unknown> | undefined)?.[p],
          catalog['imis-workflows'],
        ) === 'string';
    const keys = [...html.matchAll(/\btr\('([\w.-]+)'/g)].map((m) => m[1]).filter((k) => !k.endsWith('.'));
    // Keys built from a prefix: the columns, the history lines.
    const columns = ['code', 'description', 'initial', 'active', 'key', 'state', 'stateDescription'];
    columns.push('since', 'timeInState', 'timesOut', 'lastTrigger', 'lastTransition', 'actions');
    keys.push(
      ...columns.map((c) => `columns.${c}`),
      'history.created',
      'history.transition',
      'history.reset',
    );
    assert.ok(keys.length > 30);
    assert.deepEqual(
      keys.filter((k) => !has(k)),
      [],
    );
  });
});
