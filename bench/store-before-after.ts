// The store benchmark's before and after (bench/store.ts, when BENCH_BASELINE_DIR is set), in a
// process of its own: the SQLite store built in <baseline dir> and this build's, each accepting then
// finishing BENCH_STORE_ROWS inputs from BENCH_STORE_CONCURRENCY writers into a fresh file, as the
// section's store runs do. After one untimed round of each, rounds alternate before, after, after,
// before, ... (BENCH_STORE_AB_ROUNDS rounds of each, default 10), so that both builds meet the same
// machine, the same JIT and the same heap. Prints after/before (geometric mean over the rounds)
// with its 95% confidence interval.
//   node dist/bench/store-before-after.js <baseline dir>
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { RunRecord } from '../src/runs/tracker.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { AcceptedInput } from '../src/store/types.js';
import { mean } from './common.js';
import { CONCURRENCY, ROWS, makeInputs, removeSqliteFiles, runOf, sqliteFile, writers } from './store.js';
import type { Rates } from './store.js';

const AB_ROUNDS = Math.max(2, Math.trunc(Number(process.env.BENCH_STORE_AB_ROUNDS) || 10));

/**
 * An SQLite store of either API: `inputs.accept` and `runs.finish`, or (before the store split)
 * `accept` and `finishRun`.
 */
interface AnyStore {
  inputs?: { accept(input: AcceptedInput): Promise<void> };
  runs?: { finish(run: RunRecord): Promise<void> };
  accept?(input: AcceptedInput): Promise<void>;
  finishRun?(run: RunRecord): Promise<void>;
  close(): Promise<void>;
}
type StoreClass = new (options: { file: string }) => AnyStore;

/** The accept and finish of either API. */
function verbs(store: AnyStore): {
  accept: (input: AcceptedInput) => Promise<void>;
  finish: (run: RunRecord) => Promise<void>;
} {
  const { inputs, runs, accept, finishRun } = store;
  if (inputs && runs) return { accept: (i) => inputs.accept(i), finish: (r) => runs.finish(r) };
  if (accept && finishRun) return { accept: accept.bind(store), finish: finishRun.bind(store) };
  throw new Error('a store with neither inputs.accept nor accept');
}

/** Accept, then finish, ROWS inputs from CONCURRENCY writers into a fresh store; rows/s of each. */
async function acceptAndFinish(Store: StoreClass): Promise<Rates> {
  const inputs = makeInputs(ROWS);
  const finished = inputs.map(runOf);
  const store = new Store({ file: sqliteFile() });
  try {
    const { accept, finish } = verbs(store);
    const acceptSeconds = await writers(inputs, CONCURRENCY, accept);
    const finishSeconds = await writers(finished, CONCURRENCY, finish);
    return { accept: ROWS / acceptSeconds, finish: ROWS / finishSeconds };
  } finally {
    await store.close();
  }
}

/** Two-sided 95% quantiles of Student's t for 1..20 degrees of freedom. */
const T95 = [
  12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086,
];

/** Geometric mean of after/before over paired rounds, with its 95% confidence interval. */
function pairedRatio(
  before: number[],
  after: number[],
): { ratio: number; low: number; high: number; wins: number } {
  const logs = after.map((a, i) => Math.log(a / before[i]));
  const n = logs.length;
  const m = mean(logs);
  const sd = Math.sqrt(logs.reduce((sum, x) => sum + (x - m) ** 2, 0) / (n - 1));
  const half = (n - 1 <= T95.length ? T95[n - 2] : 1.96 + 2.4 / (n - 1)) * (sd / Math.sqrt(n));
  return {
    ratio: Math.exp(m),
    low: Math.exp(m - half),
    high: Math.exp(m + half),
    wins: logs.filter((x) => x > 0).length,
  };
}

/**
 * This version's SQLite store against the one built in `baselineDir`, in this process: rounds
 * alternate before, after, after, before, ... after one untimed round of each.
 */
async function beforeAndAfter(baselineDir: string): Promise<string[]> {
  const dir = resolve(baselineDir);
  let Before: StoreClass;
  try {
    Before = (
      createRequire(__filename)(join(dir, 'dist', 'src', 'store', 'sqlite.js')) as { SqliteStore: StoreClass }
    ).SqliteStore;
  } catch (err) {
    return [
      `sqlite before/after: ${baselineDir}: no store build there (${(err as Error).message.split('\n')[0]})`,
    ];
  }
  const After = SqliteStore as unknown as StoreClass;
  console.log(
    `SQLite store, before (${dir}) and after (this build), in this process: ${AB_ROUNDS} rounds of ` +
      `${ROWS} accepts then finishRuns, ${CONCURRENCY} writers, alternating`,
  );
  await acceptAndFinish(Before);
  await acceptAndFinish(After);
  const before: Rates[] = [];
  const after: Rates[] = [];
  for (let round = 0; round < AB_ROUNDS; round++) {
    const order = round % 2 === 0 ? [Before, After] : [After, Before];
    for (const Store of order) (Store === Before ? before : after).push(await acceptAndFinish(Store));
  }
  return (['accept', 'finish'] as const).map((key) => {
    const b = before.map((r) => r[key]);
    const a = after.map((r) => r[key]);
    const { ratio, low, high, wins } = pairedRatio(b, a);
    return (
      `sqlite before/after ${key === 'accept' ? 'accept' : 'finishRun'}: before ${mean(b).toFixed(0)}/s, ` +
      `after ${mean(a).toFixed(0)}/s; after/before ${ratio.toFixed(3)} (95% CI ${low.toFixed(3)}–${high.toFixed(3)}; ` +
      `after faster in ${wins} of ${AB_ROUNDS} rounds)`
    );
  });
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node dist/bench/store-before-after.js <baseline dir>\n');
    process.exit(2);
  }
  beforeAndAfter(dir)
    .then((lines) => process.stdout.write(`${lines.join('\n')}\n`))
    .catch((err) => {
      process.stdout.write(`sqlite before/after: could not run: ${(err as Error).message.split('\n')[0]}\n`);
    })
    .finally(removeSqliteFiles);
}
