// What a user reads when an action fails for an expected reason (a bad value, iMIS refusing the
// data): the message alone, in a Catch node's msg.error.message, in the runtime's log and on the
// node, never prefixed by a class name ("TypeError: ", "ImisError: ").
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SinonSpyCall } from 'sinon';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import { helper, logEntries, packageNodes, received, waitFor } from '../support/red.js';
import type { CaughtError } from '../support/red.js';

/** "TypeError: ", "ImisError: ", "Error: " … at the start of a text. */
const CLASS_NAME_PREFIX = /^\w*Error: /;

const BAD_DATE =
  'Transaction Date (TRANSACTION_DATE): "not a date" is not a date (write it as 2026-05-27 or 2026-05-27T09:15:00)';
const REFUSED = 'iMIS rejected POST /api/Activity: Party 99999 does not exist';

describe('Errors of an action read as their message, not as a class name (Insert Activity)', function () {
  let emulator: Emulator;
  let base: string;
  let token: string;
  useEmulatedRed((env) => ({ emulator, base } = env));
  beforeEach(() => {
    token = randomBytes(24).toString('base64url');
  });

  /** Webhook in → Insert Activity (date from the input), with or without a Catch node. */
  const load = (withCatch: boolean) =>
    helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'hook', z: 'tab', type: 'imis-webhook-in', wires: [['insert']] },
        {
          id: 'insert',
          z: 'tab',
          type: 'imis-insert-activity',
          server: 'srv',
          fields: {
            partyId: '{{ input.memberId }}',
            activityType: 'MEETING',
            transactionDate: '{{ input.when }}',
          },
          wires: [[]],
        },
        ...(withCatch
          ? [
              { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
              { id: 'caught', z: 'tab', type: 'helper' },
            ]
          : []),
        { id: 'srv', type: 'imis-server', baseUrl: emulator.url, retries: 0 },
      ],
      { hook: { token }, srv: { username: 'MANAGER', password: 'manager' } },
    );

  const post = async (input: Record<string, string>) => {
    const res = await fetch(`${base}/imis/hook/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(input),
    });
    assert.equal(res.status, 200);
  };

  /** The insert node's statuses, recorded from now on. */
  const statuses = () => {
    const seen: { fill?: string; text?: string }[] = [];
    helper.getNode('insert').on('call:status', (call: SinonSpyCall) => seen.push(call.args[0]));
    return seen;
  };

  /**
   * The lines the runtime logs at error level for the insert node, as Node-RED's console logger
   * writes them (node_modules/@node-red/util/lib/log.js: the level, the node, then `+ msg`).
   */
  const errorLogLines = (): string[] =>
    logEntries()
      .filter((entry) => entry.level === helper.log().ERROR && entry.id === 'insert')
      .map((entry) => `[error] [${entry.type}:${entry.name || entry.id}] ${entry.msg}`);

  const cases = [
    {
      what: 'a date that is not a date',
      input: { memberId: '12345', when: 'not a date' },
      message: BAD_DATE,
    },
    { what: 'an insert iMIS refuses', input: { memberId: '99999', when: '2026-05-27' }, message: REFUSED },
  ];

  for (const { what, input, message } of cases) {
    it(`${what}: the Catch node's msg.error.message is the message alone, the status a few words`, async () => {
      await load(true);
      const caught = received<CaughtError>('caught');
      const shown = statuses();
      await post(input);
      await waitFor(() => caught.length === 1, 8000, 'the Catch node');
      assert.equal(caught[0].error.message, message);
      assert.doesNotMatch(caught[0].error.message, CLASS_NAME_PREFIX);
      assert.equal(caught[0].error.source.id, 'insert');
      const last = shown.at(-1);
      assert.equal(last?.fill, 'red');
      assert.match(last?.text ?? '', /^failed at /);
      assert.equal(emulator.state.activities.length, 0);
    });

    it(`${what}: without a Catch node, the runtime logs the message alone`, async () => {
      await load(false);
      await post(input);
      await waitFor(() => errorLogLines().length === 1, 8000, 'the error in the log');
      assert.equal(errorLogLines()[0], `[error] [imis-insert-activity:insert] ${message}`);
    });
  }
});
