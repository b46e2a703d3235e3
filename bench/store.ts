// The store alone (no Node-RED), per engine, against raw inserts of the SAME rows into the SAME
// engine in the same run:
//   accept     Store.accept from BENCH_STORE_CONCURRENCY writers (default 200), each awaiting its
//              commit before writing the next (as webhook callers do): group commit decides the
//              transactions.
//   finishRun  Store.finishRun of each of those inputs (the run written, its input deleted), same
//              writers.
// The reference ("the engine's own limit") writes the same rows, already serialised, as fast as the
// engine takes them from one caller: SQLite a prepared INSERT (on the store's own SQLite engine,
// IMIS_SQLITE_DRIVER: node:sqlite or better-sqlite3) run for each row
// inside one transaction per 1,000 rows; PostgreSQL one multi-row INSERT of 1,000 rows per
// statement (its own transaction) through one pg connection. For finishRun the same, with the
// delete of the input in the same transaction. One row per transaction (no batching) is printed
// beside it, for scale. Each run starts from a fresh database file / database; runs alternate raw,
// store, BENCH_STORE_ROUNDS times (default 2). BENCH_STORE_ROWS rows per run (default 50,000).
//
// Before and after: when BENCH_BASELINE_DIR names a built copy of an older version (see
// bench/startup.ts for making one), its SQLite store and this one are also compared with each other
// in one process (store-before-after.ts): two runs of this section in separate processes differ by
// ±15% on a small VM, more than the few per cent a change to the store's code makes.
import pg from 'pg';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '../src/runs/tracker.js';
import { PostgresStore } from '../src/store/postgres.js';
import { RUN_COLUMNS, inputRow, runRow } from '../src/store/rows.js';
import { MIGRATIONS } from '../src/store/schema.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { openSqlite } from '../src/store/engine/sqlite-driver.js';
import type { SqliteDb } from '../src/store/engine/sqlite-driver.js';
import type { Store } from '../src/store/index.js';
import type { AcceptedInput } from '../src/store/types.js';
import { PG_FSYNC, fmt, heading, mean, postgresDatabase } from './common.js';
import type { SectionResult } from './common.js';

export const ROWS = Math.max(1000, Math.trunc(Number(process.env.BENCH_STORE_ROWS) || 50_000));
export const CONCURRENCY = Math.max(1, Math.trunc(Number(process.env.BENCH_STORE_CONCURRENCY) || 200));
const ROUNDS = Math.max(1, Math.trunc(Number(process.env.BENCH_STORE_ROUNDS) || 2));
const RAW_BATCH = 1000;
/** Rows written one per transaction (for scale only: slow with a real fsync). */
const SINGLE_ROWS = 2000;

const OWNER = randomUUID();
const LEASE_UNTIL = Date.now() + 3_600_000;

/** The webhook benchmark's check-in payload. */
const payload = () => ({
  memberId: '12345',
  eventCode: 'CONF2026',
  checkInTime: '2026-05-27T09:15:00',
  sessionCode: 'KEYNOTE',
});

export function makeInputs(n: number): AcceptedInput[] {
  const acceptedAt = new Date().toISOString();
  return Array.from({ length: n }, () => ({
    id: randomUUID(),
    source: 'bench-in',
    payload: payload(),
    acceptedAt,
  }));
}

/** A finished run of the webhook flow: trigger and schema validation, both ok. */
export function runOf(input: AcceptedInput): RunRecord {
  const at = input.acceptedAt;
  return {
    id: input.id,
    flowId: 'bench-tab',
    trigger: { id: 'bench-in', type: 'imis-webhook-in', name: 'ours' },
    status: 'ok',
    startedAt: at,
    finishedAt: at,
    steps: [
      { id: 'bench-in', type: 'imis-webhook-in', name: 'ours', startedAt: at, finishedAt: at, outcome: 'ok' },
      {
        id: 'bench-validate',
        type: 'imis-schema-validate',
        name: 'check-in schema',
        startedAt: at,
        finishedAt: at,
        outcome: 'ok',
      },
    ],
    input: input.payload,
  };
}

/**
 * The raw runs' rows: the store's own rows (inputRow, runRow), each copied into an array made here.
 * The raw runs keep all ROWS of them until they are written; made by the store's functions, those
 * arrays would teach V8 that the arrays those functions make live long, and V8 would then make the
 * store's own rows in the old generation (allocation-site pretenuring), where each one, garbage
 * once written, keeps its strings alive through every scavenge until the next full GC: the store
 * run that follows would measure the raw runs' traces in the heap, not only the store.
 */
function rawRows(
  inputs: AcceptedInput[],
  runs: RunRecord[],
): { inputRows: unknown[][]; runRows: unknown[][] } {
  return {
    inputRows: inputs.map((i) => [...inputRow(i, OWNER, LEASE_UNTIL)]),
    runRows: runs.map((r) => [...runRow(r)]),
  };
}

/** `concurrency` writers, each awaiting its write before taking the next item; returns seconds. */
export async function writers<T>(
  items: T[],
  concurrency: number,
  write: (item: T) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await write(items[next++]);
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Counts the transactions (groups) a store's group commits write, by wrapping their writers. */
function countGroups(store: Store): { groups: () => number; reset: () => void } {
  let groups = 0;
  const commits = [
    [store.inputs, 'accepts'],
    [store.runs, 'finishes'],
  ] as const;
  for (const [repository, name] of commits) {
    const commit = (repository as unknown as Record<string, { write?: (items: unknown[]) => unknown }>)[name];
    const write = commit?.write;
    if (!commit || typeof write !== 'function') continue;
    commit.write = (items: unknown[]) => {
      groups++;
      return write(items);
    };
  }
  return { groups: () => groups, reset: () => (groups = 0) };
}

export interface Rates {
  accept: number;
  finish: number;
}

interface Measured {
  /** Raw, RAW_BATCH rows per transaction: the engine's own limit (the reference). */
  raw: Rates;
  /** Raw, as many rows per transaction as the store's writers (CONCURRENCY). */
  rawSame: Rates;
  store: Rates & { acceptGroup: number; finishGroup: number };
  /** Raw, one row per transaction. */
  single: Rates;
}

interface Engine {
  name: 'sqlite' | 'postgres';
  /** Raw: rows/s of accepted inputs and of finished runs (fresh database). */
  raw(inputs: AcceptedInput[], runs: RunRecord[], batch: number): Promise<{ accept: number; finish: number }>;
  /** Raw, one row per transaction, over the first SINGLE_ROWS rows. */
  single(inputs: AcceptedInput[], runs: RunRecord[]): Promise<{ accept: number; finish: number }>;
  open(): Promise<{ store: Store; dispose: () => Promise<void> }>;
}

// ----- SQLite -----------------------------------------------------------------------------------

const sqliteDirs: string[] = [];

export function sqliteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'imis-bench-store-'));
  sqliteDirs.push(dir);
  return join(dir, 'imis.db');
}

/** A raw connection set up as the store sets up its own (same engine, WAL, NORMAL), same schema. */
function rawSqlite(): SqliteDb {
  const db = openSqlite(sqliteFile());
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  for (const m of MIGRATIONS) db.exec(m.sqlite);
  return db;
}

/** The SQLite engine the store opens here (IMIS_SQLITE_DRIVER, else the first that loads). */
function sqliteDriverInUse(): string {
  const db = openSqlite(':memory:');
  db.close();
  return db.driver;
}

function sqliteStatements(db: SqliteDb) {
  return {
    insert: db.prepare(
      `INSERT INTO imis_inputs (id, source, payload, extra, accepted_at, owner, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    run: db.prepare(
      `INSERT OR REPLACE INTO imis_runs (${RUN_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    remove: db.prepare(`DELETE FROM imis_inputs WHERE id = ?`),
  };
}

const sqlite: Engine = {
  name: 'sqlite',
  async raw(inputs, runs, batch) {
    const db = rawSqlite();
    try {
      const s = sqliteStatements(db);
      const { inputRows, runRows } = rawRows(inputs, runs);
      const insertMany = db.transaction((rows: unknown[][]) => {
        for (const row of rows) s.insert.run(...row);
      });
      const finishMany = db.transaction((rows: unknown[][]) => {
        for (const row of rows) {
          s.run.run(...row);
          s.remove.run(row[0]);
        }
      });
      let started = performance.now();
      for (let i = 0; i < inputRows.length; i += batch) insertMany(inputRows.slice(i, i + batch));
      const accept = inputRows.length / ((performance.now() - started) / 1000);
      started = performance.now();
      for (let i = 0; i < runRows.length; i += batch) finishMany(runRows.slice(i, i + batch));
      const finish = runRows.length / ((performance.now() - started) / 1000);
      return { accept, finish };
    } finally {
      db.close();
    }
  },
  async single(inputs, runs) {
    const db = rawSqlite();
    try {
      const s = sqliteStatements(db);
      const { inputRows, runRows } = rawRows(inputs.slice(0, SINGLE_ROWS), runs.slice(0, SINGLE_ROWS));
      const finishOne = db.transaction((row: unknown[]) => {
        s.run.run(...row);
        s.remove.run(row[0]);
      });
      let started = performance.now();
      for (const row of inputRows) s.insert.run(...row); // autocommit: one transaction each
      const accept = inputRows.length / ((performance.now() - started) / 1000);
      started = performance.now();
      for (const row of runRows) finishOne(row);
      const finish = runRows.length / ((performance.now() - started) / 1000);
      return { accept, finish };
    } finally {
      db.close();
    }
  },
  async open() {
    const store = new SqliteStore({ file: sqliteFile() });
    return { store, dispose: () => store.close() };
  },
};

// ----- PostgreSQL -------------------------------------------------------------------------------

async function rawPostgres(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await postgresDatabase() });
  await client.connect();
  for (const m of MIGRATIONS) await client.query(m.postgres);
  return client;
}

/** `($1, ..., $7), ($8, ...)` for `rows` rows of `width` columns. */
function placeholders(rows: number, width: number): string {
  const groups: string[] = [];
  for (let r = 0; r < rows; r++) {
    groups.push(`(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`);
  }
  return groups.join(', ');
}

const INSERT_INPUTS = `INSERT INTO imis_inputs (id, source, payload, extra, accepted_at, owner, lease_until) VALUES `;
const INSERT_RUNS = `INSERT INTO imis_runs (${RUN_COLUMNS}) VALUES `;

const postgres: Engine = {
  name: 'postgres',
  async raw(inputs, runs, batch) {
    const client = await rawPostgres();
    try {
      const { inputRows, runRows } = rawRows(inputs, runs);
      let started = performance.now();
      for (let i = 0; i < inputRows.length; i += batch) {
        const rows = inputRows.slice(i, i + batch);
        await client.query(INSERT_INPUTS + placeholders(rows.length, 7), rows.flat());
      }
      const accept = inputRows.length / ((performance.now() - started) / 1000);
      started = performance.now();
      for (let i = 0; i < runRows.length; i += batch) {
        const rows = runRows.slice(i, i + batch);
        await client.query('BEGIN');
        await client.query(INSERT_RUNS + placeholders(rows.length, 10), rows.flat());
        await client.query(`DELETE FROM imis_inputs WHERE id = ANY($1)`, [rows.map((r) => r[0])]);
        await client.query('COMMIT');
      }
      const finish = runRows.length / ((performance.now() - started) / 1000);
      return { accept, finish };
    } finally {
      await client.end();
    }
  },
  async single(inputs, runs) {
    const client = await rawPostgres();
    try {
      const { inputRows, runRows } = rawRows(inputs.slice(0, SINGLE_ROWS), runs.slice(0, SINGLE_ROWS));
      let started = performance.now();
      for (const row of inputRows) await client.query(INSERT_INPUTS + placeholders(1, 7), row);
      const accept = inputRows.length / ((performance.now() - started) / 1000);
      started = performance.now();
      for (const row of runRows) {
        await client.query('BEGIN');
        await client.query(INSERT_RUNS + placeholders(1, 10), row);
        await client.query(`DELETE FROM imis_inputs WHERE id = $1`, [row[0]]);
        await client.query('COMMIT');
      }
      const finish = runRows.length / ((performance.now() - started) / 1000);
      return { accept, finish };
    } finally {
      await client.end();
    }
  },
  async open() {
    const store = await PostgresStore.open({ url: await postgresDatabase() });
    return { store, dispose: () => store.close() };
  },
};

/** Removes the section's database files. */
export function removeSqliteFiles(): void {
  for (const dir of sqliteDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * The SQLite store of `baselineDir` against this one (store-before-after.ts), in a process of its
 * own: in this one, the raw runs above have already run this build's row and transaction code, and
 * V8 has adapted it to them (e.g. allocation sites that now allocate in the old generation), which
 * would favour the baseline.
 */
function beforeAndAfter(baselineDir: string): string[] {
  const out = execFileSync(process.execPath, [join(__dirname, 'store-before-after.js'), baselineDir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(out);
  return out.split('\n').filter((l) => l.startsWith('sqlite before/after'));
}

// ----- The section ------------------------------------------------------------------------------

async function measureEngine(engine: Engine): Promise<Measured> {
  const rounds: Omit<Measured, 'single'>[] = [];
  const row = (label: string, r: Rates, perTxn: string) =>
    console.log(`${label.padEnd(26)}${fmt(r.accept, 0, 12)}${fmt(r.finish, 0, 12)}${perTxn.padStart(14)}`);
  console.log(
    `${'run'.padEnd(26)}${'accept/s'.padStart(12)}${'finish/s'.padStart(12)}${'rows/txn'.padStart(14)}`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    let inputs = makeInputs(ROWS);
    const raw = await engine.raw(inputs, inputs.map(runOf), RAW_BATCH);
    row(`raw, ${RAW_BATCH} rows/txn`, raw, `${RAW_BATCH}`);
    inputs = makeInputs(ROWS);
    const rawSame = await engine.raw(inputs, inputs.map(runOf), CONCURRENCY);
    row(`raw, ${CONCURRENCY} rows/txn`, rawSame, `${CONCURRENCY}`);

    inputs = makeInputs(ROWS);
    const finished = inputs.map(runOf);
    const { store, dispose } = await engine.open();
    let result: Measured['store'];
    try {
      const groups = countGroups(store);
      const acceptSeconds = await writers(inputs, CONCURRENCY, (input) => store.inputs.accept(input));
      const acceptGroup = ROWS / groups.groups();
      groups.reset();
      const finishSeconds = await writers(finished, CONCURRENCY, (run) => store.runs.finish(run));
      result = {
        accept: ROWS / acceptSeconds,
        finish: ROWS / finishSeconds,
        acceptGroup,
        finishGroup: ROWS / groups.groups(),
      };
    } finally {
      await dispose();
    }
    row(
      `store, ${CONCURRENCY} writers`,
      result,
      `${result.acceptGroup.toFixed(0)} / ${result.finishGroup.toFixed(0)}`,
    );
    rounds.push({ raw, rawSame, store: result });
  }
  const some = makeInputs(SINGLE_ROWS);
  const single = await engine.single(some, some.map(runOf));
  row(`raw, 1 row/txn (${SINGLE_ROWS})`, single, '1');
  const avg = (pick: (m: Omit<Measured, 'single'>) => Rates): Rates => ({
    accept: mean(rounds.map((m) => pick(m).accept)),
    finish: mean(rounds.map((m) => pick(m).finish)),
  });
  return {
    raw: avg((m) => m.raw),
    rawSame: avg((m) => m.rawSame),
    store: {
      ...avg((m) => m.store),
      acceptGroup: mean(rounds.map((m) => m.store.acceptGroup)),
      finishGroup: mean(rounds.map((m) => m.store.finishGroup)),
    },
    single,
  };
}

export async function storeBench(): Promise<SectionResult> {
  heading('Store: accept and finishRun  vs  raw inserts of the same rows into the same engine');
  console.log(
    `${ROWS} rows per run, ${ROUNDS} rounds, store writers: ${CONCURRENCY} concurrent; ` +
      `raw (the reference): one caller, ${RAW_BATCH} rows per transaction (SQLite: prepared INSERT ` +
      `per row in a transaction; PostgreSQL: one multi-row INSERT), rows serialised beforehand; ` +
      `fresh database each run`,
  );
  const lines: string[] = [];
  try {
    for (const engine of [sqlite, postgres]) {
      console.log(
        `\n${engine.name === 'sqlite' ? `SQLite through ${sqliteDriverInUse()} (WAL, synchronous=NORMAL, file in the temp folder)` : `PostgreSQL (throwaway server on 127.0.0.1, fsync ${PG_FSYNC ? 'on' : 'off'})`}`,
      );
      let m: Measured;
      try {
        m = await measureEngine(engine);
      } catch (err) {
        const message = `${engine.name}: could not run: ${(err as Error).message.split('\n')[0]}`;
        console.log(message);
        lines.push(message);
        continue;
      }
      const line = (what: string, key: keyof Rates, group: number) =>
        `${engine.name}: ${what} ${m.store[key].toFixed(0)}/s = ${(m.store[key] / m.raw[key]).toFixed(3)} × raw ` +
        `${m.raw[key].toFixed(0)}/s (${RAW_BATCH}/txn); ${(m.store[key] / m.rawSame[key]).toFixed(3)} × raw ` +
        `at the store's ${group.toFixed(0)} rows/txn; ${(m.store[key] / m.single[key]).toFixed(1)} × raw 1 row/txn`;
      for (const l of [
        line('accept', 'accept', m.store.acceptGroup),
        line('finishRun', 'finish', m.store.finishGroup),
      ]) {
        console.log(l);
        lines.push(l);
      }
    }
    const baseline = process.env.BENCH_BASELINE_DIR;
    if (baseline) lines.push(...beforeAndAfter(baseline));
  } finally {
    removeSqliteFiles();
  }
  return { lines };
}
