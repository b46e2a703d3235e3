/**
 * Waiting in tests: for an event, never a fixed time. `waitFor` polls a condition (which may read
 * the API) until it holds or its deadline passes; `quietWindow` is the one deliberate wait, for a
 * test whose point is that something does NOT happen within a window.
 */

/**
 * Polls `check` every `everyMs` until it answers a truthy value, and resolves with that value;
 * fails naming `what` after `timeoutMs`. `check` may be async (e.g. read the runs API); an error it
 * throws fails the wait at once.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 5000,
  what = 'condition',
  everyMs = 10,
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Waits `ms` on purpose: the window of a test that asserts something does NOT arrive (a second
 * record, a message after a refusal). The caller says in a comment what must stay absent; keep the
 * window as short as that assertion allows.
 */
export function quietWindow(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
