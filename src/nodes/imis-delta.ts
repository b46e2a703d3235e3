import { computeDelta } from '../core/delta.js';
import type { DeltaResult } from '../core/delta.js';
import type { RunStatus } from '../runs/tracker.js';
import { actionFailed, onErrorOf, withOnError } from './lib/action.js';
import { packageRuntime } from './lib/package-runtime.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { Node, NodeDef, NodeMessage, NodeModule } from './lib/red.js';

interface DeltaConfig {
  name?: string;
  keyColumn: string;
  inputProp: string;
  outputProp: string;
  /** A second output with the keys that disappeared since the last run. */
  removedOutput: boolean;
  /** Failure policy (src/nodes/lib/action.ts). */
  onError: string;
}

const config = new NodeConfig<DeltaConfig>(
  'imis-delta',
  [
    (c) => ({
      keyColumn: '',
      inputProp: 'payload',
      outputProp: 'payload',
      removedOutput: false,
      ...c,
    }),
    withOnError,
  ],
  ['inputProp', 'outputProp'],
);

/** The top-level property a message property path starts with (`payload` of `payload.rows[0]`). */
const topLevel = (path: string): string => path.split(/[.[]/)[0];

const register: NodeModule = (RED) => {
  function DeltaNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const { keyColumn, inputProp, outputProp, removedOutput, onError } = config.read(def);
    const policy = onErrorOf(onError);
    const ctx = packageRuntime(RED);
    const self = { id: node.id, type: node.type, name: node.name || undefined };
    let active = 0;
    const time = () => new Date().toLocaleTimeString();

    /** The second output's message: the keys gone, without the rows (so it costs little to clone). */
    const removedMessage = (msg: NodeMessage, delta: DeltaResult): NodeMessage => {
      const second: NodeMessage = { ...msg };
      delete second[topLevel(inputProp)];
      delete second[topLevel(outputProp)];
      RED.util.setMessageProperty(second, outputProp, delta.removed, true);
      return second;
    };

    /**
     * The hashes of a run are committed once the run has ended well: a run that fails (here or
     * downstream) keeps the previous hashes, so its rows count as changed again next time.
     */
    const commitWhenSettled = (outcome: Promise<RunStatus>, delta: DeltaResult, reset: boolean) => {
      const counts = delta.counts;
      outcome
        .then(async (status) => {
          if (status !== 'ok') {
            node.status({
              fill: 'yellow',
              shape: 'ring',
              text: RED._('imis-delta.status.not-committed', { time: time() }),
            });
            return;
          }
          await ctx.store.delta.commit(node.id, {
            set: delta.upserts,
            remove: delta.removed,
            replace: reset,
          });
          node.status({
            fill: 'green',
            shape: 'dot',
            text: RED._('imis-delta.status.committed', {
              changed: counts.added + counts.changed,
              removed: counts.removed,
              rows: counts.rows,
              time: time(),
            }),
          });
        })
        .catch((err: Error) => {
          node.status({ fill: 'red', shape: 'ring', text: RED._('imis-delta.status.save-failed') });
          node.warn(RED._('imis-delta.errors.save', { message: err.message }));
        });
    };

    node.on('input', async (msg, send, done) => {
      active++;
      node.status({
        fill: 'blue',
        shape: 'dot',
        text: RED._('imis-delta.status.running', { count: active }),
      });
      try {
        const rows = RED.util.getMessageProperty(msg, inputProp);
        // msg.reset = true compares against nothing: every row counts as new, and the run's hashes
        // replace all of this node's hashes once it has succeeded.
        const reset = msg.reset === true;
        const previous = reset ? new Map<string, string>() : await ctx.store.delta.hashes(node.id);
        const delta = computeDelta(rows, keyColumn, previous, `msg.${inputProp}`);
        const second = removedOutput && delta.removed.length > 0 ? removedMessage(msg, delta) : null;
        RED.util.setMessageProperty(msg, outputProp, delta.changed, true);
        msg.delta = { ...delta.counts };
        if (second) second.delta = msg.delta;
        node.status({
          fill: 'blue',
          shape: 'ring',
          text: RED._('imis-delta.status.sent', {
            changed: delta.counts.added + delta.counts.changed,
            removed: delta.counts.removed,
            rows: delta.counts.rows,
          }),
        });
        const follow = ctx.follow(msg, self);
        let sent = false;
        commitWhenSettled(
          follow.outcome.then((status): RunStatus => (sent ? status : 'failed')),
          delta,
          reset,
        );
        try {
          send(removedOutput ? [msg, second] : msg);
          sent = true;
        } finally {
          follow.sent();
        }
        done();
      } catch (err) {
        if (!actionFailed(RED, node, policy, msg, send, done, err as Error)) {
          node.status({
            fill: 'red',
            shape: 'ring',
            text: RED._('imis-delta.status.failed', { time: time() }),
          });
        }
      } finally {
        active--;
      }
    });
  }
  registerType(RED, 'imis-delta', DeltaNode, { settings: config.settings() });
};

export = register;
