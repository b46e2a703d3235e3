import { compileTemplates } from '../../core/templates.js';
import { serverMessage } from './messages.js';
import { serverNode } from './red.js';
import type { ImisServerNode, Node, NodeMessage, NodeMessageInFlow, Red } from './red.js';

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
  return new Error(serverMessage(RED, 'errors.missing'));
}

/**
 * Runs one action per message with the usual status lifecycle, from the node's catalog
 * (`<type>.status.running` with the count in flight, `.ok` with the time, `.failed` with the
 * time), and done(err) for Catch nodes. `act` may show its progress, and may return the text of
 * its done status instead of `.ok`.
 */
export function onAction(
  RED: Red,
  node: Node,
  act: (msg: NodeMessageInFlow, progress: (text: string) => void) => Promise<string | void>,
): void {
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
        const time = new Date().toLocaleTimeString();
        node.status({ fill: 'red', shape: 'ring', text: RED._(`${node.type}.status.failed`, { time }) });
        done(err);
      },
    );
  });
}
