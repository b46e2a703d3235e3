// Run tracking (issue 18): what following every message of a run costs. One flow, Webhook in →
// split (BENCH_TRACKING_ROWS rows, default 1,000) → change → join → Insert Activity (one activity of
// member 12345 per run, on the iMIS emulator in this process), in two Node-RED children (127.0.0.1,
// temp user directories): ours with tracking on (the default), the reference with
// `imis: { runs: { track: false } }` (a trigger's run ends once it has sent, nothing is followed).
// BENCH_ROUNDS rounds (default 3) of ref, ours, each sending BENCH_TRACKING_RUNS inputs (default 200)
// with at most BENCH_TRACKING_CONCURRENCY runs in flight (default 4: sent and no activity yet),
// timed until the emulator holds that many new activities. Target: ours/ref runs/s ≥ 0.9.
// Then one run of ours as the runs API returns it (GET /imis/runs/<id>): its steps (merged per node
// with a count), the JSON size of the record as stored, and the children's RSS before and after the
// rounds (/proc/<pid>/status).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { startEmulator } from '../src/emulator/server.js';
import type { Emulator } from '../src/emulator/server.js';
import type { RunRecord } from '../src/runs/tracker.js';
import { NODE_RED_PKG, startNodeRed } from '../test/editor/red-process.js';
import type { RedProcess } from '../test/editor/red-process.js';
import {
  check,
  cpuTicks,
  fmt,
  heading,
  mean,
  memoryOf,
  pollRss,
  sleep,
  verdict,
  waitIdle,
} from './common.js';
import type { SectionResult } from './common.js';

const ROUNDS = Math.max(1, Math.trunc(Number(process.env.BENCH_ROUNDS) || 3));
const RUNS = Math.max(1, Math.trunc(Number(process.env.BENCH_TRACKING_RUNS) || 200));
const CONCURRENCY = Math.max(1, Math.trunc(Number(process.env.BENCH_TRACKING_CONCURRENCY) || 4));
const ROWS = Math.max(1, Math.trunc(Number(process.env.BENCH_TRACKING_ROWS) || 1000));
const MIN_RATIO = 0.9;
/** The runs' step cap: setting imis.runs.maxSteps, default 1,000 (src/nodes/lib/package-runtime.ts). */
const MAX_STEPS = 1000;
/** A member the emulator is seeded with (src/emulator/seed.ts). */
const PARTY_ID = '12345';
/** A batch that has not completed in this long is a failure, not a slow result. */
const BATCH_TIMEOUT_MS = 300_000;

const TOKEN = randomBytes(24).toString('base64url');

/** One input (a webhook takes a JSON object): ROWS rows, split one by one. */
const PAYLOAD = JSON.stringify({
  memberId: PARTY_ID,
  rows: Array.from({ length: ROWS }, (_, i) => ({ row: i, amount: i % 100 })),
});

type Target = 'ref' | 'ours';
const LABEL: Record<Target, string> = { ref: 'off', ours: 'on' };

function flows(imisUrl: string): Record<string, unknown>[] {
  const z = 'tracking-tab';
  return [
    { id: z, type: 'tab', label: 'Benchmark: run tracking' },
    {
      id: 'srv',
      type: 'imis-server',
      name: 'emulator',
      baseUrl: imisUrl,
      timeZone: '',
      maxInFlight: 8,
      timeoutSec: 30,
      retries: 0,
      cfgVersion: 1,
    },
    {
      id: 'hook',
      type: 'imis-webhook-in',
      z,
      name: 'rows',
      return202: false,
      omitBody: false,
      metadataProp: '',
      maxBodyKb: 1024,
      cfgVersion: 1,
      x: 100,
      y: 60,
      wires: [['split']],
    },
    {
      id: 'split',
      type: 'split',
      z,
      name: '',
      splt: '\\n',
      spltType: 'str',
      arraySplt: 1,
      arraySpltType: 'len',
      stream: false,
      addname: '',
      property: 'payload.rows',
      x: 250,
      y: 60,
      wires: [['change']],
    },
    {
      id: 'change',
      type: 'change',
      z,
      name: 'mark',
      rules: [{ t: 'set', p: 'payload.rows.checked', pt: 'msg', to: 'true', tot: 'bool' }],
      action: '',
      property: '',
      from: '',
      to: '',
      reg: false,
      x: 380,
      y: 60,
      wires: [['join']],
    },
    {
      id: 'join',
      type: 'join',
      z,
      name: '',
      mode: 'auto',
      build: 'array',
      property: 'payload',
      propertyType: 'msg',
      key: 'topic',
      joiner: '\\n',
      joinerType: 'str',
      useparts: false,
      accumulate: false,
      timeout: '',
      count: '',
      reduceRight: false,
      reduceExp: '',
      reduceInit: '',
      reduceInitType: '',
      reduceFixup: '',
      x: 500,
      y: 60,
      wires: [['insert']],
    },
    {
      id: 'insert',
      type: 'imis-insert-activity',
      z,
      name: 'one activity per run',
      server: 'srv',
      // QUANTITY: the rows the join gave back (checked before measuring).
      fields: {
        partyId: '{{ input.memberId }}',
        activityType: 'MEETING',
        quantity: '{{ input.rows | size }}',
      },
      outputProp: 'activity',
      onError: 'fail',
      dedupKey: '',
      dedupField: '',
      cfgVersion: 1,
      x: 660,
      y: 60,
      wires: [[]],
    },
  ];
}

interface Child {
  target: Target;
  red: RedProcess;
  hook: string;
  /** RSS (MB) once started and warmed up, just before the first round. */
  rssBefore?: number;
}

async function startChild(target: Target, imisUrl: string): Promise<Child> {
  const red = await startNodeRed({
    flows: flows(imisUrl),
    credentials: { hook: { token: TOKEN }, srv: { username: 'MANAGER', password: 'manager' } },
    settings: target === 'ours' ? {} : { imis: { runs: { track: false } } },
  });
  return { target, red, hook: `${red.url}/imis/hook/${TOKEN}` };
}

interface Batch {
  runsPerSec: number;
  seconds: number;
  /** CPU time of the Node-RED child (all threads) per run, ms. */
  cpuMs: number;
  /** The id of the last run sent (the webhook's answer). */
  lastRunId: string;
}

/**
 * Sends `runs` inputs to the child, at most CONCURRENCY of them in flight (sent, and no new activity
 * for them yet), and times until the emulator holds `runs` new activities.
 */
async function batch(child: Child, emulator: Emulator, runs: number): Promise<Batch> {
  const activities = emulator.state.activities;
  const base = activities.length;
  const done = () => activities.length - base;
  const posts: Promise<string>[] = [];
  let failure: Error | undefined;
  const ticksBefore = cpuTicks(child.red.pid);
  const started = performance.now();
  let sent = 0;
  while (done() < runs) {
    if (failure) throw failure;
    if (performance.now() - started > BATCH_TIMEOUT_MS) {
      throw new Error(
        `${LABEL[child.target]}: ${done()} of ${runs} runs done after ${BATCH_TIMEOUT_MS / 1000} s\n${child.red.output().slice(-4000)}`,
      );
    }
    if (sent < runs && sent - done() < CONCURRENCY) {
      sent++;
      const post = check(child.hook, PAYLOAD, 200);
      post.catch((err: Error) => (failure = failure ?? err));
      posts.push(post);
      continue;
    }
    await sleep(1);
  }
  const seconds = (performance.now() - started) / 1000;
  const ticksAfter = cpuTicks(child.red.pid);
  const answers = await Promise.all(posts);
  if (activities.length - base !== runs) {
    throw new Error(`${LABEL[child.target]}: ${activities.length - base} activities for ${runs} runs`);
  }
  const lastRunId = (JSON.parse(answers[answers.length - 1]) as { id: string }).id;
  return {
    runsPerSec: runs / seconds,
    seconds,
    cpuMs:
      ticksBefore === undefined || ticksAfter === undefined ? NaN : ((ticksAfter - ticksBefore) * 10) / runs,
    lastRunId,
  };
}

/** The run as GET /imis/runs/<id> returns it, once it has ended (the record is stored as it ended). */
async function finishedRun(child: Child, id: string): Promise<RunRecord> {
  const started = Date.now();
  for (;;) {
    const res = await fetch(`${child.red.url}/imis/runs/${encodeURIComponent(id)}`, {
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET /imis/runs/${id} → ${res.status}: ${text}`);
    const {
      durationMs: _d,
      reruns: _r,
      ...run
    } = JSON.parse(text) as RunRecord & {
      durationMs?: number;
      reruns?: unknown;
    };
    if (run.status !== 'running') return run;
    if (Date.now() - started > 10_000) throw new Error(`run ${id} still running after 10 s`);
    await sleep(100);
  }
}

const kb = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '') / 1024;

export async function trackingBench(): Promise<SectionResult> {
  heading(
    `Run tracking: Webhook in → split (${ROWS} rows) → change → join → Insert Activity, tracking on  vs  imis.runs.track false`,
  );
  let emulator: Emulator | undefined;
  const children: Child[] = [];
  // Both children use their SQLite store, not a PostgreSQL URL from this shell's environment.
  const savedUrl = process.env.IMIS_STORE_URL;
  delete process.env.IMIS_STORE_URL;
  try {
    emulator = await startEmulator({ port: 0 });
    const ref = await startChild('ref', emulator.url);
    children.push(ref);
    const ours = await startChild('ours', emulator.url);
    children.push(ours);
    const byTarget: Record<Target, Child> = { ref, ours };
    console.log(
      `Node ${process.version}, Node-RED ${ours.red.version} (${NODE_RED_PKG}); emulator (in this process) ${emulator.url}`,
    );
    console.log(
      `${ROUNDS} rounds of off, on; ${RUNS} runs each (BENCH_TRACKING_RUNS), at most ${CONCURRENCY} in flight ` +
        `(BENCH_TRACKING_CONCURRENCY); input ${ROWS} rows, ${(PAYLOAD.length / 1024).toFixed(1)} KB JSON\n`,
    );

    // Each child does the whole flow: one run, one activity with the joined rows' count.
    for (const child of children) {
      const one = await batch(child, emulator, 1);
      const last = emulator.state.activities[emulator.state.activities.length - 1];
      if (String(last.PartyId) !== PARTY_ID || Number(last.QUANTITY) !== ROWS) {
        throw new Error(
          `${LABEL[child.target]}: unexpected activity ${JSON.stringify(last)} (expected PartyId ${PARTY_ID}, QUANTITY ${ROWS})`,
        );
      }
      const run = await finishedRun(child, one.lastRunId);
      if (run.status !== 'ok')
        throw new Error(`${LABEL[child.target]}: run ${run.id} ${run.status}: ${run.error}`);
    }
    // Warm-up (JIT, token, store), not measured.
    const warmup = Math.max(1, Math.min(20, Math.trunc(RUNS / 4)));
    for (const child of children) await batch(child, emulator, warmup);
    for (const child of children) {
      await waitIdle(child.red.pid, 10_000);
      child.rssBefore = memoryOf(child.red.pid)?.rssMb;
    }
    const peaks = children.map((child) => ({ child, poll: pollRss(child.red.pid) }));

    const rows: (Batch & { target: Target })[] = [];
    console.log(
      `${'tracking'.padEnd(10)}${'runs/s'.padStart(10)}${'seconds'.padStart(10)}${'CPU ms/run'.padStart(12)}`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of ['ref', 'ours'] as const) {
        const child = byTarget[target];
        await waitIdle(child.red.pid, 10_000);
        const row = { target, ...(await batch(child, emulator, RUNS)) };
        rows.push(row);
        console.log(
          `${LABEL[target].padEnd(10)}${fmt(row.runsPerSec, 1)}${fmt(row.seconds)}${fmt(row.cpuMs, 1, 12)}`,
        );
      }
    }
    const rssPeak = new Map(peaks.map(({ child, poll }) => [child.target, poll.stop()]));
    for (const child of children) await waitIdle(child.red.pid, 10_000);
    const rssAfter = new Map(children.map((c) => [c.target, memoryOf(c.red.pid)?.rssMb ?? NaN]));

    const of = (t: Target) => rows.filter((r) => r.target === t);
    const runsPerSec = (t: Target) => mean(of(t).map((r) => r.runsPerSec));
    const cpu = (t: Target) => mean(of(t).map((r) => r.cpuMs));
    const ratio = runsPerSec('ours') / runsPerSec('ref');
    const perRound = Array.from(
      { length: ROUNDS },
      (_, i) => rows[2 * i + 1].runsPerSec / rows[2 * i].runsPerSec,
    );
    const ratioOk = ratio >= MIN_RATIO;
    console.log('');
    for (const t of ['ref', 'ours'] as const) {
      console.log(
        `tracking ${LABEL[t].padEnd(4)} mean ${runsPerSec(t).toFixed(1)} runs/s (${(runsPerSec(t) * ROWS).toFixed(0)} rows/s), ` +
          `Node-RED CPU ${cpu(t).toFixed(1)} ms/run`,
      );
    }
    console.log(`ratio on/off per round: ${perRound.map((r) => r.toFixed(3)).join(', ')}`);
    console.log(
      `(machine load average over the last minute: ${loadavg()[0].toFixed(1)}; this process and the children included)`,
    );

    // One run of ours as stored: the last of the last round.
    const lastOurs = of('ours')[ROUNDS - 1].lastRunId;
    const run = await finishedRun(ours, lastOurs);
    console.log(`\nRun ${run.id} (tracking on), status ${run.status}, GET /imis/runs/<id>:`);
    console.log(`  ${'node'.padEnd(34)}${'type'.padEnd(24)}${'count'.padStart(7)}  outcome`);
    for (const step of run.steps) {
      console.log(
        `  ${(step.name ? `${step.name} (${step.id})` : step.id).padEnd(34)}${step.type.padEnd(24)}${String(step.count ?? 1).padStart(7)}  ${step.outcome ?? ''}`,
      );
    }
    const deliveries = run.steps.reduce((sum, s) => sum + (s.count ?? 1), 0);
    const { input, steps, ...rest } = run;
    const sizes = { all: kb(run), input: kb(input), steps: kb(steps), rest: kb(rest) };
    console.log(
      `  ${run.steps.length} steps, ${deliveries} deliveries` +
        (run.stepsOmitted ? `, ${run.stepsOmitted} deliveries past the step cap` : '') +
        `; step cap imis.runs.maxSteps = ${MAX_STEPS} (default)`,
    );
    console.log(
      `  stored record (JSON, imis_runs.data): ${sizes.all.toFixed(1)} KB = input ${sizes.input.toFixed(1)} KB + ` +
        `steps ${sizes.steps.toFixed(1)} KB + the rest ${sizes.rest.toFixed(1)} KB`,
    );
    const offRun = await finishedRun(ref, of('ref')[ROUNDS - 1].lastRunId);
    console.log(
      `  (tracking off: run ${offRun.id} ${offRun.status}, ${offRun.steps.length} steps, ${kb(offRun).toFixed(1)} KB)`,
    );
    console.log(
      '\nRSS of the Node-RED children (MB), before the rounds (after warm-up), peak during, after:',
    );
    for (const child of children) {
      console.log(
        `  tracking ${LABEL[child.target].padEnd(4)}${fmt(child.rssBefore ?? NaN, 1)}${fmt(rssPeak.get(child.target) ?? NaN, 1)}${fmt(rssAfter.get(child.target) ?? NaN, 1)}`,
      );
    }

    const stepNames = run.steps.map((s) => `${s.type}${(s.count ?? 1) > 1 ? ` ×${s.count}` : ''}`).join(', ');
    const lines = [
      `runs/s tracking on/off (mean of ${ROUNDS} rounds × ${RUNS} runs): ${runsPerSec('ours').toFixed(1)} / ${runsPerSec('ref').toFixed(1)} = ${ratio.toFixed(3)}  target >= ${MIN_RATIO}: ${verdict(ratioOk)}`,
      `Node-RED CPU per run on/off: ${cpu('ours').toFixed(1)} / ${cpu('ref').toFixed(1)} ms = ${(cpu('ours') / cpu('ref')).toFixed(3)}  (no target; steadier than runs/s on a busy machine)`,
      `one run (on): ${run.steps.length} steps (${stepNames}), ${(run.stepsOmitted ?? 0) > 0 ? `${run.stepsOmitted} past the cap, ` : ''}stored ${sizes.all.toFixed(1)} KB (steps ${sizes.steps.toFixed(1)} KB, input ${sizes.input.toFixed(1)} KB); step cap imis.runs.maxSteps ${MAX_STEPS}`,
      `RSS on: ${fmt(ours.rssBefore ?? NaN, 1, 0)} → ${fmt(rssAfter.get('ours') ?? NaN, 1, 0)} MB (peak ${fmt(rssPeak.get('ours') ?? NaN, 1, 0)}); off: ${fmt(ref.rssBefore ?? NaN, 1, 0)} → ${fmt(rssAfter.get('ref') ?? NaN, 1, 0)} MB (peak ${fmt(rssPeak.get('ref') ?? NaN, 1, 0)})`,
    ];
    console.log('');
    for (const line of lines) console.log(line);
    console.log(ratioOk ? 'TARGETS MET' : 'TARGETS NOT MET');
    return { lines, met: ratioOk };
  } finally {
    if (savedUrl !== undefined) process.env.IMIS_STORE_URL = savedUrl;
    for (const child of children) await child.red.close();
    await emulator?.close();
  }
}
