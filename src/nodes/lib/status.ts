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
