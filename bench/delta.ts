// Delta Hash over 100,000 × 10 rows with 1% changed, against hashing the same rows with node:crypto
// alone, in the same run. Each measurement is a child process of its own (delta-child.ts), which
// builds the same rows, so that peak RSS compares like with like:
//   reference  createHash('sha256').update(JSON.stringify(row)).digest('hex') for each row (judged),
//              and node:crypto's one-shot hash() on the same (shown: Delta Hash hashes with it)
//   delta      what the Delta Hash node does per run on the embedded store (SQLite): read the
//              100,000 stored hashes, hash each row's stable JSON, compare, commit the 1,000 changes
// The store is seeded once by a first run (every row new), not measured. Ratios: reference ÷ delta
// for time and for peak RSS; target ≥ 0.5 for both. BENCH_DELTA_RUNS (default 3): measured runs of
// each, the median is judged.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, heading, verdict } from './common.js';
import type { SectionResult } from './common.js';

const RUNS = Math.max(1, Math.floor(Number(process.env.BENCH_DELTA_RUNS) || 3));
const TARGET_RATIO = 0.5;

interface Measure {
  ms: number;
  rssBeforeMb: number;
  peakRssMb: number;
  changed: number;
  removed: number;
  steps: Record<string, number>;
}

function measure(mode: 'seed' | 'hash' | 'hash1' | 'delta', file: string): Measure {
  const out = execFileSync(process.execPath, ['--expose-gc', join(__dirname, 'delta-child.js'), mode, file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Measure;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

export async function deltaBench(): Promise<SectionResult> {
  heading(`Delta Hash: 100,000 × 10 rows, 1% changed, vs SHA-256 of each row alone (${RUNS} runs each)`);
  const dir = mkdtempSync(join(tmpdir(), 'imis-bench-delta-'));
  const seeded = join(dir, 'seed.db');
  try {
    const seed = measure('seed', seeded);
    console.log(`seeded the store: ${seed.changed} rows hashed and committed in ${seed.ms.toFixed(0)} ms`);
    const hash: Measure[] = [];
    const hash1: Measure[] = [];
    const delta: Measure[] = [];
    for (let i = 0; i < RUNS; i++) {
      hash.push(measure('hash', seeded));
      hash1.push(measure('hash1', seeded));
      // Each delta run starts from the seeded store (a copy), so every run finds the same 1%.
      const file = join(dir, `run-${i}.db`);
      copyFileSync(seeded, file);
      delta.push(measure('delta', file));
      console.log(
        `run ${i + 1}: reference ${fmt(hash[i].ms, 0, 6)} ms, peak ${fmt(hash[i].peakRssMb, 0, 4)} MB | ` +
          `one-shot hash ${fmt(hash1[i].ms, 0, 6)} ms | ` +
          `delta ${fmt(delta[i].ms, 0, 6)} ms, peak ${fmt(delta[i].peakRssMb, 0, 4)} MB, ` +
          `${delta[i].changed} changed, ${delta[i].removed} removed ` +
          `(read ${delta[i].steps.read?.toFixed(0)} ms, compare ${delta[i].steps.compare?.toFixed(0)} ms, commit ${delta[i].steps.commit?.toFixed(0)} ms)`,
      );
    }
    const correct = delta.every((d) => d.changed === 1000 && d.removed === 0);
    const time = median(hash.map((h) => h.ms)) / median(delta.map((d) => d.ms));
    const rss = median(hash.map((h) => h.peakRssMb)) / median(delta.map((d) => d.peakRssMb));
    const rowsMb = median(hash.map((h) => h.rssBeforeMb));
    const oneShot = median(hash1.map((h) => h.ms)) / median(delta.map((d) => d.ms));
    const lines = [
      `time ratio (reference ms ÷ delta ms, medians): ${time.toFixed(3)}  target >= ${TARGET_RATIO}: ${verdict(time >= TARGET_RATIO)}` +
        ` (delta ${median(delta.map((d) => d.ms)).toFixed(0)} ms, reference ${median(hash.map((h) => h.ms)).toFixed(0)} ms)`,
      `peak RSS ratio (reference MB ÷ delta MB, medians): ${rss.toFixed(3)}  target >= ${TARGET_RATIO}: ${verdict(rss >= TARGET_RATIO)}` +
        ` (delta ${median(delta.map((d) => d.peakRssMb)).toFixed(0)} MB, reference ${median(hash.map((h) => h.peakRssMb)).toFixed(0)} MB; the rows alone ${rowsMb.toFixed(0)} MB)`,
      `time ratio against the one-shot hash() reference (shown, not judged): ${oneShot.toFixed(3)}` +
        ` (${median(hash1.map((h) => h.ms)).toFixed(0)} ms)`,
      `result: ${correct ? '1,000 changed rows found in every run' : 'WRONG: not 1,000 changed rows'}`,
    ];
    for (const line of lines) console.log(line);
    return { lines, met: correct && time >= TARGET_RATIO && rss >= TARGET_RATIO };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
