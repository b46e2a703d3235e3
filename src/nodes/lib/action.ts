import { compileTemplates } from '../../engine/templates.js';
import type { TemplateContext } from '../../engine/templates.js';
import { serverMessage } from './messages.js';

/**
 * What the Insert Activity and Insert Panel Record nodes share: a set of templated fields compiled
 * once, rendered per message with `input` = msg.payload (the pipeline object, IMIS-API.md §7).
 */
export function fieldRenderer(fields: Record<string, string>, labels: Record<string, string>) {
  const compiled = compileTemplates(fields, labels);
  return (msg: Record<string, unknown>): Record<string, string | undefined> => {
    const ctx: TemplateContext = { input: msg.payload, msg };
    return compiled.render(ctx);
  };
}

/** The config node, or a clear error naming what is missing. */
export function requireServer(RED: any, node: any, serverId: string | undefined): any {
  const server = serverId ? RED.nodes.getNode(serverId) : null;
  if (!server) {
    node.status({ fill: 'red', shape: 'ring', text: serverMessage(RED, 'status.missing') });
    return null;
  }
  return server;
}

/** Runs one action per message with the usual status lifecycle and done(err) for Catch nodes. */
export function onAction(RED: any, node: any, statusKey: string, act: (msg: any) => Promise<void>): void {
  let active = 0;
  node.on('input', (msg: any, send: (m: unknown) => void, done: (err?: Error) => void) => {
    active++;
    node.status({
      fill: 'blue',
      shape: 'dot',
      text: RED._(`${statusKey}.status.running`, { count: active }),
    });
    act(msg).then(
      () => {
        active--;
        node.status({
          fill: 'green',
          shape: 'dot',
          text: RED._(`${statusKey}.status.ok`, { time: new Date().toLocaleTimeString() }),
        });
        send(msg);
        done();
      },
      (err: Error) => {
        active--;
        // A few words on the node; iMIS's full message goes to the debug sidebar with done(err).
        node.status({
          fill: 'red',
          shape: 'ring',
          text: RED._(`${statusKey}.status.failed`, { time: new Date().toLocaleTimeString() }),
        });
        done(err);
      },
    );
  });
}
