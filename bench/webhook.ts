// Webhook in → JSON Schema Validation against a plain Node-RED `http in` → `http response` flow, both
// in ONE Node-RED (child process, 127.0.0.1, temp user directory), once per store engine: SQLite
// (the default: a file in the user directory) and PostgreSQL (a throwaway server on 127.0.0.1, set
// in the child's settings as `imis: { store: { url } }`). autocannon, 50 connections, BENCH_SECONDS
// per run, BENCH_ROUNDS rounds of ref, ours (default 3) to spread noise over both. Besides req/s and
// p99 (the targets), the Node-RED child's CPU time per request (all threads, /proc), which a busy
// machine disturbs far less than it disturbs req/s and latency.
import autocannon from 'autocannon';
import type { Result } from 'autocannon';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { NODE_RED_PKG, startNodeRed } from '../test/editor/red-process.js';
import type { RedProcess } from '../test/editor/red-process.js';
import {
  PG_FSYNC,
  SECONDS,
  check,
  cpuTicks,
  fmt,
  heading,
  mean,
  postgresDatabase,
  redPid,
  verdict,
  waitIdle,
  referenceFlow,
} from './common.js';
import type { SectionResult } from './common.js';

const CONNECTIONS = 50;
const ROUNDS = Math.max(1, Math.trunc(Number(process.env.BENCH_ROUNDS) || 3));

interface Variant {
  engine: 'sqlite' | 'postgres';
  /** ours/ref req/s at least this. */
  minRatio: number;
  /** ours p99 / ref p99 at most this (undefined: printed, not judged). */
  maxP99Ratio?: number;
}

const SQLITE: Variant = { engine: 'sqlite', minRatio: 0.9, maxP99Ratio: 1.2 };
const POSTGRES: Variant = { engine: 'postgres', minRatio: 0.7 };

/** The check-in payload and schema of the iHook tutorial (docs/idms.md §iHook workflow). */
export const PAYLOAD = JSON.stringify({
  memberId: '12345',
  eventCode: 'CONF2026',
  checkInTime: '2026-05-27T09:15:00',
  sessionCode: 'KEYNOTE',
});
export const SCHEMA = JSON.stringify(
  {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: {
      memberId: { type: 'string' },
      eventCode: { type: 'string' },
      checkInTime: { type: 'string', format: 'date-time' },
      sessionCode: { type: 'string' },
    },
    required: ['memberId', 'eventCode', 'checkInTime'],
  },
  null,
  4,
);

export const TOKEN = randomBytes(24).toString('base64url');

/** The benchmark's flow: the reference (POST /ref) and ours (Webhook in `ours-in` → schema validation). */
export const flows = [
  { id: 'bench-tab', type: 'tab', label: 'Benchmark' },
  // (a) reference: plain Node-RED.
  ...referenceFlow('bench-tab'),
  // (b) ours: the iHook pattern's first two steps.
  {
    id: 'ours-in',
    type: 'imis-webhook-in',
    z: 'bench-tab',
    name: 'ours',
    return202: false,
    omitBody: false,
    metadataProp: '',
    maxBodyKb: 1024,
    cfgVersion: 1,
    x: 120,
    y: 140,
    wires: [['ours-validate']],
  },
  {
    id: 'ours-validate',
    type: 'imis-schema-validate',
    z: 'bench-tab',
    name: 'check-in schema',
    schema: SCHEMA,
    schemaSource: 'config',
    property: 'payload',
    onInvalid: 'error',
    outputs: 1,
    cfgVersion: 1,
    x: 340,
    y: 140,
    wires: [[]],
  },
];

interface Row {
  target: 'ref' | 'ours';
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU time of the Node-RED child (all its threads) per request, µs: less sensitive to a busy machine. */
  cpuUs: number;
}

export function cannon(url: string, duration: number): Promise<Result> {
  return autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration,
    headers: { 'content-type': 'application/json' },
    body: PAYLOAD,
  });
}

/** With the embedded SQLite store (the default), in the child's user directory. */
export function webhookBench(): Promise<SectionResult> {
  return measure(
    SQLITE,
    '1. Webhook in → JSON Schema Validation (SQLite store)  vs  http in → http response',
  );
}

/** With a PostgreSQL store (a throwaway server on 127.0.0.1). */
export function webhookPostgresBench(): Promise<SectionResult> {
  return measure(
    POSTGRES,
    '1b. Webhook in → JSON Schema Validation (PostgreSQL store)  vs  http in → http response',
  );
}

/** Throws unless the Node-RED child really uses the store of `variant`. */
async function storeInUse(
  variant: Variant,
  red: RedProcess,
  settings: Record<string, unknown>,
): Promise<void> {
  if (variant.engine === 'sqlite') {
    if (!existsSync(join(red.userDir, 'imis-data', 'imis.db'))) {
      throw new Error(`no SQLite store in ${red.userDir}/imis-data:\n${red.output()}`);
    }
    return;
  }
  const url = (settings as { imis: { store: { url: string } } }).imis.store.url;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The accepted check-in above is in the database (committed before the 200).
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM imis_inputs');
    const { rows: runs } = await client.query<{ n: string }>('SELECT count(*) AS n FROM imis_runs');
    if (Number(rows[0].n) + Number(runs[0].n) === 0) throw new Error('nothing in imis_inputs or imis_runs');
  } catch (err) {
    throw new Error(`the PostgreSQL store is not in use: ${(err as Error).message}\n${red.output()}`, {
      cause: err,
    });
  } finally {
    await client.end();
  }
}

async function measure(variant: Variant, title: string): Promise<SectionResult> {
  heading(title);
  let settings: Record<string, unknown> = {};
  if (variant.engine === 'postgres') {
    const url = await postgresDatabase();
    settings = { imis: { store: { url } } };
    console.log(
      `PostgreSQL: throwaway server on 127.0.0.1, fsync ${PG_FSYNC ? 'on' : 'off'} (BENCH_PG_FSYNC)`,
    );
  }
  let red: RedProcess | undefined;
  // The SQLite variant must not pick up a PostgreSQL URL from this shell's environment.
  const savedUrl = process.env.IMIS_STORE_URL;
  delete process.env.IMIS_STORE_URL;
  try {
    red = await startNodeRed({ flows, credentials: { 'ours-in': { token: TOKEN } }, settings });
    const targets = { ref: `${red.url}/ref`, ours: `${red.url}/imis/hook/${TOKEN}` };
    console.log(`Node ${process.version}, Node-RED ${red.version} (${NODE_RED_PKG}), ${red.url}`);
    console.log(
      `autocannon: ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds, POST ${PAYLOAD.length} bytes JSON\n`,
    );

    // Both endpoints answer as expected before measuring (ours rejects an invalid payload).
    await check(targets.ref, PAYLOAD, 200);
    await check(targets.ours, PAYLOAD, 200);
    await check(targets.ours, JSON.stringify({ memberId: 12345 }), 400);
    await storeInUse(variant, red, settings);
    const pid = redPid(red);

    const warmup = Math.min(2, SECONDS);
    await cannon(targets.ref, warmup);
    await cannon(targets.ours, warmup);

    const rows: Row[] = [];
    console.log(
      `${'run'.padEnd(8)}${'req/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'non-2xx'.padStart(10)}${'errors'.padStart(10)}${'CPU µs/req'.padStart(12)}`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of ['ref', 'ours'] as const) {
        await waitIdle(pid, 5000);
        const ticksBefore = pid === undefined ? undefined : cpuTicks(pid);
        const result = await cannon(targets[target], SECONDS);
        const ticksAfter = pid === undefined ? undefined : cpuTicks(pid);
        const cpuUs =
          ticksBefore === undefined || ticksAfter === undefined
            ? NaN
            : ((ticksAfter - ticksBefore) * 10_000) / Math.max(1, result.requests.total);
        const row: Row = {
          cpuUs,
          target,
          reqPerSec: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          non2xx: result.non2xx,
          errors: result.errors,
        };
        rows.push(row);
        console.log(
          `${target.padEnd(8)}${fmt(row.reqPerSec, 0)}${fmt(row.p50)}${fmt(row.p99)}${String(row.non2xx).padStart(10)}${String(row.errors).padStart(10)}${fmt(row.cpuUs, 0, 12)}`,
        );
      }
    }

    const of = (t: Row['target']) => rows.filter((r) => r.target === t);
    const reqPerSec = (t: Row['target']) => mean(of(t).map((r) => r.reqPerSec));
    const p99 = (t: Row['target']) => mean(of(t).map((r) => r.p99));
    const worst = (t: Row['target']) => Math.max(...of(t).map((r) => r.p99));
    const ratio = reqPerSec('ours') / reqPerSec('ref');
    const p99Ratio = p99('ours') / p99('ref');
    const cpu = (t: Row['target']) => mean(of(t).map((r) => r.cpuUs));
    const failures = of('ours').reduce((sum, r) => sum + r.non2xx + r.errors, 0);
    const ratioOk = ratio >= variant.minRatio;
    const p99Ok = variant.maxP99Ratio === undefined || p99Ratio <= variant.maxP99Ratio;
    console.log('');
    for (const t of ['ref', 'ours'] as const) {
      console.log(
        `${t.padEnd(5)} mean ${reqPerSec(t).toFixed(0)} req/s, p99 mean of runs ${p99(t).toFixed(2)} ms (worst ${worst(t).toFixed(2)} ms), ` +
          `Node-RED CPU ${cpu(t).toFixed(0)} µs/request`,
      );
    }
    // Closed loop: every connection waits for its answer, so mean latency ≈ connections / throughput.
    console.log(
      `(${CONNECTIONS} connections at ${reqPerSec('ours').toFixed(0)} req/s: mean latency ≈ ${((CONNECTIONS / reqPerSec('ours')) * 1000).toFixed(1)} ms by Little's law)`,
    );
    const lines = [
      `${variant.engine}: ours/ref req/s (mean of runs): ${ratio.toFixed(3)}  target >= ${variant.minRatio}: ${verdict(ratioOk)}`,
      `${variant.engine}: ours/ref p99 (mean of runs' p99): ${p99('ours').toFixed(2)} / ${p99('ref').toFixed(2)} ms = ${p99Ratio.toFixed(3)}` +
        (variant.maxP99Ratio === undefined
          ? '  (no target)'
          : `  target <= ${variant.maxP99Ratio}: ${verdict(p99Ok)}`),
    ];
    lines.push(
      `${variant.engine}: Node-RED CPU per request ours/ref: ${cpu('ours').toFixed(0)} / ${cpu('ref').toFixed(0)} µs = ${(cpu('ours') / cpu('ref')).toFixed(3)}  (no target; steadier than req/s on a busy machine)`,
    );
    if (failures > 0) lines.push(`ours: ${failures} non-2xx responses or connection errors (expected 0)`);
    for (const line of lines) console.log(line);
    const met = ratioOk && p99Ok && failures === 0;
    console.log(met ? 'TARGETS MET' : 'TARGETS NOT MET');
    return { lines, met };
  } finally {
    if (savedUrl !== undefined) process.env.IMIS_STORE_URL = savedUrl;
    await red?.close();
  }
}
