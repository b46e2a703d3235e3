/**
 * Deletes a backlog in batches without starving the rest of the process: runs `batch` (which
 * deletes up to `size` rows and answers how many) until it deletes fewer, pausing after each for
 * `pauseFactor` times as long as it took (at least 5 ms). The store's writes are synchronous on
 * SQLite, and back-to-back batches (even with a yield between them) left webhook acceptance a
 * fraction of the event loop while a large backlog went (measured: bench/runs.ts). Answers how many
 * rows went.
 */
export async function pacedBatches(
  batch: () => Promise<number>,
  size: number,
  pauseFactor = 2,
): Promise<number> {
  let total = 0;
  for (;;) {
    const started = Date.now();
    const n = await batch();
    total += n;
    if (n < size) return total;
    const pause = Math.max(5, pauseFactor * (Date.now() - started));
    await new Promise((resolve) => setTimeout(resolve, pause).unref());
  }
}
