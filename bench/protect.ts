// Webhook in with an HMAC signature check (GitHub's scheme: SHA-256 of the exact body), and with a
// Standard Webhooks one (each request a new webhook-id and timestamp, signed by the client as a
// sender would, so each starts a run and its id is remembered in the store), against the same
// Webhook in without any protection, all in ONE Node-RED (child process, 127.0.0.1, temp user
// directory), each wired to the same JSON Schema Validation. Also, for information, one with every
// protection on (allowlist, rate limit far above the load, shared secret, signature). autocannon,
// 50 connections, BENCH_SECONDS per run, BENCH_ROUNDS rounds (default 1) in the mirrored order
// plain, signed, standard, all, all, standard, signed, plain, so that drift (the store growing, JIT,
// other load) favours none. Besides req/s (the target), the Node-RED child's CPU time per request, which a busy machine
// disturbs far less.
import autocannon from 'autocannon';
import type { Result } from 'autocannon';
import { createHmac, randomBytes } from 'node:crypto';
import { NODE_RED_PKG, startNodeRed } from '../test/editor/red-process.js';
import type { RedProcess } from '../test/editor/red-process.js';
import { SECONDS, check, cpuTicks, fmt, heading, mean, verdict, waitIdle } from './common.js';
import type { SectionResult } from './common.js';

const CONNECTIONS = 50;
const ROUNDS = Math.max(1, Math.trunc(Number(process.env.BENCH_ROUNDS) || 1));
const TARGET_RATIO = 0.9;

/** The check-in payload of the iHook tutorial (docs/idms.md §iHook workflow). */
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
/** Standard Webhooks: the key, and the secret as a sender shows it. */
const STANDARD_KEY = randomBytes(32);
const STANDARD_SECRET = `whsec_${STANDARD_KEY.toString('base64')}`;
let delivery = 0;

/** The headers of a new Standard Webhooks delivery of PAYLOAD, now. */
function standardHeaders(): Record<string, string> {
  const id = `msg_bench_${process.pid}_${++delivery}`;
  const seconds = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', STANDARD_KEY).update(`${id}.${seconds}.${PAYLOAD}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(seconds), 'webhook-signature': `v1,${signature}` };
}

type Target = 'plain' | 'signed' | 'standard' | 'all';
const TARGETS: Target[] = ['plain', 'signed', 'standard', 'all'];
const TOKENS: Record<Target, string> = {
  plain: randomBytes(24).toString('base64url'),
  signed: randomBytes(24).toString('base64url'),
  standard: randomBytes(24).toString('base64url'),
  all: randomBytes(24).toString('base64url'),
};
/** Fixed headers; `standard` gets new ones per request (see cannon). */
const HEADERS: Record<Target, Record<string, string>> = {
  plain: {},
  signed: { 'x-hub-signature-256': SIGNATURE },
  standard: {},
  all: { 'x-hub-signature-256': SIGNATURE, 'x-api-key': API_KEY },
};
const headersOf = (t: Target) => (t === 'standard' ? standardHeaders() : HEADERS[t]);
const PROTECTIONS: Record<Target, Record<string, unknown>> = {
  plain: {},
  signed: { signature: 'github' },
  standard: { signature: 'standard-webhooks' },
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
  ...TARGETS.flatMap((target, i) => [
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

function cannon(url: string, target: Target, duration: number): Promise<Result> {
  const headers = { 'content-type': 'application/json', ...HEADERS[target] };
  return autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration,
    headers,
    body: PAYLOAD,
    // Standard Webhooks: every request a new delivery (a repeated id would be answered, not run).
    ...(target === 'standard'
      ? {
          requests: [
            {
              setupRequest: (req: autocannon.RequestData) => ({
                ...req,
                headers: { ...headers, ...standardHeaders() },
              }),
            },
          ],
        }
      : {}),
  });
}

interface Row {
  target: Target;
  reqPerSec: number;
  p99: number;
  failures: number;
  cpuUs: number;
}

export async function protectBench(): Promise<SectionResult> {
  heading(
    'Webhook in with an HMAC signature check (GitHub, Standard Webhooks)  vs  the same endpoint without',
  );
  let red: RedProcess | undefined;
  try {
    red = await startNodeRed({
      flows,
      credentials: {
        'plain-in': { token: TOKENS.plain },
        'signed-in': { token: TOKENS.signed, signatureSecret: SIGNING },
        'standard-in': { token: TOKENS.standard, signatureSecret: STANDARD_SECRET },
        'all-in': { token: TOKENS.all, signatureSecret: SIGNING, headerSecret: API_KEY },
      },
    });
    const url = (t: Target) => `${red!.url}/imis/hook/${TOKENS[t]}`;
    console.log(`Node ${process.version}, Node-RED ${red.version} (${NODE_RED_PKG}), ${red.url}`);
    console.log(
      `autocannon: ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} round(s), POST ${PAYLOAD.length} bytes JSON`,
    );
    console.log(
      'plain: no protection; signed: GitHub signature; standard: Standard Webhooks signature, a new webhook-id per request (remembered in the store); all: allowlist, rate limit, secret header, signature\n',
    );

    // Each endpoint accepts its request, and the protected ones refuse an unsigned one.
    for (const t of TARGETS) await check(url(t), PAYLOAD, 200, headersOf(t));
    await check(url('signed'), PAYLOAD, 401);
    await check(url('standard'), PAYLOAD, 401);
    // A copy of a Standard Webhooks delivery is answered 200 (and starts nothing).
    const copy = standardHeaders();
    const first = await check(url('standard'), PAYLOAD, 200, copy);
    if ((await check(url('standard'), PAYLOAD, 200, copy)) !== first)
      throw new Error('A copy of a Standard Webhooks delivery did not get the first answer');
    await check(url('all'), PAYLOAD, 401, HEADERS.signed);

    const warmup = Math.min(2, SECONDS);
    for (const t of TARGETS) await cannon(url(t), t, warmup);

    const rows: Row[] = [];
    console.log(
      `${'run'.padEnd(8)}${'req/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'non-2xx'.padStart(10)}${'CPU µs/req'.padStart(12)}`,
    );
    const order = [...TARGETS, ...[...TARGETS].reverse()];
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of order) {
        await waitIdle(red.pid, 5000);
        const ticksBefore = cpuTicks(red.pid);
        const result = await cannon(url(target), target, SECONDS);
        const ticksAfter = cpuTicks(red.pid);
        const cpuUs =
          ticksBefore === undefined || ticksAfter === undefined
            ? NaN
            : ((ticksAfter - ticksBefore) * 10_000) / Math.max(1, result.requests.total);
        const failures = result.non2xx + result.errors;
        rows.push({ target, reqPerSec: result.requests.average, p99: result.latency.p99, failures, cpuUs });
        console.log(
          `${target.padEnd(8)}${fmt(result.requests.average, 0)}${fmt(result.latency.p50)}${fmt(result.latency.p99)}${String(failures).padStart(10)}${fmt(cpuUs, 0, 12)}`,
        );
      }
    }

    const of = (t: Target, key: 'reqPerSec' | 'cpuUs') =>
      mean(rows.filter((r) => r.target === t).map((r) => r[key]));
    const failures = rows.reduce((sum, r) => sum + r.failures, 0);
    const ratio = of('signed', 'reqPerSec') / of('plain', 'reqPerSec');
    const standardRatio = of('standard', 'reqPerSec') / of('plain', 'reqPerSec');
    const ratioOk = ratio >= TARGET_RATIO && standardRatio >= TARGET_RATIO;
    console.log('');
    const lines = [
      `signed/plain req/s (mean of runs): ${ratio.toFixed(3)}  target >= ${TARGET_RATIO}: ${verdict(ratio >= TARGET_RATIO)}`,
      `standard/plain req/s (mean of runs): ${standardRatio.toFixed(3)}  target >= ${TARGET_RATIO}: ${verdict(standardRatio >= TARGET_RATIO)}`,
      `all protections/plain req/s: ${(of('all', 'reqPerSec') / of('plain', 'reqPerSec')).toFixed(3)} (no target)`,
      `Node-RED CPU per request signed/plain: ${of('signed', 'cpuUs').toFixed(0)} / ${of('plain', 'cpuUs').toFixed(0)} µs = ${(of('signed', 'cpuUs') / of('plain', 'cpuUs')).toFixed(3)}  (no target; steadier than req/s on a busy machine)`,
      `Node-RED CPU per request standard/plain: ${of('standard', 'cpuUs').toFixed(0)} / ${of('plain', 'cpuUs').toFixed(0)} µs = ${(of('standard', 'cpuUs') / of('plain', 'cpuUs')).toFixed(3)}  (no target)`,
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
