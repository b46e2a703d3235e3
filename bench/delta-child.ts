// One measurement of the `delta` benchmark section, in a process of its own (forked by delta.ts), so
// that its time and peak RSS are its own. argv: <mode> <store file>; mode is
//   seed   the first run: every row hashed and committed (not measured)
//   hash   the reference: createHash('sha256').update(JSON.stringify(row)).digest('hex') per row
//   hash1  the same with node:crypto's one-shot hash('sha256', ...) (Node 20.12+), as Delta Hash uses
//   delta  a Delta Hash run with 1% of the rows changed: the node's steps, stored hashes read,
//          rows compared (stable JSON + SHA-256), the changes committed
// It prints one JSON line: { ms, rssBeforeMb, peakRssMb, changed, removed, steps } (steps: the
// delta's read / compare / commit ms).
import { createHash, hash } from 'node:crypto';
import { computeDelta } from '../src/core/delta.js';
import { SqliteStore } from '../src/store/sqlite.js';

export const ROWS = 100_000;
const SCOPE = 'bench-delta';

/** 100,000 rows of 10 columns; `changed`: every 100th row has another Status (1%). */
export function benchRows(changed: boolean): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < ROWS; i++) {
    rows.push({
      ID: String(100_000 + i),
      FirstName: `First${i % 997}`,
      LastName: `Last${i % 1009}`,
      Email: `member${i}@example.org`,
      City: `City ${i % 211}`,
      Country: i % 3 === 0 ? 'CA' : 'US',
      MemberType: ['M', 'NM', 'STU', 'CM'][i % 4],
      Status: changed && i % 100 === 0 ? 'I' : 'A',
      JoinDate: `20${10 + (i % 15)}-0${1 + (i % 9)}-1${i % 10}T00:00:00`,
      Balance: (i % 5000) / 4,
    });
  }
  return rows;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

async function main(): Promise<void> {
  const [mode, file] = process.argv.slice(2);
  const store = new SqliteStore({ file });
  const rows = benchRows(mode !== 'seed');
  global.gc?.();
  const rssBeforeMb = mb(process.memoryUsage().rss);
  const started = performance.now();
  let changed = 0;
  let removed = 0;
  // The references' digests are folded into `sink`, reported, so that no work can be skipped.
  let sink = 0;
  const steps: Record<string, number> = {};
  if (mode === 'hash') {
    for (const row of rows)
      sink ^= createHash('sha256').update(JSON.stringify(row)).digest('hex').charCodeAt(0);
  } else if (mode === 'hash1') {
    for (const row of rows) sink ^= hash('sha256', JSON.stringify(row), 'hex').charCodeAt(0);
  } else {
    const previous = await store.delta.hashes(SCOPE);
    steps.read = performance.now() - started;
    const delta = computeDelta(rows, 'ID', previous);
    steps.compare = performance.now() - started - steps.read;
    await store.delta.commit(SCOPE, { set: delta.upserts, remove: delta.removed });
    steps.commit = performance.now() - started - steps.read - steps.compare;
    changed = delta.changed.length;
    removed = delta.removed.length;
  }
  const ms = performance.now() - started;
  await store.close();
  // maxRSS is in kilobytes.
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ ms, rssBeforeMb, peakRssMb, changed, removed, steps, sink })}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
