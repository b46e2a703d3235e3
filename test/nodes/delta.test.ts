import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Node, NodeDef } from 'node-red';
import type { Red } from '../../src/nodes/lib/red.js';
import { useRed } from '../support/emulated.js';
import { helper, nextMessage, packageNodes } from '../support/red.js';
import type { CaughtError } from '../support/red.js';

/** A row as these tests send it: its key column is ID. */
type Row = { ID: string };
/** What leaves the Delta Hash node's first output: the new and changed rows, in `payload` or the property set. */
type DeltaOut = { payload: Row[]; rows: Row[] };

const token = randomBytes(24).toString('base64url');

const contacts = () => [
  { ID: '101', Name: 'John Smith', Email: 'john@example.org' },
  { ID: '102', Name: 'Maria Garcia', Email: 'maria@example.org' },
  { ID: '103', Name: 'Ahmed Khan', Email: 'ahmed@example.net' },
];

/**
 * Stands for the system the changes go to: answers a little later (as an HTTP request would), and
 * fails the message when it says so, as a refused post would.
 */
function receiverNode(RED: Red): void {
  function Receiver(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => {
      setTimeout(() => {
        if (msg.fail || (msg.payload as { fail?: boolean } | undefined)?.fail)
          return done(new Error('the receiver is down'));
        send(msg);
        done();
      }, 30);
    });
  }
  RED.nodes.registerType('test-receiver', Receiver);
}

/**
 * webhook in (a tracked run) or a message from elsewhere → Delta Hash → the receiver → out; the
 * keys gone → gone; errors → caught.
 */
function flow(delta: Record<string, unknown> = {}) {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'hook', z: 'tab', type: 'imis-webhook-in', wires: [['delta']] },
    {
      id: 'delta',
      z: 'tab',
      type: 'imis-delta',
      keyColumn: 'ID',
      removedOutput: true,
      ...delta,
      wires: [['receiver'], ['gone']],
    },
    { id: 'receiver', z: 'tab', type: 'test-receiver', wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'gone', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

describe('Delta Hash node', function () {
  this.timeout(60_000);
  let base: string;
  useRed((env) => ({ base } = env));

  const load = (delta: Record<string, unknown> = {}) =>
    helper.load([...packageNodes(), receiverNode], flow(delta), { hook: { token } });
  const next = (id: string) => nextMessage<DeltaOut>(id);
  /** Resolves with the Delta Hash node's status text once its run has settled (saved or not). */
  const settled = () =>
    new Promise<string>((resolve) => {
      const node = helper.getNode('delta');
      const listener = (call: { args: [{ text?: string }] }) => {
        const text = call.args[0]?.text ?? '';
        if (/saved|could not save/.test(text)) {
          node.removeListener('call:status', listener);
          resolve(text);
        }
      };
      node.on('call:status', listener);
    });
  /** Sends a message (not part of a tracked run) and resolves once its run has settled. */
  const send = async (msg: Record<string, unknown>) => {
    const done = settled();
    helper.getNode('delta').receive(msg);
    return done;
  };

  it('outputs every row the first time, then none while nothing changes, across a redeploy', async () => {
    await load();
    let out = next('out');
    assert.match(await send({ payload: contacts() }), /3 new or changed, 0 gone, of 3 \(saved/);
    const first = await out;
    assert.deepEqual(first.payload, contacts());
    assert.deepEqual(first.delta, { rows: 3, added: 3, changed: 0, unchanged: 0, removed: 0 });

    out = next('out');
    await send({ payload: contacts() });
    assert.deepEqual((await out).payload, []);

    await helper.unload();
    await load();
    out = next('out');
    await send({ payload: contacts().reverse() });
    assert.deepEqual((await out).payload, [], 'the hashes are in the store, not in memory');
  });

  it('outputs changed and new rows, and the keys gone on the second output', async () => {
    await load();
    await send({ payload: contacts(), topic: 'contacts' });
    const changed = contacts();
    changed[0].Email = 'john.smith@example.org';
    changed.splice(1, 1);
    changed.push({ ID: '104', Name: 'Emily Lee', Email: 'emily@example.com' });
    const out = next('out');
    const gone = nextMessage<{ payload: string[] }>('gone');
    await send({ payload: changed, topic: 'contacts' });
    const msg = await out;
    assert.deepEqual(
      msg.payload.map((r) => r.ID),
      ['101', '104'],
    );
    assert.deepEqual(msg.delta, { rows: 3, added: 1, changed: 1, unchanged: 1, removed: 1 });
    const keys = await gone;
    assert.deepEqual(keys.payload, ['102']);
    assert.equal(keys.topic, 'contacts');
  });

  it('commits nothing when a node after it fails, so the rows come out again next time', async () => {
    await load();
    const caught = nextMessage<CaughtError>('caught');
    assert.match(await send({ payload: contacts(), fail: true }), /run failed .*nothing saved/);
    assert.match((await caught).error.message, /the receiver is down/);
    const out = next('out');
    assert.match(await send({ payload: contacts() }), /3 new or changed/);
    assert.equal((await out).payload.length, 3);
  });

  it('commits when a webhook run ends well, and not when it fails', async () => {
    await load({ inputProp: 'payload.rows', outputProp: 'rows' });
    const post = async (body: unknown) => {
      const done = settled();
      const res = await fetch(`${base}/imis/hook/${token}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200);
      return done;
    };
    assert.match(await post({ rows: contacts(), fail: true }), /nothing saved/);
    let out = next('out');
    assert.match(await post({ rows: contacts() }), /3 new or changed.*saved/);
    assert.equal((await out).rows.length, 3);
    out = next('out');
    await post({ rows: contacts() });
    assert.deepEqual((await out).rows, []);
  });

  it('fails the message, naming the key, when a key appears twice (and saves nothing)', async () => {
    await load();
    const caught = nextMessage<CaughtError>('caught');
    helper.getNode('delta').receive({ payload: [...contacts(), { ID: '102', Name: 'Again' }] });
    const msg = await caught;
    assert.match(
      msg.error.message,
      /key column "ID" must be unique, but the key "102" appears in rows 2 and 4/,
    );
    const out = next('out');
    await send({ payload: contacts() });
    assert.equal((await out).payload.length, 3, 'nothing was saved by the failed message');
  });

  it('starts afresh on msg.reset', async () => {
    await load();
    await send({ payload: contacts() });
    const out = next('out');
    await send({ payload: contacts().slice(0, 2), reset: true });
    assert.equal((await out).payload.length, 2, 'every row counts as new');
    const gone = nextMessage<{ payload: string[] }>('gone');
    const again = next('out');
    let goneCalled = false;
    void gone.then(() => (goneCalled = true));
    await send({ payload: contacts() }); // resolves once the run has settled
    assert.deepEqual(
      (await again).payload.map((r) => r.ID),
      ['103'],
      'the reset replaced all hashes',
    );
    assert.equal(goneCalled, false, 'no second message when no key is gone');
  });

  it('handles 100,000 rows, then 1% changed', async () => {
    await load({ removedOutput: false });
    const rows = Array.from({ length: 100_000 }, (_, i) => ({
      ID: `M${i}`,
      FirstName: `First ${i}`,
      LastName: `Last ${i}`,
      Email: `member${i}@example.org`,
      Status: i % 7 === 0 ? 'I' : 'A',
    }));
    let out = next('out');
    await send({ payload: rows });
    assert.equal((await out).payload.length, 100_000);
    const changed = rows.map((r, i) => (i % 100 === 0 ? { ...r, Status: 'S' } : r));
    out = next('out');
    const started = Date.now();
    await send({ payload: changed });
    const msg = await out;
    assert.equal(msg.payload.length, 1000);
    assert.equal(msg.payload[1].ID, 'M100');
    assert.ok(Date.now() - started < 20_000, 'in reasonable time');
  });
});
