// Webhook in with an HMAC signature check (GitHub's scheme: SHA-256 of the exact body) against the
// same Webhook in without any protection, both in ONE Node-RED (child process, 127.0.0.1, temp user
// directory), each wired to the same JSON Schema Validation. Also, for information, one with every
// protection on (allowlist, rate limit far above the load, shared secret, signature). autocannon,
// 50 connections, BENCH_SECONDS per run, runs alternating plain, signed, all, plain, signed, all.
import autocannon from 'autocannon';
import type { Result } from 'autocannon';
import { createHmac, randomBytes } from 'node:crypto';
import { NODE_RED_PKG, startNodeRed } from '../test/editor/red-process.js';
import type { RedProcess } from '../test/editor/red-process.js';
import { SECONDS, fmt, heading, verdict } from './common.js';
import type { SectionResult } from './common.js';

const CONNECTIONS = 50;
const TARGET_RATIO = 0.9;

/** The check-in payload of the iHook tutorial (seeds/001). */
const PAYLOAD = JSON.stringify({
  memberId: '12345',
  eventCode: 'CONF2026',
  checkInTime: '2026-05-27T09:15:00',
  sessionCode: 'KEYNOTE',
});
const SCHEMA = JSON.stringify({
  type: 'object',
  properties: { memberId: { type: 'string' }, eventCode: { type: 'string' } },
  required: ['memberId', 'eventCode'],
});

const SIGNING = randomBytes(20).toString('hex');
const API_KEY = randomBytes(18).toString('base64url');
const SIGNATURE = `sha256=${createHmac('sha256', SIGNING).update(PAYLOAD).digest('hex')}`;

type Target = 'plain' | 'signed' | 'all';
const TOKENS: Record<Target, string> = {
  plain: randomBytes(24).toString('base64url'),
  signed: randomBytes(24).toString('base64url'),
  all: randomBytes(24).toString('base64url'),
};
const HEADERS: Record<Target, Record<string, string>> = {
  plain: { 'content-type': 'application/json' },
  signed: { 'content-type': 'application/json', 'x-hub-signature-256': SIGNATURE },
  all: { 'content-type': 'application/json', 'x-hub-signature-256': SIGNATURE, 'x-api-key': API_KEY },
};
const PROTECTIONS: Record<Target, Record<string, unknown>> = {
  plain: {},
  signed: { signature: 'github' },
  all: {
    signature: 'github',
    secretHeader: 'X-Api-Key',
    allowFrom: '127.0.0.0/8, ::1',
    rateLimit: 1_000_000,
    ratePeriod: 'second',
  },
};

const flows = [
  { id: 'bench-tab', type: 'tab', label: 'Protection benchmark' },
  ...(Object.keys(TOKENS) as Target[]).flatMap((target, i) => [
    {
      id: `${target}-in`,
      type: 'imis-webhook-in',
      z: 'bench-tab',
      name: target,
      ...PROTECTIONS[target],
      x: 120,
      y: 60 + 80 * i,
      wires: [[`${target}-validate`]],
    },
    {
      id: `${target}-validate`,
      type: 'imis-schema-validate',
      z: 'bench-tab',
      schema: SCHEMA,
      schemaSource: 'config',
      property: 'payload',
      onInvalid: 'error',
      outputs: 1,
      x: 340,
      y: 60 + 80 * i,
      wires: [[]],
    },
  ]),
];

function cannon(url: string, headers: Record<string, string>, duration: number): Promise<Result> {
  return autocannon({ url, method: 'POST', connections: CONNECTIONS, duration, headers, body: PAYLOAD });
}

/** POSTs the payload with `headers` and throws unless the answer is `expected`. */
async function expect(url: string, headers: Record<string, string>, expected: number): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers, body: PAYLOAD, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`POST ${url} → ${res.status} (expected ${expected}): ${text}`);
}

export async function protectBench(): Promise<SectionResult> {
  heading('5. Webhook in with HMAC signature check  vs  the same endpoint without');
  let red: RedProcess | undefined;
  try {
    red = await startNodeRed({
      flows,
      credentials: {
        'plain-in': { token: TOKENS.plain },
        'signed-in': { token: TOKENS.signed, signatureSecret: SIGNING },
        'all-in': { token: TOKENS.all, signatureSecret: SIGNING, headerSecret: API_KEY },
      },
    });
    const url = (t: Target) => `${red!.url}/imis/hook/${TOKENS[t]}`;
    console.log(`Node ${process.version}, Node-RED ${red.version} (${NODE_RED_PKG}), ${red.url}`);
    console.log(
      `autocannon: ${CONNECTIONS} connections, ${SECONDS} s per run, POST ${PAYLOAD.length} bytes JSON`,
    );
    console.log(
      'plain: no protection; signed: GitHub signature; all: allowlist, rate limit, secret header, signature\n',
    );

    // Each endpoint accepts its request, and the protected ones refuse an unsigned one.
    for (const t of ['plain', 'signed', 'all'] as const) await expect(url(t), HEADERS[t], 200);
    await expect(url('signed'), HEADERS.plain, 401);
    await expect(url('all'), HEADERS.signed, 401);

    const warmup = Math.min(2, SECONDS);
    for (const t of ['plain', 'signed', 'all'] as const) await cannon(url(t), HEADERS[t], warmup);

    const rows: { target: Target; reqPerSec: number; p99: number; failures: number }[] = [];
    console.log(
      `${'run'.padEnd(8)}${'req/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'non-2xx'.padStart(10)}`,
    );
    for (const target of ['plain', 'signed', 'all', 'plain', 'signed', 'all'] as const) {
      const result = await cannon(url(target), HEADERS[target], SECONDS);
      rows.push({
        target,
        reqPerSec: result.requests.average,
        p99: result.latency.p99,
        failures: result.non2xx + result.errors,
      });
      console.log(
        `${target.padEnd(8)}${fmt(result.requests.average, 0)}${fmt(result.latency.p50)}${fmt(result.latency.p99)}${String(result.non2xx + result.errors).padStart(10)}`,
      );
    }

    const mean = (t: Target) => {
      const of = rows.filter((r) => r.target === t);
      return of.reduce((sum, r) => sum + r.reqPerSec, 0) / of.length;
    };
    const failures = rows.reduce((sum, r) => sum + r.failures, 0);
    const ratio = mean('signed') / mean('plain');
    const ratioOk = ratio >= TARGET_RATIO;
    console.log('');
    const lines = [
      `signed/plain req/s (mean of runs): ${ratio.toFixed(3)}  target >= ${TARGET_RATIO}: ${verdict(ratioOk)}`,
      `all protections/plain req/s: ${(mean('all') / mean('plain')).toFixed(3)} (for information)`,
    ];
    if (failures > 0) lines.push(`${failures} non-2xx responses or connection errors (expected 0)`);
    for (const line of lines) console.log(line);
    const met = ratioOk && failures === 0;
    console.log(met ? 'TARGETS MET' : 'TARGETS NOT MET');
    return { lines, met };
  } finally {
    await red?.close();
  }
}
