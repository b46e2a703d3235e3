// iMIS change notification in (`POST /imis/notify/<token>`, Event Grid batches) against a plain
// Node-RED `http in` → `http response` flow in the SAME Node-RED, same run. Every event carries a
// unique id (the node drops duplicate deliveries), generated per request by autocannon's
// setupRequest, for the reference too, so both sides get the same kind of body at the same cost to
// the client. Runs alternate ref, batch of 1, batch of 50, twice.
import autocannon from 'autocannon';
import type { Result } from 'autocannon';
import { randomBytes } from 'node:crypto';
import { NODE_RED_PKG, startNodeRed } from '../test/editor/red-process.js';
import type { RedProcess } from '../test/editor/red-process.js';
import {
  SECONDS,
  check,
  fmt,
  heading,
  mean,
  memoryOf,
  redPid,
  verdict,
  waitIdle,
  referenceFlow,
} from './common.js';
import type { SectionResult } from './common.js';

const CONNECTIONS = 50;
const TARGET_RATIO = 0.9;
const BATCH = 50;

const TOKEN = randomBytes(24).toString('base64url');

// Event ids shaped like the GUIDs Event Grid sends: a random prefix for this bench run, then a counter.
const ID_PREFIX = (() => {
  const h = randomBytes(10).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(12, 15)}-8${h.slice(15, 18)}-`;
})();
let sequence = 0;
const nextId = () => ID_PREFIX + (++sequence).toString(16).padStart(12, '0');

function eventJson(id: string, time: string): string {
  return (
    `{"id":"${id}","eventType":"Party.Updated","subject":"Party/101","eventTime":"${time}",` +
    `"dataVersion":"1.0","metadataVersion":"1",` +
    `"data":{"EntityTypeName":"Party","Action":"Updated","Identity":"101"}}`
  );
}

/** A JSON array of `count` events, each with a new id. */
function batchBody(count: number): string {
  const time = new Date().toISOString();
  const events: string[] = [];
  for (let i = 0; i < count; i++) events.push(eventJson(nextId(), time));
  return `[${events.join(',')}]`;
}

const flows = [
  { id: 'bench-tab', type: 'tab', label: 'Benchmark: change notifications' },
  // (a) reference: plain Node-RED.
  ...referenceFlow('bench-tab'),
  // (b) ours: every event starts a run (committed to the store, tracked), wired to nothing.
  {
    id: 'notify-in',
    type: 'imis-change-in',
    z: 'bench-tab',
    name: 'ours',
    server: '',
    eventTypes: [],
    includeFullRecord: false,
    recordProp: 'record',
    metadataProp: '',
    dropDuplicates: true,
    cfgVersion: 1,
    x: 120,
    y: 140,
    wires: [[]],
  },
];

type Target = 'ref' | 'ours×1' | `ours×${typeof BATCH}`;

interface Row {
  target: Target;
  reqPerSec: number;
  eventsPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  duplicates: number;
}

interface Counts {
  accepted: number;
  duplicates: number;
  ok: number;
}

async function cannon(
  url: string,
  batch: number,
  duration: number,
  ours: boolean,
): Promise<[Result, Counts]> {
  const counts: Counts = { accepted: 0, duplicates: 0, ok: 0 };
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          request.body = batchBody(batch);
          return request;
        },
        onResponse: (status, body) => {
          if (status < 200 || status >= 300) return;
          counts.ok++;
          if (!ours) return;
          counts.accepted += Number(/"accepted":(\d+)/.exec(body)?.[1] ?? 0);
          counts.duplicates += Number(/"duplicates":(\d+)/.exec(body)?.[1] ?? 0);
        },
      },
    ],
  });
  if (!ours) counts.accepted = counts.ok * batch;
  return [result, counts];
}

export async function changeInBench(): Promise<SectionResult> {
  heading('2. iMIS change notification in (Event Grid POST)  vs  http in → http response');
  let red: RedProcess | undefined;
  try {
    red = await startNodeRed({ flows, credentials: { 'notify-in': { token: TOKEN } } });
    const urls = { ref: `${red.url}/ref`, ours: `${red.url}/imis/notify/${TOKEN}` };
    console.log(`Node ${process.version}, Node-RED ${red.version} (${NODE_RED_PKG}), ${red.url}`);
    const single = batchBody(1);
    console.log(
      `autocannon: ${CONNECTIONS} connections, ${SECONDS} s per run; body = JSON array of Party.Updated events,` +
        ` each with a new id (${single.length} bytes for 1 event, ~${batchBody(BATCH).length} bytes for ${BATCH})`,
    );
    console.log(
      `ours: imis-change-in {eventTypes: [], includeFullRecord: false, dropDuplicates: true}, output wired to` +
        ` nothing (each event is committed to the store and starts a tracked run); ref: http in → http response (echo),` +
        ` POSTed the same single-event bodies\n`,
    );

    // Both endpoints answer as expected; the same event twice is a duplicate (so ids must differ).
    await check(urls.ref, single, 200);
    const first = JSON.parse(await check(urls.ours, single, 200)) as Record<string, unknown>;
    const again = JSON.parse(await check(urls.ours, single, 200)) as Record<string, unknown>;
    if (first.accepted !== 1 || again.duplicates !== 1) {
      throw new Error(`unexpected answers: ${JSON.stringify(first)} then ${JSON.stringify(again)}`);
    }
    const fifty = JSON.parse(await check(urls.ours, batchBody(BATCH), 200)) as Record<string, unknown>;
    if (fifty.accepted !== BATCH) throw new Error(`a batch of ${BATCH} answered ${JSON.stringify(fifty)}`);

    const runs: { target: Target; url: string; batch: number; ours: boolean }[] = [
      { target: 'ref', url: urls.ref, batch: 1, ours: false },
      { target: 'ours×1', url: urls.ours, batch: 1, ours: true },
      { target: `ours×${BATCH}`, url: urls.ours, batch: BATCH, ours: true },
    ];
    const pid = redPid(red);
    const warmup = Math.min(2, SECONDS);
    for (const run of runs) await cannon(run.url, run.batch, warmup, run.ours);

    const rows: Row[] = [];
    console.log(
      `${'run'.padEnd(9)}${'req/s'.padStart(10)}${'events/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}` +
        `${'non-2xx'.padStart(10)}${'errors'.padStart(10)}${'dups'.padStart(8)}${'RSS MB'.padStart(8)}`,
    );
    let settled = 0;
    for (const run of [...runs, ...runs]) {
      // Runs accepted by the previous measurement may still be starting: each run starts on a quiet process.
      settled += await waitIdle(pid);
      const [result, counts] = await cannon(run.url, run.batch, SECONDS, run.ours);
      const row: Row = {
        target: run.target,
        reqPerSec: result.requests.average,
        // Events the endpoint reported accepted, per second of the run.
        eventsPerSec: counts.accepted / (result.duration || SECONDS),
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
        duplicates: counts.duplicates,
      };
      rows.push(row);
      console.log(
        `${row.target.padEnd(9)}${fmt(row.reqPerSec, 0)}${fmt(row.eventsPerSec, 0)}${fmt(row.p50)}${fmt(row.p99)}` +
          `${String(row.non2xx).padStart(10)}${String(row.errors).padStart(10)}${String(row.duplicates).padStart(8)}` +
          fmt(pid !== undefined ? (memoryOf(pid)?.rssMb ?? NaN) : NaN, 0, 8),
      );
    }

    const of = (t: Target) => rows.filter((r) => r.target === t);
    const avg = (t: Target, key: 'reqPerSec' | 'eventsPerSec') => mean(of(t).map((r) => r[key]));
    const worstP99 = (t: Target) => Math.max(...of(t).map((r) => r.p99));
    const ratio1 = avg('ours×1', 'reqPerSec') / avg('ref', 'reqPerSec');
    const ratioBatch = avg(`ours×${BATCH}`, 'eventsPerSec') / avg('ref', 'eventsPerSec');
    const failures = [...of('ours×1'), ...of(`ours×${BATCH}`)].reduce(
      (sum, r) => sum + r.non2xx + r.errors + r.duplicates,
      0,
    );
    console.log(`(waited ${(settled / 1000).toFixed(1)} s in all for Node-RED to go idle before each run)\n`);
    for (const t of ['ref', 'ours×1', `ours×${BATCH}`] as const) {
      console.log(
        `${t.padEnd(9)} mean ${avg(t, 'reqPerSec').toFixed(0)} req/s = ${avg(t, 'eventsPerSec').toFixed(0)} events/s,` +
          ` worst p99 ${worstP99(t).toFixed(2)} ms`,
      );
    }
    const ratioOk = ratio1 >= TARGET_RATIO;
    const lines = [
      `single events: ours/ref req/s (mean of runs) ${ratio1.toFixed(3)}  target >= ${TARGET_RATIO}: ${verdict(ratioOk)}`,
      `batches of ${BATCH}: ${avg(`ours×${BATCH}`, 'eventsPerSec').toFixed(0)} events/s accepted = ` +
        `${ratioBatch.toFixed(2)}× the reference's single-event req/s (no target)`,
    ];
    if (failures > 0) lines.push(`ours: ${failures} non-2xx, connection errors or duplicates (expected 0)`);
    for (const line of lines) console.log(line);
    const met = ratioOk && failures === 0;
    console.log(met ? 'TARGETS MET' : 'TARGETS NOT MET');
    return { lines, met };
  } finally {
    await red?.close();
  }
}
