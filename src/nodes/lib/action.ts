import { Deduplicator } from '../../core/dedup.js';
import type { DedupOutcome } from '../../core/dedup.js';
import { ExpectedError } from '../../core/errors.js';
import { compileTemplate, compileTemplates } from '../../core/templates.js';
import { isTransient } from '../../imis/errors.js';
import { NodeConfig } from './migrations.js';
import type { Migration } from './migrations.js';
import { packageRuntime } from './package-runtime.js';
import { runsMessage, serverMessage } from './messages.js';
import { serverNode } from './red.js';
import { fromConfig } from './status.js';
import type { ImisServerNode, InsertNode, Node, NodeMessage, NodeMessageInFlow, Red } from './red.js';

/**
 * An action node's failure policy, iWorkflow's "on failure" per action: 'fail' the run (done(err),
 * for Catch nodes: the default), 'continue' (send the message on with `msg.error` set), or
 * 'succeed' (end the run quietly, as succeeded).
 */
export type OnError = 'fail' | 'continue' | 'succeed';

/** A node config's `onError`, read as 'fail' when it is not one of the three. */
export function onErrorOf(value: unknown): OnError {
  return value === 'continue' || value === 'succeed' ? value : 'fail';
}

/** The config migration that gives an action node its failure policy (existing nodes keep failing the run). */
export const withOnError = (c: Record<string, unknown>) => ({ onError: 'fail', ...c });

type Send = (msg: NodeMessage | (NodeMessage | null)[]) => void;

/**
 * Ends a message whose action failed, as the node's policy says: 'fail' calls done(err) and
 * returns false (the caller shows its failed status); 'continue' and 'succeed' record the error on
 * the run's step, show it on the node (yellow, from the runs catalog) and return true. Neither
 * handled choice loses the error.
 */
export function actionFailed(
  RED: Red,
  node: Node,
  policy: OnError,
  msg: NodeMessageInFlow,
  send: Send,
  done: (err?: Error) => void,
  err: Error,
): boolean {
  if (policy === 'fail') {
    done(err);
    return false;
  }
  const time = new Date().toLocaleTimeString();
  const runtime = packageRuntime(RED);
  const runId = runtime.runOf(msg);
  if (runId !== undefined)
    runtime.runs.handled(runId, node.id, err.message, policy === 'continue' ? 'continued' : 'ended');
  node.status({
    fill: 'yellow',
    shape: 'ring',
    text: runsMessage(RED, `onError.status.${policy}`, { time }),
  });
  if (policy === 'continue') {
    msg.error = { message: err.message, source: { id: node.id, type: node.type, name: node.name } };
    send(msg);
  }
  done();
  return true;
}

/**
 * What the action nodes share: a set of templated fields compiled once, rendered per message with
 * `input` = msg.payload (the pipeline object, docs/imis-api.md §7) and `msg`. Throws TemplateError
 * for a template that does not compile.
 */
export function fieldRenderer(fields: Record<string, string>, labels: Record<string, string>) {
  const compiled = compileTemplates(fields, labels);
  return (msg: NodeMessage): Record<string, string | undefined> =>
    compiled.render({ input: msg.payload, msg });
}

/** The node's imis-server config node, or null with the node marked "no server" (a few words). */
export function requireServer(RED: Red, node: Node, serverId: string | undefined): ImisServerNode | null {
  const server = serverNode(RED, serverId);
  if (!server) node.status({ fill: 'red', shape: 'ring', text: serverMessage(RED, 'status.missing') });
  return server;
}

/** The error for a message reaching a node that has no server. */
export function noServer(RED: Red): Error {
  return new ExpectedError(serverMessage(RED, 'errors.missing'));
}

/**
 * Runs one action per message with the usual status lifecycle, from the node's catalog
 * (`<type>.status.running` with the count in flight, `.ok` with the time, `.failed` with the
 * time), and a failure handled by the node's policy (actionFailed). `act` may show its progress,
 * and may return the text of its done status instead of `.ok`.
 */
export function onAction(
  RED: Red,
  node: Node,
  policy: OnError,
  act: (msg: NodeMessageInFlow, progress: (text: string) => void) => Promise<string | void>,
): void {
  // A message of another node starts a run here: the package's message hooks must be in place.
  packageRuntime(RED);
  let active = 0;
  const progress = (text: string) => node.status({ fill: 'blue', shape: 'dot', text });
  node.on('input', (msg, send, done) => {
    active++;
    progress(RED._(`${node.type}.status.running`, { count: active }));
    act(msg, progress).then(
      (text) => {
        active--;
        const time = new Date().toLocaleTimeString();
        node.status({ fill: 'green', shape: 'dot', text: text || RED._(`${node.type}.status.ok`, { time }) });
        send(msg);
        done();
      },
      (err: Error) => {
        active--;
        // A few words on the node; iMIS's full message goes to the debug sidebar with done(err).
        if (!actionFailed(RED, node, policy, msg, send, done, err)) {
          const time = new Date().toLocaleTimeString();
          node.status({ fill: 'red', shape: 'ring', text: RED._(`${node.type}.status.failed`, { time }) });
        }
      },
    );
  });
}

/**
 * The config migration that gives an insert node its de-duplication key and the field of the
 * record that keeps it (none: as before).
 */
export const withDedupKey = (c: Record<string, unknown>) => ({ dedupKey: '', dedupField: '', ...c });

/** The config an insert node (Insert Activity, Insert Panel Record) has in common. */
export interface InsertConfig {
  name?: string;
  server: string;
  /** The record's fields, each a template. */
  fields: Record<string, string>;
  outputProp: string;
  /** Failure policy: fail, continue or succeed. */
  onError: string;
  /** De-duplication key template ('' = none): an insert whose key already succeeded is skipped. */
  dedupKey: string;
  /** The record's field the key is written into, to look it up after a crash ('' = none). */
  dedupField: string;
}

/**
 * An insert node's config (src/nodes/lib/migrations.ts): `first`, its first version's defaults,
 * then the failure policy (v2) and the de-duplication key (v3); `outputProp` a message property.
 */
export function insertConfig<C extends InsertConfig>(type: string, first: Migration): NodeConfig<C> {
  return new NodeConfig<C>(type, [first, withOnError, withDedupKey], ['outputProp']);
}

/** A record's `values` with the de-duplication `key` written into its field `keyField` (none: as they are). */
export function withKeyField<V extends Record<string, unknown>>(
  values: V,
  keyField: string,
  key: string | undefined,
): V {
  return key && keyField ? { ...values, [keyField]: key } : values;
}

/** An insert, told the message's de-duplication key (undefined without one). */
export type Insert<T> = (key: string | undefined) => Promise<T>;
/** Looks in iMIS for the record an interrupted insert under `key` made (the key kept in its field). */
export type FindInserted<T> = (key: string) => Promise<T | undefined>;

/**
 * An insert node's effectively-once inserts (src/core/dedup.ts). With a de-duplication key
 * template, each message's key is rendered; an insert whose key already made its record at this
 * node is skipped and that record passed on; `msg.dedup` tells `{ key, skipped }`. With a key
 * field, the key is also written into the record, so an insert interrupted before its outcome was
 * kept (a crash, a timeout) is looked up in iMIS instead of being made twice. Without a key, every
 * message inserts. The record goes to `outputProp`; the returned function answers the node's
 * done status (skipped), or undefined. Throws TemplateError for a template that does not compile.
 */
export function insertOnce(
  RED: Red,
  node: Node,
  config: { dedupKey: string; dedupField: string; outputProp: string },
) {
  const key = config.dedupKey.trim() ? compileTemplate(config.dedupKey, 'De-duplication key') : undefined;
  // Automatic retry re-runs a run through this node only when its inserts are de-duplicated.
  (node as InsertNode).deduplicated = key !== undefined;
  const keyField = key ? config.dedupField.trim() : '';
  return async <T>(
    msg: NodeMessageInFlow,
    insert: Insert<T>,
    find: FindInserted<T>,
  ): Promise<string | undefined> => {
    let outcome: DedupOutcome<T>;
    if (!key) {
      outcome = { result: await insert(undefined), skipped: false };
    } else {
      const value = key.render({ input: msg.payload, msg }).trim();
      if (!value) throw new ExpectedError(runsMessage(RED, 'errors.dedup-empty'));
      // One Deduplicator (and its in-process ordering of inserts per key) per package runtime.
      const runtime = packageRuntime(RED);
      const deduplicator = (runtime.deduplicator ??= new Deduplicator(runtime.store.dedup));
      outcome = await deduplicator.once(node.id, value, () => insert(value), {
        ...(keyField ? { find: () => find(value) } : {}),
        uncertain: isTransient,
      });
      msg.dedup = { key: value, skipped: outcome.skipped };
      if (outcome.unverified) node.warn(runsMessage(RED, 'errors.dedup-unverified', { key: value }));
    }
    RED.util.setMessageProperty(msg, config.outputProp, outcome.result, true);
    if (outcome.skipped)
      return RED._(`${node.type}.status.skipped`, { time: new Date().toLocaleTimeString() });
    return undefined;
  };
}

/** A message's insert into iMIS, and the look-up of the record an interrupted one made. */
export interface InsertOf<T> {
  insert: Insert<T>;
  find: FindInserted<T>;
}

/**
 * Runs insert node `node` (Insert Activity, Insert Panel Record) of config `settings`: its iMIS
 * server required; `prepare` run once (a TemplateError or InputError it throws marks the config
 * invalid, `<type>.status.invalid`) answers each message's insert, made once per de-duplication
 * key (insertOnce), as an action (onAction).
 */
export function runInsertNode<C extends InsertConfig, T>(
  RED: Red,
  node: Node,
  settings: C,
  prepare: () => (msg: NodeMessageInFlow, server: ImisServerNode) => Promise<InsertOf<T>>,
): void {
  const server = requireServer(RED, node, settings.server);
  const prepared = fromConfig(node, RED._(`${node.type}.status.invalid`), () => ({
    insertOf: prepare(),
    once: insertOnce(RED, node, settings),
  }));
  if (!prepared) return;
  const { insertOf, once } = prepared;
  onAction(RED, node, onErrorOf(settings.onError), async (msg) => {
    if (!server) throw noServer(RED);
    const { insert, find } = await insertOf(msg, server);
    return once(msg, insert, find);
  });
}
