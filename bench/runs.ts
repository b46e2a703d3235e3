// The Runs dashboard over BENCH_RUNS_ROWS stored runs (default 1,000,000) in the embedded SQLite store:
//   dashboard  the first page (100 runs) the dashboard asks for, measured directly through the
//              store's listRuns (and countRuns), not over HTTP: for a status filter, a flow and
//              status filter, and a business-key search, against the reference of the same store
//              in the same run: the first page with no filter at all (the newest 100, the
//              cheapest query there is). Target: each < 200 ms (slowest of BENCH_RUNS_REPEAT
//              warm runs; the cold first run printed beside it). Free-text search and the counts
//              are printed, not judged.
//   prune      webhook acceptance (Webhook in → JSON Schema Validation in a Node-RED child, the
//              webhook section's flow, autocannon) while the child prunes a backlog of 90% of those
//              runs, older than the retention's 30 days (it starts pruning as its store opens), vs
//              a child on the same store whose retention keeps them all (run first, nothing to
//              prune). Target: p99 during ≤ 1.5 × p99 without.
// The runs are written by the store's own row format (rows.ts runRow) with one prepared INSERT in
// transactions of 50,000 rows, not one by one through the store's API.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord, RunStatus } from '../src/runs/tracker.js';
import { RUN_COLUMNS, runRow } from '../src/store/rows.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { RunQuery } from '../src/store/types.js';
import { NODE_RED_PKG, startNodeRed } from '../test/editor/red-process.js';
import type { RedProcess } from '../test/editor/red-process.js';
import { SECONDS, check, fmt, heading, percentile, verdict } from './common.js';
import type { SectionResult } from './common.js';
import { PAYLOAD, TOKEN, cannon, flows } from './webhook.js';

const ROWS = Math.max(10_000, Math.trunc(Number(process.env.BENCH_RUNS_ROWS) || 1_000_000));
const REPEAT = Math.max(1, Math.trunc(Number(process.env.BENCH_RUNS_REPEAT) || 10));
const DAY = 24 * 60 * 60 * 1000;
const FLOWS = 10;
const MAX_PAGE_MS = 200;
const MAX_P99_RATIO = 1.5;
/** The share of the runs older than the retention (30 days): the prune's backlog. */
const OLD_SHARE = 0.9;

const STATUSES: RunStatus[] = ['ok', 'failed', 'unfinished'];
/** 94% succeeded, 5% failed, 1% unfinished. */
const statusOf = (n: number): RunStatus =>
  n % 100 < 94 ? STATUSES[0] : n % 100 < 99 ? STATUSES[1] : STATUSES[2];

/** Run n of ROWS: the oldest 90% between 60 and 31 days ago, the rest in the last 29 days. */
function runOf(n: number, now: number): RunRecord {
  const old = n < ROWS * OLD_SHARE;
  const startedAt = old
    ? now - 60 * DAY + Math.floor((n / (ROWS * OLD_SHARE)) * 29 * DAY)
    : now - 29 * DAY + Math.floor(((n - ROWS * OLD_SHARE) / (ROWS * (1 - OLD_SHARE))) * 29 * DAY);
  const status = statusOf(n);
  const at = new Date(startedAt).toISOString();
  const end = new Date(startedAt + 40 + (n % 200)).toISOString();
  const memberId = String(100_000 + (n % 50_000));
  return {
    id: randomUUID(),
    flowId: `flow-${n % FLOWS}`,
    trigger: { id: `hook-${n % FLOWS}`, type: 'imis-webhook-in', name: 'check-in' },
    status,
    startedAt: at,
    finishedAt: status === 'unfinished' ? undefined : end,
    ...(status === 'failed' ? { error: `iMIS answered 503 for member ${memberId}` } : {}),
    steps: [
      { id: `hook-${n % FLOWS}`, type: 'imis-webhook-in', startedAt: at, finishedAt: at, outcome: 'ok' },
      {
        id: `insert-${n % FLOWS}`,
        type: 'imis-insert-activity',
        name: 'attendance',
        startedAt: at,
        finishedAt: end,
        outcome: status === 'failed' ? 'failed' : 'ok',
      },
    ],
    input: { memberId, eventCode: 'CONF2026', checkInTime: at, sessionCode: `S${n % 37}` },
    businessKey: `M${memberId}`,
  };
}

/** Fills `file` with ROWS runs; returns the seconds it took. */
async function fill(file: string): Promise<number> {
  const started = Date.now();
  await new SqliteStore({ file }).close(); // the schema, by the store's own migrations
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    `INSERT INTO imis_runs (${RUN_COLUMNS})
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const batch = db.transaction((from: number, to: number, now: number) => {
    for (let n = from; n < to; n++) insert.run(...runRow(runOf(n, now)));
  });
  const now = Date.now();
  for (let n = 0; n < ROWS; n += 50_000) batch(n, Math.min(ROWS, n + 50_000), now);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return (Date.now() - started) / 1000;
}

interface Timing {
  cold: number;
  p50: number;
  max: number;
  rows: number;
}

async function time(what: () => Promise<number>): Promise<Timing> {
  const t0 = performance.now();
  const rows = await what();
  const cold = performance.now() - t0;
  const warm: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now();
    await what();
    warm.push(performance.now() - t);
  }
  return { cold, p50: percentile(warm, 50), max: Math.max(...warm), rows };
}

async function dashboard(file: string): Promise<{ lines: string[]; met: boolean }> {
  const store = new SqliteStore({ file, backgroundCheckpoints: false });
  const page = (query: RunQuery) => () => store.runs.list({ limit: 100, ...query }).then((p) => p.runs.length);
  const cases: { name: string; query: RunQuery; judged: boolean }[] = [
    { name: 'no filter (reference)', query: {}, judged: false },
    { name: 'status failed', query: { status: 'failed' }, judged: true },
    { name: 'status unfinished', query: { status: 'unfinished' }, judged: true },
    { name: 'status succeeded', query: { status: 'ok' }, judged: true },
    { name: 'flow + status failed', query: { flowId: 'flow-4', status: 'failed' }, judged: true },
    { name: 'flow + status, no match', query: { flowId: 'flow-3', status: 'failed' }, judged: true },
    { name: 'business key M123456', query: { businessKey: 'M123456' }, judged: true },
    { name: 'business key, no match', query: { businessKey: 'M999999' }, judged: true },
    { name: 'text "CONF2026" (in every input)', query: { text: 'CONF2026' }, judged: false },
    { name: 'text "member 123456" (one window)', query: { text: 'member 123456' }, judged: false },
    { name: 'text, no match (one window)', query: { text: 'no-such-text' }, judged: false },
  ];
  console.log(
    `${'first page (100 runs)'.padEnd(36)}${'rows'.padStart(6)}${'cold ms'.padStart(10)}${'p50 ms'.padStart(10)}${'max ms'.padStart(10)}${'/ ref'.padStart(8)}`,
  );
  const lines: string[] = [];
  let met = true;
  let ref = NaN;
  for (const c of cases) {
    const t = await time(page(c.query));
    if (Number.isNaN(ref)) ref = t.p50;
    const ok = t.max < MAX_PAGE_MS;
    if (c.judged) met &&= ok;
    console.log(
      `${c.name.padEnd(36)}${String(t.rows).padStart(6)}${fmt(t.cold)}${fmt(t.p50)}${fmt(t.max)}${fmt(t.p50 / ref, 1, 8)}` +
        (c.judged ? `  ${verdict(ok)}` : ''),
    );
    if (c.judged || c.name.startsWith('text'))
      lines.push(
        `first page, ${c.name}: p50 ${t.p50.toFixed(1)} ms, max ${t.max.toFixed(1)} ms (${(t.p50 / ref).toFixed(1)}× unfiltered)` +
          (c.judged ? `  target < ${MAX_PAGE_MS} ms: ${verdict(ok)}` : '  (not judged)'),
      );
  }
  for (const [name, query] of [
    ['counts, no filter', {}],
    ['counts, one flow', { flowId: 'flow-3' }],
    ['counts, one business key', { businessKey: 'M123456' }],
  ] as [string, RunQuery][]) {
    const t = await time(() =>
      store.runs.count(query).then((c) => c.ok + c.failed + c.unfinished + c.running),
    );
    console.log(
      `${name.padEnd(36)}${String(t.rows).padStart(8)}${fmt(t.cold, 2, 8)}${fmt(t.p50)}${fmt(t.max)}${fmt(t.p50 / ref, 1, 8)}`,
    );
    lines.push(`${name}: p50 ${t.p50.toFixed(1)} ms (not judged)`);
  }
  await store.close();
  return { lines, met };
}

/** Rows older than `cutoff` still in the store (0: the prune is over). */
function backlog(file: string, cutoff: number): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare(`SELECT COUNT(*) AS n FROM imis_runs WHERE started_at < ?`).get(cutoff) as {
      n: number;
    };
    return row.n;
  } finally {
    db.close();
  }
}

/** One autocannon run against a Node-RED child on the 1,000,000-run store, with these retention settings. */
async function acceptance(
  dir: string,
  runs: Record<string, number>,
  during?: () => void,
): Promise<{ result: Awaited<ReturnType<typeof cannon>>; version: string }> {
  let red: RedProcess | undefined;
  const savedUrl = process.env.IMIS_STORE_URL;
  delete process.env.IMIS_STORE_URL;
  try {
    red = await startNodeRed({
      flows,
      credentials: { 'ours-in': { token: TOKEN } },
      settings: { imisDataDir: dir, imis: { runs } },
    });
    const url = `${red.url}/imis/hook/${TOKEN}`;
    await check(url, PAYLOAD, 200);
    during?.();
    return { result: await cannon(url, SECONDS), version: red.version };
  } finally {
    await red?.close();
    if (savedUrl !== undefined) process.env.IMIS_STORE_URL = savedUrl;
  }
}

/**
 * The reference first: a child whose retention keeps every run (nothing to prune); then a child
 * with the default age (30 days), which starts pruning the backlog as its store opens.
 */
async function pruneStall(dir: string, file: string): Promise<{ lines: string[]; met: boolean }> {
  const cutoff = Date.now() - 30 * DAY;
  const keepAll = { maxAgeDays: 3650, maxCount: ROWS * 2 };
  const without = await acceptance(dir, keepAll);
  console.log(
    `Node-RED ${without.version} (${NODE_RED_PKG}); autocannon 50 connections, ${SECONDS} s per run`,
  );
  let before = 0;
  const during = await acceptance(dir, { maxCount: ROWS * 2 }, () => (before = backlog(file, cutoff)));
  const after = backlog(file, cutoff);
  console.log(`backlog older than 30 days: ${before} rows when the run started, ${after} when it ended`);
  const pruning = after > 0 && after < before;
  const ratio = during.result.latency.p99 / without.result.latency.p99;
  const failures = [during, without].reduce((n, r) => n + r.result.non2xx + r.result.errors, 0);
  for (const [name, { result: r }] of [
    ['no prune', without],
    ['during prune', during],
  ] as const) {
    console.log(
      `${name.padEnd(14)}${fmt(r.requests.average, 0)} req/s  p50 ${fmt(r.latency.p50)} ms  p99 ${fmt(r.latency.p99)} ms  non-2xx ${r.non2xx}  errors ${r.errors}`,
    );
  }
  const ok = pruning && ratio <= MAX_P99_RATIO && failures === 0;
  const line =
    `webhook p99 during a prune (${before - after} old runs went) / without: ${during.result.latency.p99.toFixed(2)} / ` +
    `${without.result.latency.p99.toFixed(2)} ms = ${ratio.toFixed(2)}  target <= ${MAX_P99_RATIO}: ${verdict(ok)}` +
    (pruning ? '' : ' (no prune ran during the measured run)') +
    (failures ? ` (${failures} failed requests)` : '');
  console.log(line);
  return { lines: [line], met: ok };
}

export async function runsBench(): Promise<SectionResult> {
  heading(`Runs dashboard and retention over ${ROWS.toLocaleString('en')} stored runs (SQLite)`);
  const dir = mkdtempSync(join(tmpdir(), 'imis-bench-runs-'));
  const file = join(dir, 'imis.db');
  try {
    const seconds = await fill(file);
    console.log(
      `${ROWS.toLocaleString('en')} runs written in ${seconds.toFixed(1)} s (runRow, one INSERT, 50,000 per transaction)\n`,
    );
    console.log(
      `1. Dashboard queries, directly through SqliteStore.listRuns / countRuns (${REPEAT} warm runs after a cold one)`,
    );
    const pages = await dashboard(file);
    console.log(
      `\n2. Webhook acceptance while the retention prunes ${Math.round(ROWS * OLD_SHARE).toLocaleString('en')} old runs`,
    );
    const prune = await pruneStall(dir, file);
    return { lines: [...pages.lines, ...prune.lines], met: pages.met && prune.met };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
