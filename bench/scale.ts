// Several Node-RED processes on one PostgreSQL store (issue 20), each a child process with the same
// flows (127.0.0.1, temp user directories):
//  - webhooks: Webhook in → JSON Schema Validation in 1, 2 and 3 processes; autocannon on every
//    process at once (CONNECTIONS split between them), BENCH_SECONDS per run: the aggregate req/s,
//    and the CPU per request of the Node-RED processes and of the PostgreSQL server apart (/proc:
//    the children, and the server's processes found by its port). On a 2-core machine the processes
//    compete for the same cores, so the per-request costs are what to project from.
//  - cron: a per-second Cron into an HTTP request to a counter here, in 1 and in 3 processes (each
//    due time claimed in the store by one of them), BENCH_SCALE_FIRINGS seconds (default 30): the
//    firing delay (arrival − the scheduled second), p50 / p99. Target: p99 with 3 ≤ 2× with 1.
import autocannon from 'autocannon';
import { createServer } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { startNodeRed } from '../test/editor/red-process.js';
import type { RedProcess } from '../test/editor/red-process.js';
import {
  SECONDS,
  check,
  cpuTicks,
  fmt,
  heading,
  percentile,
  postgresDatabase,
  sleep,
  verdict,
} from './common.js';
import type { SectionResult } from './common.js';
import { everySecondCron } from '../test/support/flows.js';
import { PAYLOAD, TOKEN, flows as webhookFlows } from './webhook.js';

const CONNECTIONS = 48;
const FIRINGS = Math.max(5, Math.floor(Number(process.env.BENCH_SCALE_FIRINGS) || 30));

/** The PostgreSQL server's processes: the postmaster listening on `port`, and its children. */
function postgresPids(port: string): number[] {
  const pids: { pid: number; ppid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      pids.push({ pid: Number(entry), ppid, cmd });
    } catch {
      // gone meanwhile
    }
  }
  const master = pids.find((p) => /postgres/.test(p.cmd) && p.cmd.includes(`-p ${port}`));
  if (!master) return [];
  return [master.pid, ...pids.filter((p) => p.ppid === master.pid).map((p) => p.pid)];
}

/** CPU ticks (1/100 s) of a set of processes; the PostgreSQL backends come and go, so re-listed. */
const ticksOf = (pids: number[]) => pids.reduce((sum, pid) => sum + (cpuTicks(pid) ?? 0), 0);

async function webhooks(lines: string[]): Promise<void> {
  console.log(`autocannon: ${CONNECTIONS} connections split over the processes, ${SECONDS} s per run\n`);
  console.log(
    `${'processes'.padEnd(10)}${'req/s'.padStart(10)}${'p99 ms'.padStart(10)}${'non-2xx'.padStart(10)}` +
      `${'Node-RED µs/req'.padStart(17)}${'PostgreSQL µs/req'.padStart(19)}`,
  );
  for (const n of [1, 2, 3]) {
    const url = await postgresDatabase();
    const port = new URL(url).port;
    const reds: RedProcess[] = [];
    try {
      for (let i = 0; i < n; i++) {
        reds.push(
          await startNodeRed({
            flows: webhookFlows,
            credentials: { 'ours-in': { token: TOKEN } },
            settings: { imis: { store: { url } } },
          }),
        );
      }
      const targets = reds.map((red) => `${red.url}/imis/hook/${TOKEN}`);
      for (const target of targets) await check(target, PAYLOAD, 200);
      const run = (duration: number) =>
        Promise.all(
          targets.map((target) =>
            autocannon({
              url: target,
              method: 'POST',
              connections: Math.max(1, Math.round(CONNECTIONS / n)),
              duration,
              headers: { 'content-type': 'application/json' },
              body: PAYLOAD,
            }),
          ),
        );
      await run(Math.min(2, SECONDS)); // warm-up
      await sleep(1000);
      const redBefore = ticksOf(reds.map((r) => r.pid));
      const pgBefore = ticksOf(postgresPids(port));
      const results = await run(SECONDS);
      const redTicks = ticksOf(reds.map((r) => r.pid)) - redBefore;
      const pgTicks = ticksOf(postgresPids(port)) - pgBefore;
      const total = results.reduce((sum, r) => sum + r.requests.total, 0);
      const reqPerSec = results.reduce((sum, r) => sum + r.requests.average, 0);
      const p99 = Math.max(...results.map((r) => r.latency.p99));
      const non2xx = results.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
      const redUs = (redTicks * 10_000) / Math.max(1, total);
      const pgUs = (pgTicks * 10_000) / Math.max(1, total);
      console.log(
        `${String(n).padEnd(10)}${fmt(reqPerSec, 0)}${fmt(p99)}${String(non2xx).padStart(10)}${fmt(redUs, 0, 17)}${fmt(pgUs, 0, 19)}`,
      );
      lines.push(
        `${n} process(es): ${reqPerSec.toFixed(0)} req/s in all, p99 ${p99.toFixed(1)} ms, ${non2xx} non-2xx; ` +
          `CPU per request: Node-RED ${redUs.toFixed(0)} µs, PostgreSQL ${pgUs.toFixed(0)} µs ` +
          `(a core serves ${(1e6 / (redUs + pgUs)).toFixed(0)} req/s of both)`,
      );
    } finally {
      for (const red of reds) await red.close();
    }
  }
}

async function cronDelays(processes: number, counterUrl: string, arrivals: number[][]): Promise<number[]> {
  const url = await postgresDatabase();
  const flows = [
    { id: 'tab', type: 'tab', label: 'Benchmark: cron on several processes' },
    everySecondCron('tick', 'tab', 'skip', ['count']),
    { id: 'count', z: 'tab', type: 'http request', method: 'POST', ret: 'txt', url: counterUrl, wires: [[]] },
  ];
  const reds: RedProcess[] = [];
  try {
    for (let i = 0; i < processes; i++)
      reds.push(await startNodeRed({ flows, settings: { imis: { store: { url } } } }));
    await sleep(3000); // all armed, connections made
    arrivals.length = 0;
    await sleep(FIRINGS * 1000);
    return arrivals.map(([at, scheduled]) => at - scheduled);
  } finally {
    for (const red of reds) await red.close();
  }
}

export async function scaleBench(): Promise<SectionResult> {
  heading('Several Node-RED processes on one PostgreSQL');
  const lines: string[] = [];
  await webhooks(lines);

  const arrivals: number[][] = [];
  const counter = createServer((req, res) => {
    const at = Date.now();
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const scheduled = Date.parse(JSON.parse(body).trigger.scheduledStartTimeUtc as string);
      arrivals.push([at, scheduled]);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
  const counterUrl = `http://127.0.0.1:${(counter.address() as { port: number }).port}/`;
  console.log(`\nCron every second for ${FIRINGS} s (BENCH_SCALE_FIRINGS): delay from the scheduled second`);
  const delays: Record<number, number[]> = {};
  try {
    for (const n of [1, 3]) delays[n] = await cronDelays(n, counterUrl, arrivals);
  } finally {
    counter.close();
  }
  const summary = (n: number) => {
    const d = delays[n];
    return { p50: percentile(d, 50), p99: percentile(d, 99), count: d.length };
  };
  for (const n of [1, 3]) {
    const s = summary(n);
    console.log(
      `${n} process(es): ${s.count} fires in ${FIRINGS} s, p50 ${fmt(s.p50, 1, 0)} ms, p99 ${fmt(s.p99, 1, 0)} ms`,
    );
  }
  const ok = summary(3).p99 <= 2 * Math.max(summary(1).p99, 1);
  lines.push(
    `cron p99 firing delay: 1 process ${summary(1).p99.toFixed(1)} ms, 3 processes ${summary(3).p99.toFixed(1)} ms ` +
      `(${summary(1).count} and ${summary(3).count} fires in ${FIRINGS} s); target 3 ≤ 2 × 1: ${verdict(ok)}`,
  );
  return { met: ok, lines };
}
