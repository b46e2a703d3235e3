// Cron firing delay: imis-cron every second ('* * * * * ? *', UTC) into a function node that records,
// on arrival, Date.now() − trigger.scheduledStartTimeUtc (the scheduled second) in global context.
// Reference in the same Node-RED, at the same time: a core inject node repeating every 1 s into the
// same kind of function node, measured by its spacing (expected 1000 ms) and drift from its first
// firing, since an interval has no scheduled wall-clock time. GET /cron-stats reads both.
import { NODE_RED_PKG, startNodeRed } from '../test/editor/red-process.js';
import type { RedProcess } from '../test/editor/red-process.js';
import { fmt, heading, percentile, sleep, verdict } from './common.js';
import type { SectionResult } from './common.js';

const FIRINGS = Math.max(3, Math.floor(Number(process.env.BENCH_CRON_FIRINGS) || 60));
const TARGET_P99_MS = 20;

const z = 'bench-tab';
const fn = (id: string, name: string, func: string, wires: string[], y: number) => ({
  id,
  type: 'function',
  z,
  name,
  func,
  outputs: 1,
  timeout: 0,
  noerr: 0,
  initialize: '',
  finalize: '',
  libs: [],
  x: 320,
  y,
  wires: [wires],
});

const flows = [
  { id: z, type: 'tab', label: 'Benchmark: cron' },
  {
    id: 'cron',
    type: 'imis-cron',
    z,
    name: 'every second',
    expression: '* * * * * ? *',
    timeZone: 'UTC',
    enabled: true,
    runMissed: false,
    cfgVersion: 1,
    x: 120,
    y: 60,
    wires: [['rec-cron']],
  },
  fn(
    'rec-cron',
    'record cron',
    [
      'const now = Date.now();',
      "const s = global.get('cronStats') || { delays: [], arrivals: [], scheduled: [] };",
      'const scheduled = Date.parse(msg.payload.trigger.scheduledStartTimeUtc);',
      's.delays.push(now - scheduled);',
      's.arrivals.push(now);',
      's.scheduled.push(scheduled);',
      "global.set('cronStats', s);",
      'return null;',
    ].join('\n'),
    [],
    60,
  ),
  {
    id: 'tick',
    type: 'inject',
    z,
    name: 'every 1 s',
    props: [{ p: 'payload' }],
    repeat: '1',
    crontab: '',
    once: false,
    onceDelay: 0.1,
    topic: '',
    payload: '',
    payloadType: 'date',
    x: 120,
    y: 140,
    wires: [['rec-inject']],
  },
  fn(
    'rec-inject',
    'record inject',
    [
      'const now = Date.now();',
      "const s = global.get('injectStats') || { arrivals: [], injected: [] };",
      's.arrivals.push(now);',
      's.injected.push(msg.payload);',
      "global.set('injectStats', s);",
      'return null;',
    ].join('\n'),
    [],
    140,
  ),
  {
    id: 'stats-in',
    type: 'http in',
    z,
    name: '',
    url: '/cron-stats',
    method: 'get',
    upload: false,
    swaggerDoc: '',
    x: 120,
    y: 220,
    wires: [['read-stats']],
  },
  fn(
    'read-stats',
    'read stats',
    "msg.payload = { cron: global.get('cronStats') || null, inject: global.get('injectStats') || null };\nreturn msg;",
    ['stats-out'],
    220,
  ),
  {
    id: 'stats-out',
    type: 'http response',
    z,
    name: '',
    statusCode: '200',
    headers: {},
    x: 520,
    y: 220,
    wires: [],
  },
];

interface Stats {
  cron: { delays: number[]; arrivals: number[]; scheduled: number[] } | null;
  inject: { arrivals: number[]; injected: number[] } | null;
}

async function readStats(red: RedProcess): Promise<Stats> {
  const res = await fetch(`${red.url}/cron-stats`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET /cron-stats → ${res.status}: ${await res.text()}`);
  return (await res.json()) as Stats;
}

const spacing = (times: number[]): number[] => times.slice(1).map((t, i) => t - times[i]);

function summary(label: string, values: number[]): string {
  return (
    `${label.padEnd(52)}${fmt(percentile(values, 50), 1, 8)}${fmt(percentile(values, 99), 1, 8)}` +
    `${fmt(Math.max(...values), 1, 8)}${fmt(Math.min(...values), 1, 8)}${String(values.length).padStart(6)}`
  );
}

export async function cronBench(): Promise<SectionResult> {
  heading(`4. Cron firing delay: imis-cron every second  vs  inject repeat 1 s (${FIRINGS} firings)`);
  let red: RedProcess | undefined;
  try {
    red = await startNodeRed({ flows });
    console.log(`Node ${process.version}, Node-RED ${red.version} (${NODE_RED_PKG}), ${red.url}`);
    console.log(
      `imis-cron '* * * * * ? *' UTC and inject (repeat 1 s) run side by side in an otherwise idle Node-RED;` +
        ` each feeds a function node that stamps Date.now() on arrival. About ${FIRINGS} s...`,
    );
    let stats = await readStats(red);
    const deadline = Date.now() + (FIRINGS + 15) * 1000;
    while ((stats.cron?.delays.length ?? 0) < FIRINGS && Date.now() < deadline) {
      await sleep(1000);
      stats = await readStats(red);
    }
    const cron = stats.cron;
    const inject = stats.inject;
    if (!cron || cron.delays.length === 0) throw new Error('the cron node never fired');
    const delays = cron.delays.slice(0, FIRINGS);
    const cronSpacing = spacing(cron.arrivals.slice(0, FIRINGS));
    const skipped = spacing(cron.scheduled.slice(0, FIRINGS)).filter((d) => d !== 1000).length;

    console.log(
      `\n${'ms'.padEnd(52)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'max'.padStart(8)}${'min'.padStart(8)}${'n'.padStart(6)}`,
    );
    console.log(summary('imis-cron: arrival − scheduled second (firing delay)', delays));
    console.log(
      summary(
        'imis-cron: |spacing − 1000| between arrivals',
        cronSpacing.map((s) => Math.abs(s - 1000)),
      ),
    );
    let injectLine = 'inject: no firings recorded';
    let injectP99 = NaN;
    if (inject && inject.arrivals.length > 1) {
      const arrivals = inject.arrivals.slice(0, FIRINGS);
      const jitter = spacing(arrivals).map((s) => Math.abs(s - 1000));
      const drift = arrivals.map((t, i) => t - arrivals[0] - i * 1000);
      const handoff = arrivals.map((t, i) => t - inject.injected[i]);
      console.log(summary('inject (ref): |spacing − 1000| between arrivals', jitter));
      console.log(summary('inject (ref): arrival − (first + n × 1000) (drift)', drift));
      console.log(summary('inject (ref): arrival − its own payload timestamp', handoff));
      injectP99 = percentile(jitter, 99);
      injectLine =
        `inject reference: spacing jitter p50 ${percentile(jitter, 50).toFixed(1)} / p99 ` +
        `${percentile(jitter, 99).toFixed(1)} / max ${Math.max(...jitter).toFixed(1)} ms, drift after ` +
        `${arrivals.length - 1} s ${drift[drift.length - 1].toFixed(0)} ms`;
    }
    if (skipped)
      console.log(`imis-cron: ${skipped} gaps between scheduled times other than 1 s (skipped seconds)`);

    const p99 = percentile(delays, 99);
    const ok = p99 < TARGET_P99_MS && delays.length >= FIRINGS && skipped === 0;
    console.log('');
    const lines = [
      `imis-cron firing delay p50 ${percentile(delays, 50).toFixed(1)} / p99 ${p99.toFixed(1)} / max ` +
        `${Math.max(...delays).toFixed(1)} ms over ${delays.length} firings  target p99 < ${TARGET_P99_MS} ms: ${verdict(p99 < TARGET_P99_MS)}`,
      injectLine,
      // Date.now() has 1 ms resolution: both sides are floored at 1 ms so that a 0 ms reference stays finite.
      `ratio imis-cron p99 firing delay / inject p99 spacing jitter (each at least 1 ms): ` +
        `${(Math.max(1, p99) / Math.max(1, injectP99)).toFixed(2)} (1 = as punctual as Node-RED's own timer; no target)`,
    ];
    if (delays.length < FIRINGS) lines.push(`only ${delays.length} of ${FIRINGS} firings arrived in time`);
    for (const line of lines) console.log(line);
    console.log(ok ? 'TARGETS MET' : 'TARGETS NOT MET');
    return { lines, met: ok };
  } finally {
    await red?.close();
  }
}
