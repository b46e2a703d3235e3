import type { Node } from './red.js';

/**
 * A status that changes with every request (counters) is shown at most every `ms`: a node.status
 * call per request costs translations and an editor message each, which a busy endpoint cannot
 * afford. `now()` shows it at once; `soon()` within `ms`; `cancel()` on close.
 */
export function throttledStatus(show: () => void, ms = 500) {
  let timer: NodeJS.Timeout | undefined;
  const now = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    show();
  };
  return {
    now,
    soon: () => {
      if (!timer) timer = setTimeout(now, ms);
    },
    cancel: () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** Marks a node whose configuration cannot work: `text` (a few words) in red on the node. */
export function showConfigError(node: Node, text: string): void {
  node.status({ fill: 'red', shape: 'ring', text });
}

/**
 * What a node compiles once from its config (templates, filters, schemas). When the config cannot
 * work, the reason goes to the node's error (the debug sidebar), `text` in a few words on the node,
 * and the result is undefined: the node then stays idle.
 */
export function fromConfig<T>(
  node: Node,
  text: string,
  build: () => T,
  reason: (err: Error) => unknown = (err) => err,
): T | undefined {
  try {
    return build();
  } catch (err) {
    node.error(reason(err as Error));
    showConfigError(node, text);
    return undefined;
  }
}
