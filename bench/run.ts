// `npm run bench`: each section starts its own Node-RED child process (127.0.0.1, temp user directory)
// and measures one of this package's nodes against a reference measured in the same run:
//   webhook     Webhook in → JSON Schema Validation, SQLite store  vs  http in → http response
//   webhook-pg  the same with a PostgreSQL store (throwaway server on 127.0.0.1)
//   store       Store.accept / finishRun  vs  raw inserts of the same rows (SQLite, PostgreSQL)
//   startup     start-up time and idle RSS  vs  plain Node-RED (and the BENCH_BASELINE_DIR build)
//   change      iMIS change notification in (Event Grid batches of 1 and 50)  vs  http in → http response
//   export      Fetch IQA (100,000 × 10 from the emulator) → Export Data to URL (CSV)  vs  papaparse
//   cron        imis-cron every second: firing delay  vs  inject repeat 1 s: interval jitter
//   delta       Delta Hash, 100,000 × 10 rows with 1% changed  vs  SHA-256 of each row alone (node:crypto)
//   runs        Runs dashboard's first pages over 1,000,000 stored runs  vs  the unfiltered first page;
//               webhook p99 while the retention prunes a backlog  vs  once it is over
//   protect     Webhook in with an HMAC signature check (GitHub, Standard Webhooks)  vs  the same endpoint without
//   schema      the seed payload through core/schema (as the node validates)  vs  plain ajv, same
//               schema compiled once (in this process, alternating rounds)
//   workflow    integration workflow runtime on SQLite (1,000,000 instances)  vs  raw SQLite writes
//   scale       1, 2, 3 Node-RED processes on one PostgreSQL: aggregate webhook req/s, Node-RED's and
//               PostgreSQL's CPU per request apart; a per-second Cron's p99 firing delay, 3 processes vs 1
//   tracking    run tracking on: Webhook in → split (1,000 rows) → change → join → Insert Activity
//               (emulator) runs/s  vs  the same flow with imis.runs.track false; one run's steps,
//               stored size and the child's RSS
// BENCH_ONLY=webhook|webhook-pg|store|startup|change|export|cron|delta|runs|protect|schema|workflow|tracking|scale (comma-separated;
// default all), BENCH_SECONDS (autocannon seconds per run, default 10), BENCH_ROUNDS (webhook
// rounds of ref + ours, default 3; protect: rounds of its 8 mirrored runs, default 1), BENCH_STORE_ROWS / BENCH_STORE_CONCURRENCY / BENCH_STORE_ROUNDS
// (default 50,000 / 200 / 2), BENCH_PG_FSYNC=off (PostgreSQL without fsync; default on),
// BENCH_STARTUP_RUNS (default 3), BENCH_BASELINE_DIR (a built older version for "before" start-up
// numbers, see bench/startup.ts, and for the store section's before/after of its SQLite store in one
// process, BENCH_STORE_AB_ROUNDS rounds, default 10), BENCH_CRON_FIRINGS (default 60), BENCH_EXPORT_RUNS (default 3),
// BENCH_DELTA_RUNS (default 3), BENCH_RUNS_ROWS (default 1,000,000), BENCH_RUNS_REPEAT (default 10),
// BENCH_WORKFLOW_INSTANCES (default 1000000), BENCH_WORKFLOW_TIMEOUT_S (default 2),
// tracking: BENCH_ROUNDS (rounds of off + on, default 3), BENCH_TRACKING_RUNS (runs per measured
// batch, default 200), BENCH_TRACKING_CONCURRENCY (runs in flight, default 4), BENCH_TRACKING_ROWS
// (rows split per run, default 1,000), BENCH_SCHEMA_ROUNDS (default 10) / BENCH_SCHEMA_VALIDATIONS
// (per round, default 1,000,000), BENCH_SCALE_FIRINGS (scale: seconds of cron per process count, default 30).
// Sections needing PostgreSQL say they could not run when it is not installed.
// Prints; always exits 0 (a benchmark does not fail CI).
import { changeInBench } from './change-in.js';
import type { SectionResult } from './common.js';
import { SECONDS, stopPostgres } from './common.js';
import { cronBench } from './cron.js';
import { deltaBench } from './delta.js';
import { exportBench } from './export.js';
import { runsBench } from './runs.js';
import { scaleBench } from './scale.js';
import { schemaBench } from './schema.js';
import { protectBench } from './protect.js';
import { startupBench } from './startup.js';
import { storeBench } from './store.js';
import { trackingBench } from './tracking.js';
import { webhookBench, webhookPostgresBench } from './webhook.js';
import { workflowBench } from './workflow.js';

const SECTIONS: Record<string, { title: string; run: () => Promise<SectionResult> }> = {
  webhook: { title: 'Webhook in → JSON Schema Validation (SQLite store)', run: webhookBench },
  'webhook-pg': {
    title: 'Webhook in → JSON Schema Validation (PostgreSQL store)',
    run: webhookPostgresBench,
  },
  store: { title: 'Store accept / finishRun vs raw inserts', run: storeBench },
  startup: { title: 'Start-up time and idle RSS', run: startupBench },
  change: { title: 'iMIS change notification in', run: changeInBench },
  export: { title: 'Export Data to URL (CSV, 100,000 rows)', run: exportBench },
  cron: { title: 'Cron firing delay', run: cronBench },
  delta: { title: 'Delta Hash (100,000 × 10 rows, 1% changed)', run: deltaBench },
  runs: { title: 'Runs dashboard and retention (1,000,000 runs, SQLite)', run: runsBench },
  protect: { title: 'Webhook in with HMAC signature check', run: protectBench },
  schema: { title: 'JSON Schema Validation vs plain ajv (in process)', run: schemaBench },
  workflow: { title: 'Integration workflows (SQLite store)', run: workflowBench },
  tracking: {
    title: 'Run tracking on vs off (split 1,000 rows → change → join → Insert Activity)',
    run: trackingBench,
  },
  scale: { title: 'Several Node-RED processes on one PostgreSQL', run: scaleBench },
};

function selected(): string[] {
  const only = (process.env.BENCH_ONLY ?? '').trim().toLowerCase();
  if (only === '' || only === 'all') return Object.keys(SECTIONS);
  const names = only.split(/[\s,|]+/).filter(Boolean);
  const unknown = names.filter((n) => !(n in SECTIONS));
  if (unknown.length) {
    console.log(
      `BENCH_ONLY: unknown section(s) ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`,
    );
  }
  return Object.keys(SECTIONS).filter((n) => names.includes(n));
}

async function main(): Promise<void> {
  const names = selected();
  console.log(
    `iMIS nodes benchmark: ${names.join(', ') || 'nothing selected'} ` +
      `(BENCH_SECONDS=${SECONDS}; Node ${process.version}, ${process.platform}/${process.arch})`,
  );
  const results: { name: string; result?: SectionResult; error?: string }[] = [];
  process.once('exit', stopPostgres); // also when a section throws past this loop
  for (const name of names) {
    const started = Date.now();
    try {
      results.push({ name, result: await SECTIONS[name].run() });
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      console.log(`\n${name}: benchmark could not run: ${message}`);
      results.push({ name, error: message.split('\n')[0] });
    }
    console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  stopPostgres();

  console.log(`\n${'='.repeat(100)}\nSummary\n${'='.repeat(100)}`);
  for (const { name, result, error } of results) {
    const state = error
      ? 'COULD NOT RUN'
      : result?.met === undefined
        ? ''
        : result.met
          ? 'TARGETS MET'
          : 'TARGETS NOT MET';
    console.log(`${SECTIONS[name].title}: ${state}`);
    if (error) console.log(`  ${error}`);
    for (const line of result?.lines ?? []) console.log(`  ${line}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.log(`Benchmark failed: ${(err as Error)?.message ?? String(err)}`);
    process.exit(0);
  },
);
