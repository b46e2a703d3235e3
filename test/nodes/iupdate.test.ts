import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import type { TaskOutcome } from '../../src/imis/iupdate.js';
import { helper, loggedText, nextMessage, packageNodes, waitFor } from '../support/red.js';

describe("Run iUpdate task(s), against the emulator's iDMS tasks", function () {
  let emulator: Emulator;
  useEmulatedRed((env) => ({ emulator } = env));

  async function run(
    tasks: { name: string; kind: string; wait?: boolean; queryParameters?: string; timeoutSec?: number }[],
    urls: string[],
    payload: unknown = {},
    extra: Record<string, unknown> = {},
  ) {
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        {
          id: 'iu',
          z: 'tab',
          type: 'imis-iupdate',
          tasks,
          pollFloorSec: 0.05,
          pollCapSec: 0.2,
          ...extra,
          wires: [['out']],
        },
        { id: 'out', z: 'tab', type: 'helper' },
      ],
      { iu: { urls: JSON.stringify(urls) } },
    );
    const got = nextMessage<{ iupdate: TaskOutcome[] }>('out');
    helper.getNode('iu').receive({ payload });
    return got;
  }

  it('polls a task to completion and reports its final status and record counts', async () => {
    const task = emulator.state.iupdate.addTask({
      name: 'Update member types',
      durationMs: 300,
      rowCount: 42,
      retryAfterSeconds: 0,
    });
    const msg = await run([{ name: 'Update member types', kind: 'polling', wait: true }], [task.pollingUrl]);
    const [outcome] = msg.iupdate;
    assert.equal(outcome.state, 'succeeded');
    assert.equal(outcome.status?.Status, 'D');
    assert.equal(outcome.status?.RowCount, 42);
    assert.ok(outcome.polls >= 1);
  });

  it('runs the next task when one fails, and fails the run for a Catch node', async () => {
    const broken = emulator.state.iupdate.addTask({ name: 'Broken', failOnStart: true });
    const fine = emulator.state.iupdate.addTask({ name: 'Fine', durationMs: 50, retryAfterSeconds: 0 });
    const node = () => helper.getNode('iu');
    const msg = await run(
      [
        { name: 'Broken', kind: 'polling' },
        { name: 'Fine', kind: 'polling' },
      ],
      [broken.pollingUrl, fine.pollingUrl],
    );
    assert.deepEqual(
      msg.iupdate.map((o) => o.state),
      ['error', 'succeeded'],
    );
    await waitFor(
      () => node().error.args.some((a: unknown[]) => /Broken/.test(loggedText(a[0]))),
      2000,
      'the error naming Broken',
    );
  });

  it('sends templated QueryParameters to the task', async () => {
    const task = emulator.state.iupdate.addTask({ name: 'Per member', durationMs: 10, retryAfterSeconds: 0 });
    await run(
      [{ name: 'Per member', kind: 'standard', queryParameters: '{"ID": "{{ input.memberId }}"}' }],
      [task.standardUrl],
      { memberId: '101' },
    );
    const execution = emulator.state.iupdate.executions.find((e) => e.taskId === task.id);
    assert.deepEqual(execution?.queryParameters, { ID: '101' });
  });

  it('gives up on a task that never completes after its timeout', async () => {
    const task = emulator.state.iupdate.addTask({ name: 'Stuck', neverComplete: true, retryAfterSeconds: 0 });
    const msg = await run(
      [{ name: 'Stuck', kind: 'polling', timeoutSec: 0.5 }],
      [task.pollingUrl],
      {},
      { failRunOnTaskFailure: false },
    );
    assert.equal(msg.iupdate[0].state, 'timeout');
  });

  it('fires and forgets on a polling URL when not waiting for completion', async () => {
    const task = emulator.state.iupdate.addTask({ name: 'Background', durationMs: 5000 });
    const msg = await run([{ name: 'Background', kind: 'polling', wait: false }], [task.pollingUrl]);
    assert.equal(msg.iupdate[0].state, 'started');
    assert.equal(msg.iupdate[0].polls, 0);
  });
});
