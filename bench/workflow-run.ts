// The workflow benchmark's measuring process (started by bench/workflow.ts, so that its memory is
// its own): the workflow runtime on the SQLite store, driven directly (no Node-RED), against raw
// better-sqlite3 writes of the very same rows into a second file with the same schema and pragmas.
//
//   N instances (BENCH_WORKFLOW_INSTANCES, default 1,000,000) are created (a message that creates
//   the instance and fires nothing), then moved twice: SUBMIT (On Webhook), then CONFIRM (On
//   Scheduled Poll, final) for 90% and HOLD (On Event) into WAITING for 10%, a state whose timeout
//   (BENCH_WORKFLOW_TIMEOUT_S, default 2 s) fires EXPIRE while the run goes on.
//
// The keys are processed in chunks; each chunk is written by the runtime (up to 1,000 changes in
// flight, as a busy server would have) and then, as the same rows, by raw prepared statements in
// transactions of 1,000 (the runtime's group size), yielding between transactions so that timeouts
// can fire. The timeouts the runtime fires during the run are written by raw at the end (same rows
// again). Timed: the runtime's wall time per chunk (its timeouts included); raw, the transactions
// only. Prints one JSON line with the results.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite.js';
import { WorkflowRuntime } from '../src/workflow/index.js';
import type { TriggerType, WorkflowDefinition, WorkflowEvent } from '../src/workflow/index.js';

const N = Math.max(1000, Math.floor(Number(process.env.BENCH_WORKFLOW_INSTANCES) || 1_000_000));
const TIMEOUT_S = Math.max(0.2, Number(process.env.BENCH_WORKFLOW_TIMEOUT_S) || 2);
const CHUNK = 10_000;
const IN_FLIGHT = 1000;
const TX = 1000;
const CODE = 'BENCH_ORDER';

const definition: WorkflowDefinition = {
  code: CODE,
  enabled: true,
  instanceMode: 'record',
  keyType: 'template',
  key: '{{ input.orderId }}',
  states: [
    { code: 'NEW', initial: true },
    { code: 'SUBMITTED' },
    { code: 'WAITING', timeoutHours: TIMEOUT_S / 3600, onTimeout: 'EXPIRE' },
    { code: 'CONFIRMED', final: true },
    { code: 'FAILED' },
  ],
  transitions: [
    { code: 'SUBMIT', from: 'NEW', to: 'SUBMITTED', trigger: 'webhook' },
    { code: 'CONFIRM', from: 'SUBMITTED', to: 'CONFIRMED', trigger: 'poll' },
    { code: 'HOLD', from: 'SUBMITTED', to: 'WAITING', trigger: 'event' },
    { code: 'EXPIRE', from: 'WAITING', to: 'FAILED', trigger: 'manual' },
  ],
};

const key = (i: number) => `SO-${String(i).padStart(7, '0')}`;
const held = (i: number) => i % 10 === 0;

type Phase = 'create' | 'submit' | 'settle';
const PHASES: Phase[] = ['create', 'submit', 'settle'];

function triggerOf(phase: Phase, i: number): TriggerType {
  if (phase === 'create') return 'import'; // no transition leaves NEW on import: creates only
  if (phase === 'submit') return 'webhook';
  return held(i) ? 'event' : 'poll';
}

/** The raw writer: the rows the runtime writes for each operation, and nothing else. */
function rawWriter(file: string) {
  new SqliteStore({ file }).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const insert = db.prepare(
    `INSERT INTO imis_wf_instances (workflow, key, state, since, created_at, last_trigger, last_transition, due_at, flags, version)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const update = db.prepare(
    `UPDATE imis_wf_instances SET state = ?, since = ?, last_trigger = ?, last_transition = ?, due_at = ?, flags = ?, version = ?
     WHERE workflow = ? AND key = ? AND version = ?`,
  );
  const history = db.prepare(
    `INSERT INTO imis_wf_history (workflow, key, at, kind, from_state, to_state, transition, trigger, actor, run_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const row = (phase: Phase, i: number, now: number) => {
    const k = key(i);
    if (phase === 'create') {
      insert.run(CODE, k, 'NEW', now, now, 'import', null, null, null, 1);
      history.run(CODE, k, now, 'created', null, 'NEW', null, 'import', null, null);
    } else if (phase === 'submit') {
      update.run('SUBMITTED', now, 'webhook', 'SUBMIT', null, null, 2, CODE, k, 1);
      history.run(CODE, k, now, 'transition', 'NEW', 'SUBMITTED', 'SUBMIT', 'webhook', null, null);
    } else {
      const [to, t, trig, due] = held(i)
        ? ['WAITING', 'HOLD', 'event', now + TIMEOUT_S * 1000]
        : ['CONFIRMED', 'CONFIRM', 'poll', null];
      update.run(to, now, trig, t, due, null, 3, CODE, k, 2);
      history.run(CODE, k, now, 'transition', 'SUBMITTED', to, t, trig, null, null);
    }
  };
  const write = db.transaction((phase: Phase, from: number, to: number) => {
    const now = Date.now();
    for (let i = from; i < to; i++) row(phase, i, now);
  });
  /** The timeouts' rows: WAITING → FAILED by EXPIRE, for the held tenth. */
  const expire = db.transaction((from: number, to: number) => {
    const now = Date.now();
    for (let i = from; i < to; i++) {
      if (!held(i)) continue;
      const k = key(i);
      update.run('FAILED', now, 'timeout', 'EXPIRE', null, null, 4, CODE, k, 3);
      history.run(CODE, k, now, 'transition', 'WAITING', 'FAILED', 'EXPIRE', 'timeout', null, null);
    }
  });
  return {
    /** Writes keys [from, to) of `phase` in transactions of TX rows; answers the ms spent writing. */
    async chunk(phase: Phase, from: number, to: number): Promise<number> {
      let spent = 0;
      for (let start = from; start < to; start += TX) {
        const t = performance.now();
        write(phase, start, Math.min(to, start + TX));
        spent += performance.now() - t;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return spent;
    },
    /** Writes the timeouts' rows of keys [from, to); answers the ms spent writing. */
    expired(from: number, to: number): number {
      const t = performance.now();
      for (let start = from; start < to; start += TX * 10) expire(start, Math.min(to, start + TX * 10));
      return performance.now() - t;
    },
    close: () => db.close(),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'imis-bench-workflow-'));
  const store = new SqliteStore({ file: join(dir, 'runtime.db') });
  const runtime = new WorkflowRuntime(store);
  const raw = rawWriter(join(dir, 'raw.db'));
  let peakRss = 0;
  const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  const delays = new Float64Array(Math.ceil(N / 10) + 10);
  let fired = 0;
  runtime.on('change', (e: WorkflowEvent) => {
    if (e.trigger === 'timeout' && e.dueAt !== undefined && fired < delays.length)
      delays[fired++] = e.at - e.dueAt;
  });
  runtime.register(definition);
  await runtime.synced(CODE);
  runtime.start();

  const times: Record<Phase, { ours: number; raw: number }> = {
    create: { ours: 0, raw: 0 },
    submit: { ours: 0, raw: 0 },
    settle: { ours: 0, raw: 0 },
  };
  const started = performance.now();
  let unexpected = 0;
  for (const phase of PHASES) {
    for (let from = 0; from < N; from += CHUNK) {
      const to = Math.min(N, from + CHUNK);
      const t = performance.now();
      let next = from;
      const worker = async () => {
        while (next < to) {
          const i = next++;
          const outcome = await runtime.fire(CODE, { key: key(i), trigger: triggerOf(phase, i) });
          if (phase === 'create' ? !outcome.created : !outcome.fired) unexpected++;
        }
      };
      await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, to - from) }, worker));
      times[phase].ours += performance.now() - t;
      times[phase].raw += await raw.chunk(phase, from, to);
    }
    process.stderr.write(`  ${phase}: ${N} done at ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  }
  const expected = Math.ceil(N / 10);
  const waitUntil = Date.now() + TIMEOUT_S * 1000 + 30_000;
  while (fired < expected && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 50));
  // The runtime fired the timeouts while the run went on (its time is in the chunks above): raw
  // writes the same rows, so that both sides wrote the same.
  const rawExpire = raw.expired(0, N);

  // The Instances view's first page, filtered by state (as GET /imis/workflows/<code>/instances serves it).
  const firstPage: Record<string, number> = {};
  for (const state of ['CONFIRMED', 'FAILED', 'SUBMITTED']) {
    const t = performance.now();
    const page = await runtime.list({ workflow: CODE, state, limit: 50 });
    page.instances.map((i) => ({ ...i, since: new Date(i.since).toISOString() }));
    firstPage[state] = performance.now() - t;
  }
  const counts = await store.workflows.countInstances(CODE);
  clearInterval(sample);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  runtime.stop();
  await store.close();
  raw.close();
  rmSync(dir, { recursive: true, force: true });

  const sorted = Array.from(delays.subarray(0, fired)).sort((a, b) => a - b);
  const pct = (p: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
  const total = (k: 'ours' | 'raw') =>
    PHASES.reduce((s, p) => s + times[p][k], 0) + (k === 'raw' ? rawExpire : 0);
  console.log(
    JSON.stringify({
      instances: N,
      timeoutSeconds: TIMEOUT_S,
      writes: 3 * N + fired,
      oursMs: total('ours'),
      rawMs: total('raw'),
      phases: times,
      timeoutsExpected: expected,
      timeoutsFired: fired,
      delayP50: pct(50),
      delayP99: pct(99),
      delayMax: sorted.length ? sorted[sorted.length - 1] : NaN,
      peakRssMb: peakRss / 1024 / 1024,
      firstPageMs: firstPage,
      counts,
      unexpected,
    }),
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
