// JSON Schema Validation's own cost, in this process: the seed payload (bench/webhook.ts PAYLOAD, the
// iHook tutorial's check-in) against its schema, validated through src/core/schema.ts as the node
// does it (compileSchema once at deploy, then the validator per message, violations [] when valid)
// vs plain ajv (default options, ajv-formats, the same ISO `date-time`) with the same schema
// compiled once. BENCH_SCHEMA_ROUNDS rounds (default 10) of BENCH_SCHEMA_VALIDATIONS validations
// each (default 1,000,000) for each side, in alternating chunks of 20,000 (which goes first
// alternates too), timed by the process's CPU time: a machine busy with other work slows both
// alike. Target: ours within 5% of plain (median of the rounds' ratios).
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import { compileSchema } from '../src/core/schema.js';
import { fmt, heading, mean, percentile, verdict } from './common.js';
import type { SectionResult } from './common.js';
import { PAYLOAD, SCHEMA } from './webhook.js';

const ROUNDS = Math.max(2, Math.trunc(Number(process.env.BENCH_SCHEMA_ROUNDS) || 10));
const VALIDATIONS = Math.max(1000, Math.trunc(Number(process.env.BENCH_SCHEMA_VALIDATIONS) || 1_000_000));
const MAX_RATIO = 1.05;

const CHUNK = 20_000;

/** CPU nanoseconds (user + system) that `n` calls of `valid` take; each must hold. */
function cpuTime(valid: () => boolean, n: number): number {
  const before = process.cpuUsage();
  let ok = 0;
  for (let i = 0; i < n; i++) if (valid()) ok++;
  const used = process.cpuUsage(before);
  if (ok !== n) throw new Error(`${n - ok} of ${n} validations failed`);
  return (used.user + used.system) * 1000;
}

/** One round: `n` validations of each side in alternating chunks; nanoseconds per validation. */
function round(runs: Record<'ours' | 'plain', () => boolean>, n: number, first: 'ours' | 'plain') {
  const total = { ours: 0, plain: 0 };
  const second: 'ours' | 'plain' = first === 'ours' ? 'plain' : 'ours';
  for (let done = 0; done < n; done += CHUNK) {
    const size = Math.min(CHUNK, n - done);
    const order = (done / CHUNK) % 2 === 0 ? ([first, second] as const) : ([second, first] as const);
    for (const which of order) total[which] += cpuTime(runs[which], size);
  }
  return { ours: total.ours / n, plain: total.plain / n };
}

export async function schemaBench(): Promise<SectionResult> {
  heading('JSON Schema Validation: core/schema vs plain ajv, same schema compiled once');
  // The node's data: the body as the Webhook in parses it. Both validate the same object.
  const data: unknown = JSON.parse(PAYLOAD);

  const ours = compileSchema(SCHEMA); // as the node compiles its configured schema
  const ajv = new Ajv();
  addFormats(ajv);
  // The same date-time as ours (the payload's checkInTime has no offset, see src/core/schema.ts).
  ajv.addFormat('date-time', fullFormats['iso-date-time']);
  const plain = ajv.compile(JSON.parse(SCHEMA) as object);

  const runs = {
    ours: () => ours(data).length === 0,
    plain: () => plain(data) === true,
  };
  // Both answer alike, valid and invalid, before measuring.
  const invalid = { memberId: 12345 };
  if (!runs.ours() || !runs.plain() || ours(invalid).length === 0 || plain(invalid)) {
    throw new Error('ours and plain ajv disagree on the seed payload');
  }
  round(runs, VALIDATIONS / 10, 'ours'); // warm-up: both optimised before the first measured round

  console.log(
    `${VALIDATIONS.toLocaleString('en')} validations per side and round, ${ROUNDS} rounds, chunks of ${CHUNK.toLocaleString('en')}, CPU time, Node ${process.version}\n`,
  );
  console.log(
    `${'round'.padEnd(8)}${'ours ns'.padStart(10)}${'plain ns'.padStart(10)}${'ratio'.padStart(10)}`,
  );
  const ratios: number[] = [];
  const ns = { ours: [] as number[], plain: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const got = round(runs, VALIDATIONS, r % 2 === 0 ? 'ours' : 'plain');
    ns.ours.push(got.ours);
    ns.plain.push(got.plain);
    ratios.push(got.ours / got.plain);
    console.log(
      `${String(r + 1).padEnd(8)}${fmt(got.ours, 1)}${fmt(got.plain, 1)}${fmt(got.ours / got.plain, 3)}`,
    );
  }
  // The median round: one round disturbed by the machine (GC, another process) does not decide.
  const ratio = percentile(ratios, 50);
  const ok = ratio <= MAX_RATIO;
  console.log(
    `\nours ${mean(ns.ours).toFixed(1)} ns, plain ajv ${mean(ns.plain).toFixed(1)} ns per validation (means of rounds)`,
  );
  return {
    lines: [
      `ours/plain ajv time per validation (median of ${ROUNDS} rounds): ${ratio.toFixed(3)}  target <= ${MAX_RATIO}: ${verdict(ok)}`,
      `ours ${mean(ns.ours).toFixed(1)} ns, plain ajv ${mean(ns.plain).toFixed(1)} ns per validation`,
    ],
    met: ok,
  };
}
