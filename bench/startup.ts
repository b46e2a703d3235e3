// Start-up time and idle memory of Node-RED with this package's webhook flow and its store open,
// against plain Node-RED (the same Node-RED, package not installed, only `http in → http response`)
// in the same run, and, when BENCH_BASELINE_DIR names a built copy of an older version, against that
// version too ("before"). Each start is a fresh child process with a fresh user directory on
// 127.0.0.1; we time from spawn to:
//   admin     GET /settings answers 200 (the admin HTTP API is up)
//   store     the package logs "iMIS store: <engine> opened" (or its untranslated key; this version;
//             0.1 had no store: its
//             journal files opened synchronously while the flows were being created)
//   accepted  the first POST to the webhook answers 200, i.e. an input was accepted and durably
//             written (for plain Node-RED: the first POST /ref answers 200). Comparable across versions.
// and read the CPU time the child used until then (user + system, /proc: on a busy machine the wall
// times above mostly measure the wait for a CPU), then leave it idle for 5 s and read its resident
// set size (VmRSS, Linux /proc).
// Starts alternate (plain, this, before), BENCH_STARTUP_RUNS times (default 3); medians printed.
//
// The "before" build (version 0.1 = commit 50ba441), with its own node_modules:
//   git worktree add --detach /tmp/bench-v01 50ba441
//   (cd /tmp/bench-v01 && npm ci --no-audit --no-fund && npm run build)
//   npm run build && BENCH_BASELINE_DIR=/tmp/bench-v01 BENCH_ONLY=startup node dist/bench/run.js
// or this file alone: node dist/bench/startup.js [/tmp/bench-v01]
// (afterwards: git worktree remove --force /tmp/bench-v01)
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, PACKAGE_ROOT } from '../test/editor/red-process.js';
import { cpuTicks, fmt, heading, memoryOf, percentile, sleep, referenceFlow } from './common.js';
import type { SectionResult } from './common.js';

const RUNS = Math.max(1, Math.trunc(Number(process.env.BENCH_STARTUP_RUNS) || 3));
const IDLE_MS = 5000;
const START_TIMEOUT_MS = 60_000;
const POLL_MS = 10;

const TOKEN = randomBytes(24).toString('base64url');
const PAYLOAD = JSON.stringify({
  memberId: '12345',
  eventCode: 'CONF2026',
  checkInTime: '2026-05-27T09:15:00',
});

/** The webhook benchmark's flow without its reference: webhook in → schema validation. */
const packageFlows = [
  { id: 'start-tab', type: 'tab', label: 'Start-up' },
  {
    id: 'start-in',
    type: 'imis-webhook-in',
    z: 'start-tab',
    name: 'check-in',
    return202: false,
    omitBody: false,
    metadataProp: '',
    maxBodyKb: 1024,
    cfgVersion: 1,
    x: 120,
    y: 60,
    wires: [['start-validate']],
  },
  {
    id: 'start-validate',
    type: 'imis-schema-validate',
    z: 'start-tab',
    name: 'check-in schema',
    schema: JSON.stringify({ type: 'object', required: ['memberId'] }),
    schemaSource: 'config',
    property: 'payload',
    onInvalid: 'error',
    outputs: 1,
    cfgVersion: 1,
    x: 340,
    y: 60,
    wires: [[]],
  },
];

interface Subject {
  label: string;
  /** The package to install in the user directory (a link), or none for plain Node-RED. */
  packageRoot?: string;
  /** Where Node-RED is resolved from (the subject's own node_modules). */
  redFrom: string;
}

interface Start {
  adminMs: number;
  storeMs: number;
  acceptedMs: number;
  /** CPU time the child used until the first input was accepted (less sensitive to a busy machine). */
  cpuMs: number;
  rssMb: number;
}

async function startOnce(subject: Subject): Promise<Start> {
  const redPkg = require.resolve('node-red/package.json', { paths: [subject.redFrom] });
  const redJs = join(dirname(redPkg), 'red.js');
  const port = await freePort();
  const userDir = mkdtempSync(join(tmpdir(), 'imis-start-'));
  try {
    if (subject.packageRoot) {
      const name = JSON.parse(readFileSync(join(subject.packageRoot, 'package.json'), 'utf8')).name as string;
      const link = join(userDir, 'node_modules', ...name.split('/'));
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(subject.packageRoot, link, 'dir');
      writeFileSync(
        join(userDir, 'package.json'),
        JSON.stringify({
          name: 'node-red-project',
          private: true,
          dependencies: { [name]: `file:${subject.packageRoot}` },
        }),
      );
      writeFileSync(join(userDir, 'flows.json'), JSON.stringify(packageFlows));
      writeFileSync(join(userDir, 'flows_cred.json'), JSON.stringify({ 'start-in': { token: TOKEN } }));
    } else {
      writeFileSync(
        join(userDir, 'flows.json'),
        JSON.stringify([{ id: 'start-tab', type: 'tab', label: 'Start-up' }, ...referenceFlow('start-tab')]),
      );
    }
    writeFileSync(
      join(userDir, 'settings.js'),
      `module.exports = {
    uiHost: '127.0.0.1',
    uiPort: ${port},
    flowFile: 'flows.json',
    credentialSecret: false,
    editorTheme: { tours: false, palette: { catalogues: [] } },
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    logging: { console: { level: 'info' } }
};\n`,
    );
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_RED_ENABLE_TOURS: 'false' };
    delete env.IMIS_STORE_URL; // the embedded default store
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [redJs, '--userDir', userDir, '--settings', join(userDir, 'settings.js')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      },
    );
    let output = '';
    let storeMs = NaN;
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (Number.isNaN(storeMs) && /iMIS store: .+ opened|imis-runs\.log\.store/.test(output))
        storeMs = performance.now() - t0;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    try {
      const base = `http://127.0.0.1:${port}`;
      const until = async (request: () => Promise<Response>): Promise<number> => {
        while (performance.now() - t0 < START_TIMEOUT_MS) {
          if (child.exitCode !== null) throw new Error(`Node-RED exited:\n${output}`);
          try {
            const res = await request();
            await res.arrayBuffer();
            if (res.status === 200) return performance.now() - t0;
          } catch {
            // not listening yet
          }
          await sleep(POLL_MS);
        }
        throw new Error(`Node-RED did not get ready in ${START_TIMEOUT_MS} ms:\n${output}`);
      };
      const post = subject.packageRoot ? `${base}/imis/hook/${TOKEN}` : `${base}/ref`;
      const [adminMs, acceptedMs] = await Promise.all([
        until(() => fetch(`${base}/settings`)),
        until(() =>
          fetch(post, { method: 'POST', headers: { 'content-type': 'application/json' }, body: PAYLOAD }),
        ),
      ]);
      const ticks = child.pid !== undefined ? cpuTicks(child.pid) : undefined;
      const cpuMs = ticks === undefined ? NaN : ticks * 10;
      await sleep(IDLE_MS);
      const rssMb = (child.pid !== undefined ? memoryOf(child.pid)?.rssMb : undefined) ?? NaN;
      return { adminMs, storeMs, acceptedMs, cpuMs, rssMb };
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    }
  } finally {
    rmSync(userDir, { recursive: true, force: true });
  }
}

function redVersion(subject: Subject): string {
  const pkg = require.resolve('node-red/package.json', { paths: [subject.redFrom] });
  return JSON.parse(readFileSync(pkg, 'utf8')).version as string;
}

function gitDescribe(dir: string): string {
  try {
    const head = readFileSync(join(dir, '.git'), 'utf8').trim();
    // A worktree's .git is a file naming its git directory.
    const gitDir = head.startsWith('gitdir:') ? resolve(dir, head.slice(7).trim()) : join(dir, '.git');
    return readFileSync(join(gitDir, 'HEAD'), 'utf8').trim().slice(0, 12);
  } catch {
    return '';
  }
}

export async function startupBench(baselineDir = process.env.BENCH_BASELINE_DIR): Promise<SectionResult> {
  heading('Start-up time and idle memory (webhook flow, store open)  vs  plain Node-RED');
  const subjects: Subject[] = [
    { label: 'plain Node-RED', redFrom: PACKAGE_ROOT },
    { label: 'this version', packageRoot: PACKAGE_ROOT, redFrom: PACKAGE_ROOT },
  ];
  if (baselineDir) {
    const dir = resolve(baselineDir);
    if (!existsSync(join(dir, 'dist', 'src', 'nodes', 'imis-webhook-in.js'))) {
      throw new Error(`BENCH_BASELINE_DIR=${baselineDir}: no build there (npm ci && npm run build in it)`);
    }
    const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version as string;
    subjects.push({
      label: `before (${version} ${gitDescribe(dir)})`.trim(),
      packageRoot: dir,
      redFrom: dir,
    });
  } else {
    console.log('(BENCH_BASELINE_DIR not set: no "before" measurement; see the header of bench/startup.ts)');
  }
  for (const s of subjects) {
    console.log(
      `${s.label}: Node-RED ${redVersion(s)}${s.packageRoot ? `, package at ${s.packageRoot}` : ''}`,
    );
  }
  console.log(
    `Node ${process.version}; ${RUNS} starts each after one uncounted, alternating; RSS after ${IDLE_MS / 1000} s idle\n`,
  );

  // One start each first, not counted: it reads the files into the page cache.
  for (const s of subjects) await startOnce(s);
  const starts = new Map<Subject, Start[]>(subjects.map((s) => [s, []]));
  const width = Math.max(24, ...subjects.map((s) => s.label.length + 2));
  console.log(
    `${'start'.padEnd(width)}${'admin ms'.padStart(12)}${'store ms'.padStart(12)}${'accepted ms'.padStart(14)}${'CPU ms'.padStart(10)}${'RSS MB'.padStart(10)}`,
  );
  for (let i = 0; i < RUNS; i++) {
    for (const s of subjects) {
      const start = await startOnce(s);
      starts.get(s)!.push(start);
      console.log(
        `${s.label.padEnd(width)}${fmt(start.adminMs, 0, 12)}${fmt(start.storeMs, 0, 12)}${fmt(start.acceptedMs, 0, 14)}${fmt(start.cpuMs, 0, 10)}${fmt(start.rssMb, 1, 10)}`,
      );
    }
  }
  const median = (s: Subject, key: keyof Start) =>
    percentile(
      starts
        .get(s)!
        .map((r) => r[key])
        .filter((v) => !Number.isNaN(v)),
      50,
    );

  console.log('median');
  for (const s of subjects) {
    console.log(
      `${s.label.padEnd(width)}${fmt(median(s, 'adminMs'), 0, 12)}${fmt(median(s, 'storeMs'), 0, 12)}${fmt(median(s, 'acceptedMs'), 0, 14)}${fmt(median(s, 'cpuMs'), 0, 10)}${fmt(median(s, 'rssMb'), 1, 10)}`,
    );
  }
  const [plain, current, before] = subjects;
  const lines: string[] = [];
  const describe = (s: Subject) =>
    `${s.label}: admin ${median(s, 'adminMs').toFixed(0)} ms, ` +
    (s.packageRoot && s !== before ? `store open ${median(s, 'storeMs').toFixed(0)} ms, ` : '') +
    `first input accepted ${median(s, 'acceptedMs').toFixed(0)} ms (CPU ${median(s, 'cpuMs').toFixed(0)} ms), ` +
    `RSS idle ${median(s, 'rssMb').toFixed(1)} MB`;
  const ratio = (a: Subject, b: Subject) =>
    `${a.label} / ${b.label}: admin ×${(median(a, 'adminMs') / median(b, 'adminMs')).toFixed(2)}, ` +
    `accepted ×${(median(a, 'acceptedMs') / median(b, 'acceptedMs')).toFixed(2)}, ` +
    `CPU ×${(median(a, 'cpuMs') / median(b, 'cpuMs')).toFixed(2)}, ` +
    `RSS ×${(median(a, 'rssMb') / median(b, 'rssMb')).toFixed(2)} (${(median(a, 'rssMb') - median(b, 'rssMb')).toFixed(1)} MB)`;
  lines.push(describe(current));
  if (before) lines.push(describe(before), ratio(current, before));
  lines.push(describe(plain), ratio(current, plain));
  console.log('');
  for (const line of lines) console.log(line);
  return { lines };
}

if (require.main === module) {
  startupBench(process.argv[2] ?? process.env.BENCH_BASELINE_DIR).then(
    () => process.exit(0),
    (err) => {
      console.log(`Start-up benchmark failed: ${(err as Error)?.message ?? String(err)}`);
      process.exit(1);
    },
  );
}
