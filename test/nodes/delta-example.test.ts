// The example "Poll IQA → Delta → post changes" as shipped in examples/, run against the emulator with
// Node-RED's own change, switch and http request nodes: only new or changed contacts are posted,
// and a refused post saves nothing, so the same contacts go again at the next poll.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { Emulator } from '../../src/emulator/server.js';
import { useEmulatedRed } from '../support/emulated.js';
import type { FlowNode } from '../support/flows.js';
import { NODE_RED_PKG, received as collect, helper, packageNodes, waitFor } from '../support/red.js';
import type { CaughtError } from '../support/red.js';

/** A contact as the example's flow posts it to CHANGES_URL. */
type Contact = { id: string; name: string; email: string; active: boolean };

const EXAMPLE = join(__dirname, '../../../examples/poll-iqa-delta-to-url.json');
const redDir = dirname(require.resolve(`${NODE_RED_PKG}/package.json`));
const coreNodes = [
  'common/20-inject.js',
  'common/25-catch.js',
  'common/90-comment.js',
  'function/10-function.js',
  'function/15-change.js',
  'function/10-switch.js',
  'network/21-httpin.js',
  'network/21-httprequest.js',
].map((file) => require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [redDir] })));

describe('Example: Poll IQA → Delta → post changes (change, switch, http request)', function () {
  this.timeout(60_000);
  let emulator: Emulator;
  let base: string;
  /** An external receiver that refuses every post with 503. */
  let down: Server;
  let downUrl: string;
  useEmulatedRed((env) => ({ emulator, base } = env));
  before(async () => {
    down = createServer((req, res) => {
      req.resume();
      res.writeHead(503).end('down for maintenance');
    });
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    downUrl = `http://127.0.0.1:${(down.address() as AddressInfo).port}/changes`;
  });
  after(async () => {
    await new Promise((resolve) => down.close(resolve));
  });

  const flow = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as FlowNode[];
  const byName = (name: string) => flow.find((n) => n.name === name) as FlowNode;
  const ids = {
    run: byName('Run now').id,
    delta: byName('Changed contacts').id,
    received: byName('Changes received').id,
    answered: byName('Receiver answered').id,
    gone: byName('Contacts gone').id,
    failed: byName('Error').id,
  };

  /** The example as shipped, but the server at the emulator, CHANGES_URL given, debug nodes observed. */
  async function load(changesUrl: string) {
    const nodes = flow.map((node) => {
      if (node.type === 'imis-server') return { ...node, baseUrl: emulator.url };
      if (node.type === 'tab')
        return { ...node, env: [{ name: 'CHANGES_URL', value: changesUrl, type: 'str' }] };
      if (node.type === 'debug') return { id: node.id, z: node.z, type: 'helper', wires: [] };
      return node;
    });
    await helper.load([...coreNodes, ...packageNodes()], nodes, {
      c0a00000000000ff: { username: 'MANAGER', password: 'manager' },
    });
  }
  /**
   * Runs the flow once (the inject node) and resolves, once the run has settled, with the Delta Hash
   * node's statuses of the run ("8 new or changed, ... | run failed at ...: nothing saved").
   */
  const poll = () =>
    new Promise<string>((resolve) => {
      const delta = helper.getNode(ids.delta);
      const texts: string[] = [];
      const listener = (call: { args: [{ text?: string }] }) => {
        const text = call.args[0]?.text ?? '';
        texts.push(text);
        if (/saved/.test(text)) {
          delta.removeListener('call:status', listener);
          resolve(texts.join(' | '));
        }
      };
      delta.on('call:status', listener);
      helper.getNode(ids.run).receive({});
    });

  it('posts every contact first, then only the changed ones; a poll without changes posts nothing', async () => {
    await load(`${base}/imis-demo/changes`);
    const received = collect<{ payload: Contact[] }>(ids.received);
    const answered = collect<{ statusCode: number }>(ids.answered);
    const gone = collect<{ payload: string[] }>(ids.gone);

    assert.match(await poll(), /8 new or changed, 0 gone, of 8 \(saved/);
    assert.equal(received.length, 1);
    assert.deepEqual(
      received[0].payload.find((c) => c.id === '12345'),
      {
        id: '12345',
        name: 'Maria Garcia',
        email: 'maria.garcia@example.org',
        active: true,
      },
    );
    assert.equal(answered[0].statusCode, 204);

    assert.match(await poll(), /0 new or changed/);
    assert.equal(received.length, 1, 'the switch (Gate) stopped the empty change set');

    emulator.state.parties.get('12345')!.Email = 'maria@example.com';
    emulator.state.parties.delete('24001');
    assert.match(await poll(), /1 new or changed, 1 gone/);
    assert.equal(received.length, 2);
    assert.deepEqual(
      received[1].payload.map((c) => [c.id, c.email]),
      [['12345', 'maria@example.com']],
    );
    assert.deepEqual(gone[0].payload, ['24001']);
  });

  it('saves nothing when the receiver answers 503, so the next poll posts the same contacts', async () => {
    await load(downUrl);
    const failed = collect<CaughtError>(ids.failed);
    assert.match(await poll(), /run failed .*nothing saved/);
    await waitFor(() => failed.length === 1, 5000, 'the failed run at the Catch node');
    assert.match(failed[0].error.message, /CHANGES_URL answered 503/);
    assert.match(await poll(), /8 new or changed, 0 gone, of 8 \| run failed/, 'the same 8 contacts again');
  });

  it('saves nothing when the receiver cannot be reached (http request tells only the Catch node)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await load(`http://127.0.0.1:${port}/changes`);
    const failed = collect<CaughtError>(ids.failed);
    assert.match(await poll(), /run failed .*nothing saved/);
    assert.match(failed[0].error.message, /ECONNREFUSED/);
    assert.match(await poll(), /8 new or changed, 0 gone, of 8 \| run failed/, 'the same 8 contacts again');
  });
});
