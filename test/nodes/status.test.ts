// Node status texts: a few words under the node; the details of an error go to the debug sidebar
// (node.error / done(err)), never into the status.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SinonSpyCall } from 'sinon';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import { callsOn, helper, loggedText, packageNodes, waitFor } from '../support/red.js';

/** The texts a node's status showed, in order (recorded from now on). */
function statusTexts(id: string): { fill?: string; text?: string }[] {
  const seen: { fill?: string; text?: string }[] = [];
  helper.getNode(id).on('call:status', (call: SinonSpyCall) => seen.push(call.args[0]));
  return seen;
}

/** The messages of the errors a node reported (what the debug sidebar shows). */
function errorMessages(id: string): string[] {
  return callsOn(id, 'error').map((args) => loggedText(args[0]));
}

const FEW_WORDS = /^[\w ]{1,30}( at .{1,12})?$/;

describe('Node status texts', function () {
  let emulator: Emulator;
  let base: string;
  useEmulatedRed((env) => ({ emulator, base } = env));

  const server = () => ({ id: 'srv', type: 'imis-server', baseUrl: emulator.url, retries: 1 });
  const credentials = { srv: { username: 'MANAGER', password: 'manager' } };

  it('counts the calls a webhook accepted ("2 accepted", not "queued")', async () => {
    const token = randomBytes(24).toString('base64url');
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'hook', z: 'tab', type: 'imis-webhook-in', wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ],
      { hook: { token } },
    );
    const statuses = statusTexts('hook');
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${base}/imis/hook/${token}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      assert.equal(res.status, 200);
    }
    await waitFor(() => statuses.some((s) => s.text === '2 accepted'), 3000, 'status "2 accepted"');
  });

  it("shows a failed insert in a few words and reports iMIS's message as the node's error", async () => {
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        {
          id: 'insert',
          z: 'tab',
          type: 'imis-insert-activity',
          server: 'srv',
          fields: { partyId: '99999', activityType: 'MEETING' },
          wires: [[]],
        },
        server(),
      ],
      credentials,
    );
    const statuses = statusTexts('insert');
    helper.getNode('insert').receive({ payload: {} });
    await waitFor(() => statuses.some((s) => s.fill === 'red'), 10_000, 'a red status');
    const failed = statuses.find((s) => s.fill === 'red')!;
    assert.match(failed.text!, /^failed at /);
    assert.match(failed.text!, FEW_WORDS);
    await waitFor(() => errorMessages('insert').length > 0, 2000, 'the error');
    assert.match(errorMessages('insert')[0], /99999/, "the error carries iMIS's message");
  });

  it('shows a failed IQA fetch in a few words and reports the reason as the error', async () => {
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'fetch', z: 'tab', type: 'imis-iqa', server: 'srv', path: '$/No/Such/Query', wires: [[]] },
        server(),
      ],
      credentials,
    );
    const statuses = statusTexts('fetch');
    helper.getNode('fetch').receive({ payload: {} });
    await waitFor(() => statuses.some((s) => s.fill === 'red'), 10_000, 'a red status');
    assert.match(statuses.find((s) => s.fill === 'red')!.text!, /^failed at /);
    await waitFor(() => errorMessages('fetch').length > 0, 2000, 'the error');
    assert.match(errorMessages('fetch')[0], /No\/Such\/Query|not found|404/i);
  });

  it('marks a node whose configuration cannot work in a few words, with the reason in its error', async () => {
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        {
          id: 'insert',
          z: 'tab',
          type: 'imis-insert-activity',
          server: 'srv',
          fields: { partyId: '{{ input.memberId ', activityType: 'MEETING' },
          wires: [[]],
        },
        { id: 'panel', z: 'tab', type: 'imis-insert-panel', server: 'srv', partyId: '{{ oops ', wires: [[]] },
        { id: 'fetch', z: 'tab', type: 'imis-iqa', server: 'srv', path: '{% if %}', wires: [[]] },
        { id: 'notify', z: 'tab', type: 'imis-change-in', eventTypes: ['Party updated'], wires: [[]] },
        {
          id: 'iu',
          z: 'tab',
          type: 'imis-iupdate',
          tasks: [{ name: 'Nightly', kind: 'standard', queryParameters: '{"ID": ' }],
          wires: [[]],
        },
        server(),
      ],
      { ...credentials, notify: { token: randomBytes(24).toString('base64url') } },
    );
    const expected: Record<string, string> = {
      insert: 'invalid template',
      panel: 'invalid template',
      fetch: 'invalid template',
      notify: 'invalid event types',
      iu: 'invalid query parameters',
    };
    for (const [id, text] of Object.entries(expected)) {
      const shown = callsOn(id, 'status').map((args) => args[0].text);
      assert.ok(
        callsOn(id, 'status').some(([s]) => s.fill === 'red' && s.text === text),
        `${id}: status "${text}"`,
      );
      assert.ok(
        shown.every((t) => FEW_WORDS.test(String(t))),
        `${id}: short statuses only: ${JSON.stringify(shown)}`,
      );
      assert.ok(errorMessages(id)[0].length > text.length, `${id}: the error says more than the status`);
    }
    assert.match(errorMessages('notify')[0], /Party updated/);
    assert.match(errorMessages('iu')[0], /Nightly/);
  });
});
