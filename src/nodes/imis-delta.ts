import { computeDelta } from '../core/delta.js';
import type { DeltaResult } from '../core/delta.js';
import { followMessage, packageContext } from './lib/context.js';
import { migrate } from './lib/migrations.js';

interface DeltaConfig {
  name?: string;
  keyColumn: string;
  inputProp: string;
  outputProp: string;
  /** A second output with the keys that disappeared since the last run. */
  removedOutput: boolean;
}

const migrations = [
  (c: Record<string, unknown>) => ({
    keyColumn: '',
    inputProp: 'payload',
    outputProp: 'payload',
    removedOutput: false,
    ...c,
  }),
];

/** The top-level property a message property path starts with (`payload` of `payload.rows[0]`). */
const topLevel = (path: string): string => path.split(/[.[]/)[0];

export = function register(RED: any): void {
  function DeltaNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<DeltaConfig>(raw, migrations);
    const ctx = packageContext(RED);
    const self = { id: node.id, type: node.type, name: node.name || undefined };
    const inputProp = String(config.inputProp || 'payload');
    const outputProp = String(config.outputProp || 'payload');
    let active = 0;
    const time = () => new Date().toLocaleTimeString();

    /** The second output's message: the keys gone, without the rows (so it costs little to clone). */
    const removedMessage = (msg: Record<string, unknown>, delta: DeltaResult) => {
      const second: Record<string, unknown> = { ...msg };
      delete second[topLevel(inputProp)];
      delete second[topLevel(outputProp)];
      RED.util.setMessageProperty(second, outputProp, delta.removed, true);
      return second;
    };

    /**
     * The hashes of a run are committed once the run has ended well: a run that fails (here or
     * downstream) keeps the previous hashes, so its rows count as changed again next time.
     */
    const commitWhenSettled = (outcome: Promise<string>, delta: DeltaResult, reset: boolean) => {
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
          await ctx.store.commitDelta(node.id, { set: delta.upserts, remove: delta.removed, replace: reset });
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

    node.on('input', async (msg: any, send: (m: unknown) => void, done: (err?: Error) => void) => {
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
        const previous = reset ? new Map<string, string>() : await ctx.store.getDeltaHashes(node.id);
        const delta = computeDelta(rows, config.keyColumn, previous, `msg.${inputProp}`);
        const second = config.removedOutput && delta.removed.length > 0 ? removedMessage(msg, delta) : null;
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
        const follow = followMessage(ctx, msg._msgid, self);
        let sent = false;
        commitWhenSettled(
          follow.outcome.then((status) => (sent ? status : 'failed')),
          delta,
          reset,
        );
        try {
          send(config.removedOutput ? [msg, second] : msg);
          sent = true;
        } finally {
          follow.sent();
        }
        done();
      } catch (err) {
        node.status({
          fill: 'red',
          shape: 'ring',
          text: RED._('imis-delta.status.failed', { time: time() }),
        });
        done(err as Error);
      } finally {
        active--;
      }
    });
  }
  RED.nodes.registerType('imis-delta', DeltaNode);
};
