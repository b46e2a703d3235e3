// Webhook in → JSON Schema Validation against a plain Node-RED `http in` → `http response` flow, both
// in ONE Node-RED (child process, 127.0.0.1, temp user directory). autocannon, 50 connections,
// BENCH_SECONDS per run, runs alternating ref, ours, ref, ours to spread noise.
import autocannon from 'autocannon';
import type { Result } from 'autocannon';
import { randomBytes } from 'node:crypto';
import { NODE_RED_PKG, startNodeRed } from '../test/editor/red-process.js';
import type { RedProcess } from '../test/editor/red-process.js';
import { SECONDS, check, fmt, heading, verdict, referenceFlow } from './common.js';
import type { SectionResult } from './common.js';

const CONNECTIONS = 50;
const TARGET_RATIO = 0.9;
const TARGET_P99_MS = 20;

/** The check-in payload and schema of the iHook tutorial (docs/idms.md §iHook workflow). */
const PAYLOAD = JSON.stringify({
  memberId: '12345',
  eventCode: 'CONF2026',
  checkInTime: '2026-05-27T09:15:00',
  sessionCode: 'KEYNOTE',
});
const SCHEMA = JSON.stringify(
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

const TOKEN = randomBytes(24).toString('base64url');

const flows = [
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
}

function cannon(url: string, duration: number): Promise<Result> {
  return autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration,
    headers: { 'content-type': 'application/json' },
    body: PAYLOAD,
  });
}

export async function webhookBench(): Promise<SectionResult> {
  heading('1. Webhook in → JSON Schema Validation  vs  http in → http response');
  let red: RedProcess | undefined;
  try {
    red = await startNodeRed({ flows, credentials: { 'ours-in': { token: TOKEN } } });
    const targets = { ref: `${red.url}/ref`, ours: `${red.url}/imis/hook/${TOKEN}` };
    console.log(`Node ${process.version}, Node-RED ${red.version} (${NODE_RED_PKG}), ${red.url}`);
    console.log(
      `autocannon: ${CONNECTIONS} connections, ${SECONDS} s per run, POST ${PAYLOAD.length} bytes JSON\n`,
    );

    // Both endpoints answer as expected before measuring (ours rejects an invalid payload).
    await check(targets.ref, PAYLOAD, 200);
    await check(targets.ours, PAYLOAD, 200);
    await check(targets.ours, JSON.stringify({ memberId: 12345 }), 400);

    const warmup = Math.min(2, SECONDS);
    await cannon(targets.ref, warmup);
    await cannon(targets.ours, warmup);

    const rows: Row[] = [];
    console.log(
      `${'run'.padEnd(8)}${'req/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'non-2xx'.padStart(10)}${'errors'.padStart(10)}`,
    );
    for (const target of ['ref', 'ours', 'ref', 'ours'] as const) {
      const result = await cannon(targets[target], SECONDS);
      const row: Row = {
        target,
        reqPerSec: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
      };
      rows.push(row);
      console.log(
        `${target.padEnd(8)}${fmt(row.reqPerSec, 0)}${fmt(row.p50)}${fmt(row.p99)}${String(row.non2xx).padStart(10)}${String(row.errors).padStart(10)}`,
      );
    }

    const of = (t: Row['target']) => rows.filter((r) => r.target === t);
    const meanReqPerSec = (t: Row['target']) => of(t).reduce((sum, r) => sum + r.reqPerSec, 0) / of(t).length;
    const worst = (t: Row['target']) => Math.max(...of(t).map((r) => r.p99));
    const ratio = meanReqPerSec('ours') / meanReqPerSec('ref');
    const worstP99 = worst('ours');
    const failures = of('ours').reduce((sum, r) => sum + r.non2xx + r.errors, 0);
    const ratioOk = ratio >= TARGET_RATIO;
    const p99Ok = worstP99 < TARGET_P99_MS;
    console.log('');
    for (const t of ['ref', 'ours'] as const) {
      console.log(
        `${t.padEnd(5)} mean ${meanReqPerSec(t).toFixed(0)} req/s, worst p99 ${worst(t).toFixed(2)} ms`,
      );
    }
    // Closed loop: every connection waits for its answer, so mean latency ≈ connections / throughput.
    console.log(
      `(${CONNECTIONS} connections at ${meanReqPerSec('ours').toFixed(0)} req/s: mean latency ≈ ${((CONNECTIONS / meanReqPerSec('ours')) * 1000).toFixed(1)} ms by Little's law)`,
    );
    const lines = [
      `ours/ref req/s (mean of runs): ${ratio.toFixed(3)}  target >= ${TARGET_RATIO}: ${verdict(ratioOk)}`,
      `ours p99 (worst run): ${worstP99.toFixed(2)} ms  target < ${TARGET_P99_MS} ms: ${verdict(p99Ok)}`,
    ];
    if (failures > 0) lines.push(`ours: ${failures} non-2xx responses or connection errors (expected 0)`);
    for (const line of lines) console.log(line);
    const met = ratioOk && p99Ok && failures === 0;
    console.log(met ? 'TARGETS MET' : 'TARGETS NOT MET');
    return { lines, met };
  } finally {
    await red?.close();
  }
}
