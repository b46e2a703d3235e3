// What the benchmark sections share: settings from the environment, formatting, a checked POST,
// memory readings of the Node-RED child process (Linux /proc), and a throwaway PostgreSQL server.
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import type { RedProcess } from '../test/editor/red-process.js';
import { postgresBinDir, startPostgres } from '../test/support/postgres.js';
import type { TestPostgres } from '../test/support/postgres.js';

/** Seconds per measured autocannon run (BENCH_SECONDS, default 10). */
export const SECONDS = Math.max(1, Number(process.env.BENCH_SECONDS) || 10);

/** What a section hands back to run.ts for the final summary. */
export interface SectionResult {
  /** One line per headline number, already formatted. */
  lines: string[];
  /** true: every target met; false: some missed; undefined: nothing to judge (e.g. it could not run). */
  met?: boolean;
}

export const fmt = (n: number, digits = 2, width = 10): string =>
  (Number.isFinite(n) ? n.toFixed(digits) : 'n/a').padStart(width);

export const verdict = (ok: boolean): string => (ok ? 'OK' : 'MISSED');

export function heading(title: string): void {
  console.log(`\n${'='.repeat(100)}\n${title}\n${'='.repeat(100)}`);
}

/** Nearest-rank percentile of unsorted numbers (p in 0..100); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export const mean = (values: readonly number[]): number =>
  values.length ? values.reduce((sum, v) => sum + v, 0) / values.length : NaN;

/**
 * POSTs `body` (JSON, with `headers` besides) and throws unless the answer has status `expected`;
 * returns the answer's text.
 */
export async function check(
  url: string,
  body: string,
  expected: number,
  headers: Record<string, string> = {},
): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(5000),
    });
  } catch (err) {
    throw new Error(`POST ${url} (expected ${expected}): no answer (${(err as Error).message})`, {
      cause: err,
    });
  }
  const text = await res.text();
  if (res.status !== expected) throw new Error(`POST ${url} → ${res.status} (expected ${expected}): ${text}`);
  return text;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ----- Memory of the Node-RED child -----------------------------------------------------------

/**
 * The pid of the Node-RED child. RedProcess does not expose it, and Node-RED sets its process title
 * (so /proc/<pid>/cmdline reads "node-red"), so it is found in /proc among the children of this
 * process: the one whose command line or open files name the child's user directory, else the only
 * child. undefined off Linux.
 */
export function redPid(red: RedProcess): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) children.push(Number(entry));
    } catch {
      // The process ended meanwhile, or is not ours to read.
    }
  }
  const names = (pid: number): boolean => {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(red.userDir)) return true;
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(red.userDir);
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  };
  return children.find(names) ?? (children.length === 1 ? children[0] : undefined);
}

export interface Memory {
  /** Resident set size now, MB. */
  rssMb: number;
  /** Peak resident set size (VmHWM: since start, or since resetPeak), MB. */
  hwmMb: number;
}

export function memoryOf(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0: `echo 5 > /proc/<pid>/clear_refs`); false if not possible. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Polls VmRSS every `everyMs` (default 50) and keeps the highest value seen. */
export function pollRss(pid: number, everyMs = 50): { stop(): number } {
  let peak = memoryOf(pid)?.rssMb ?? NaN;
  const timer = setInterval(() => {
    const now = memoryOf(pid)?.rssMb;
    if (now !== undefined && !(now <= peak)) peak = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const now = memoryOf(pid)?.rssMb;
      if (now !== undefined && !(now <= peak)) peak = now;
      return peak;
    },
  };
}

/** CPU time (user + system) of a process so far, in clock ticks (1/100 s); undefined when unreadable. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "(comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/**
 * Waits until the process has been (almost) idle for one 250 ms window: less than 10% of a CPU, so
 * work left over from one measured run (runs still starting, garbage collection) does not land on
 * the next. Returns the ms waited; gives up after `maxMs` (default 30 s).
 */
export async function waitIdle(pid: number | undefined, maxMs = 30_000): Promise<number> {
  if (pid === undefined) {
    await sleep(500);
    return 500;
  }
  const started = Date.now();
  let before = cpuTicks(pid);
  while (before !== undefined && Date.now() - started < maxMs) {
    await sleep(250);
    const after = cpuTicks(pid);
    if (after === undefined) break;
    // 100 ticks per second on Linux: 250 ms of one CPU = 25 ticks; idle = at most 2.
    if (after - before <= 2) break;
    before = after;
  }
  return Date.now() - started;
}

/** The reference of the HTTP benchmarks: plain Node-RED `http in` (POST /ref) → `http response`. */
export function referenceFlow(tab: string): Record<string, unknown>[] {
  return [
    {
      id: 'ref-in',
      type: 'http in',
      z: tab,
      name: 'ref',
      url: '/ref',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      x: 120,
      y: 60,
      wires: [['ref-out']],
    },
    {
      id: 'ref-out',
      type: 'http response',
      z: tab,
      name: '',
      statusCode: '200',
      headers: {},
      x: 320,
      y: 60,
      wires: [],
    },
  ];
}

// ----- A throwaway PostgreSQL server, shared by the sections that need one --------------------

/** fsync of the benchmark's PostgreSQL server: on (as in production) unless BENCH_PG_FSYNC=off. */
export const PG_FSYNC = !/^(off|0|false|no)$/i.test(process.env.BENCH_PG_FSYNC ?? '');

let postgres: Promise<TestPostgres> | undefined;
let running: TestPostgres | undefined;
let databases = 0;

/**
 * A new, empty database on the benchmark's PostgreSQL server (started on first use: Debian's
 * binaries, initdb in a temp folder, a free port of 127.0.0.1; see test/support/postgres.ts).
 * Throws with a readable reason when PostgreSQL is not installed.
 */
export async function postgresDatabase(): Promise<string> {
  if (!postgres) {
    const bin = postgresBinDir();
    if (!bin) {
      throw new Error(
        'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql',
      );
    }
    postgres = startPostgres(bin, { fsync: PG_FSYNC });
    postgres.then((server) => (running = server)).catch(() => undefined);
  }
  const server = await postgres;
  return server.createDatabase(`bench_${process.pid}_${++databases}`);
}

/** Stops the benchmark's PostgreSQL server, if one was started (synchronous: usable on exit). */
export function stopPostgres(): void {
  postgres = undefined;
  running?.stop();
  running = undefined;
}
