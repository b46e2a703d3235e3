// Integration workflows on the SQLite store: durable transitions per second as a ratio to raw SQLite
// writes of the same rows in the same run, timeout firing delay, memory, and the Instances view's
// first page filtered by state. The measuring runs in a process of its own (bench/workflow-run.ts),
// so that its memory is what the workflow runtime needs.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fmt, heading, verdict } from './common.js';
import type { SectionResult } from './common.js';

const TARGETS = { ratio: 0.5, delayP99Ms: 1000, rssMb: 300, firstPageMs: 200 };

interface RunResult {
  instances: number;
  timeoutSeconds: number;
  writes: number;
  oursMs: number;
  rawMs: number;
  phases: Record<string, { ours: number; raw: number }>;
  timeoutsExpected: number;
  timeoutsFired: number;
  delayP50: number;
  delayP99: number;
  delayMax: number;
  peakRssMb: number;
  firstPageMs: Record<string, number>;
  counts: Record<string, number>;
  unexpected: number;
}

function run(): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'workflow-run.js')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`bench/workflow-run exited ${code}: ${out.slice(-500)}`));
      try {
        resolve(JSON.parse(line) as RunResult);
      } catch {
        reject(new Error(`bench/workflow-run printed no result: ${out.slice(-500)}`));
      }
    });
  });
}

export async function workflowBench(): Promise<SectionResult> {
  heading('Integration workflows: instances, transitions and timeouts on the SQLite store');
  const r = await run();
  const perSec = (writes: number, ms: number) => (writes / ms) * 1000;
  const ours = perSec(r.writes, r.oursMs);
  const raw = perSec(r.writes, r.rawMs);
  const ratio = ours / raw;
  const worstPage = Math.max(...Object.values(r.firstPageMs));
  const ok = {
    ratio: ratio >= TARGETS.ratio,
    delay: r.timeoutsFired === r.timeoutsExpected && r.delayP99 < TARGETS.delayP99Ms,
    rss: r.peakRssMb < TARGETS.rssMb,
    page: worstPage < TARGETS.firstPageMs,
  };
  console.log(
    `${r.instances.toLocaleString('en-US')} instances created and moved twice, plus their timeouts (${r.writes.toLocaleString('en-US')} durable writes), ` +
      `${r.timeoutsExpected.toLocaleString('en-US')} timeouts of ${r.timeoutSeconds} s falling due during the run`,
  );
  for (const [phase, t] of Object.entries(r.phases)) {
    console.log(
      `  ${phase.padEnd(7)} runtime ${fmt(perSec(r.instances, t.ours), 0)} /s   raw ${fmt(perSec(r.instances, t.raw), 0)} /s   ratio ${fmt(t.raw / t.ours)}`,
    );
  }
  const lines = [
    `durable transitions/s: runtime ${fmt(ours, 0).trim()}, raw SQLite ${fmt(raw, 0).trim()}, ratio ${fmt(ratio).trim()} (target ≥ ${TARGETS.ratio}) ${verdict(ok.ratio)}`,
    `timeout firing delay: p50 ${fmt(r.delayP50, 0).trim()} ms, p99 ${fmt(r.delayP99, 0).trim()} ms, max ${fmt(r.delayMax, 0).trim()} ms; ` +
      `${r.timeoutsFired}/${r.timeoutsExpected} fired (target p99 < ${TARGETS.delayP99Ms} ms) ${verdict(ok.delay)}`,
    `peak RSS ${fmt(r.peakRssMb, 0).trim()} MB (target < ${TARGETS.rssMb} MB) ${verdict(ok.rss)}`,
    `Instances first page by state: ${Object.entries(r.firstPageMs)
      .map(([s, ms]) => `${s} ${fmt(ms, 1).trim()} ms`)
      .join(', ')} (target < ${TARGETS.firstPageMs} ms) ${verdict(ok.page)}`,
  ];
  if (r.unexpected) lines.push(`${r.unexpected} operations did not do what the benchmark expected`);
  for (const line of lines) console.log(line);
  console.log(`instances per state at the end: ${JSON.stringify(r.counts)}`);
  return { lines, met: Object.values(ok).every(Boolean) && r.unexpected === 0 };
}
