import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { NODE_RED_PKG, startNodeRed } from '../editor/red-process.js';
import type { RedProcess } from '../editor/red-process.js';
import { waitFor } from '../support/wait.js';

/**
 * 10,000 random requests (bodies, content types and encodings, headers, signatures, secrets) against
 * a Webhook in with every protection on, in a real Node-RED (a child process on 127.0.0.1, measured
 * alone: the client is this process): Node-RED never crashes, every answer is iHook's JSON with an
 * expected status, exactly the accepted requests start runs (the Runs API lists them), and its
 * memory stays flat. Reproduce a failure with FUZZ_SEED=<the seed printed>.
 */

const REQUESTS = 10_000;
/**
 * Requests before the first memory reading, as many as are measured: the process keeps the highest
 * native memory a run of this size reaches (glibc does not hand freed, fragmented memory back;
 * Node 22 reaches more than Node 20, with the JavaScript heap flat), so only a second run of the
 * same size tells growth from that high-water mark.
 */
const WARM_UP = REQUESTS;
const CONCURRENCY = 16;
/** Tokens fewer than requests in the endpoint's rate limit (see the flow). */
const RATE_MARGIN = 2_000;
/**
 * CPU time of Node-RED allowed for the 10,000 requests. CPU rather than wall time, so that other
 * processes on a busy machine do not fail the test; the wall time is printed.
 */
const CPU_BUDGET_MS = 20_000;

const token = randomBytes(24).toString('base64url');
const SIGNING = randomBytes(20).toString('hex');
const API_KEY = randomBytes(18).toString('base64url');
const STACK_FRAME = /\n\s*at |\bat [\w$.<> ]*\(?[^()\s]*:\d+:\d+\)?/;

/** Resident memory (MB) and CPU time (ms) of a process, from Linux's /proc. */
function usage(pid: number): { rssMb: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, in clock ticks (100 per second on Linux).
  return { rssMb: rssKb / 1024, cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
}

/**
 * An admin route of the test's settings.js that collects garbage in Node-RED (started with
 * --expose-gc), so that memory is read after a GC. Its source is written into settings.js.
 */
function gcRoute(req: IncomingMessage, res: ServerResponse, next: () => void) {
  if (req.url !== '/test-gc') return next();
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect) {
    collect();
    collect();
  }
  res.end(collect ? 'collected' : 'no gc');
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FuzzRequest {
  headers: Record<string, string>;
  body: Buffer;
  chunked: boolean;
  /** Built to pass every protection and be accepted (unless the rate limit refuses it). */
  valid: boolean;
}

const RESERVED = new Set([
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'expect',
  'upgrade',
  'te',
]);

function generator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  // Random text is cut from pools drawn once (cheap: the client shares the machine with Node-RED).
  const pool = (chars: string) => Array.from({ length: 65_536 }, () => chars[int(chars.length)]).join('');
  const printables = pool(Array.from({ length: 0x5e }, (_, i) => String.fromCharCode(0x21 + i)).join(''));
  const tokens = pool('abcdefghijklmnopqrstuvwxyz0123456789-');
  const cut = (from: string, length: number) => {
    const start = int(from.length - length);
    return from.slice(start, start + length);
  };
  const printable = (max: number) => cut(printables, int(max));
  const token = (max: number) => 'x' + cut(tokens, int(max));
  const sign = (body: Buffer) => `sha256=${createHmac('sha256', SIGNING).update(body).digest('hex')}`;

  const bodies: (() => Buffer)[] = [
    () =>
      Buffer.from(JSON.stringify({ n: int(1e6), s: printable(40), nested: { a: [1, 2, printable(10)] } })),
    () => randomBytes(int(2048)),
    () => Buffer.from(printable(300)),
    () => Buffer.alloc(0),
    () => Buffer.from(`{"a":${'['.repeat(int(50))}`),
    () => Buffer.from(JSON.stringify([int(10), printable(5)])),
    () => Buffer.from(JSON.stringify({ big: 'y'.repeat(int(3000)) })),
    () => Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0xc3, 0x28]),
  ];
  const types = [
    'application/json',
    'text/json; charset=utf-8',
    'application/json; charset=latin9',
    'text/plain',
    'application/x-www-form-urlencoded',
    '',
    printable(20),
    'application/json; charset=utf-16',
  ];

  return (): FuzzRequest => {
    const valid = random() < 0.2;
    let body = valid
      ? Buffer.from(JSON.stringify({ valid: true, n: int(1e6), s: printable(30) }))
      : pick(bodies)();
    const headers: Record<string, string> = {};
    const type = valid ? 'application/json' : pick(types);
    if (type) headers['Content-Type'] = type;
    if (!valid && random() < 0.1) {
      const encoding = pick(['gzip', 'br', 'deflate', 'x-squeeze', 'gzip, gzip']);
      headers['Content-Encoding'] = encoding;
      if (encoding === 'gzip' && random() < 0.5) body = gzipSync(body);
    }
    for (let i = int(6); i > 0; i--) {
      const name = token(20);
      if (!RESERVED.has(name)) headers[name] = printable(60);
    }
    if (valid || random() < 0.5) headers['X-Api-Key'] = valid || random() < 0.5 ? API_KEY : printable(30);
    if (valid) headers['X-Hub-Signature-256'] = sign(body);
    else if (random() < 0.7)
      headers['X-Hub-Signature-256'] = pick([
        () => sign(body),
        () => sign(randomBytes(8)),
        () => `sha256=${randomBytes(32).toString('hex')}`,
        () => `sha256=${printable(64)}`,
        () => 'sha256=',
        () => printable(200),
        () => `sha1=${randomBytes(20).toString('hex')}`,
      ])();
    if (random() < 0.2)
      headers['X-Forwarded-For'] = pick(['203.0.113.9', '::1', printable(30), '10.0.0.1, 127.0.0.1']);
    return { headers, body, chunked: random() < 0.2, valid };
  };
}

interface Outcome {
  status: number;
  text: string;
}

function send(agent: Agent, url: string, r: FuzzRequest): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const headers = r.chunked ? r.headers : { ...r.headers, 'Content-Length': String(r.body.length) };
    const req = request(url, { method: 'POST', headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(5000, () => {
      req.destroy(
        new Error(
          `no answer in 5 s: ${JSON.stringify({ ...r, body: r.body.toString('base64').slice(0, 200) })}`,
        ),
      );
    });
    req.end(r.body);
  });
}

describe(`Endpoint protection under fuzzing (${NODE_RED_PKG})`, function () {
  this.timeout(240_000);
  const seed = Number(process.env.FUZZ_SEED) || Math.floor(Math.random() * 2 ** 31);
  let red: RedProcess;

  before(async function () {
    if (process.platform !== 'linux') this.skip(); // memory and CPU are read from /proc
    red = await startNodeRed({
      nodeArgs: ['--expose-gc'],
      settings: { httpAdminMiddleware: gcRoute },
      flows: [
        { id: 'tab', type: 'tab', label: 'fuzz' },
        {
          id: 'hook',
          z: 'tab',
          type: 'imis-webhook-in',
          maxBodyKb: 2,
          secretHeader: 'X-Api-Key',
          signature: 'github',
          allowFrom: '127.0.0.0/8, ::1',
          // Every request takes a token and the bucket holds 2,000 fewer than are sent; it refills
          // at about 5 a second, under 1,300 in the test's 240 s: the last requests find it empty
          // however slowly they come (a 400-token margin was eaten by the refill on a busy machine).
          rateLimit: WARM_UP + REQUESTS - RATE_MARGIN,
          ratePeriod: 'hour',
          wires: [[]],
        },
      ],
      credentials: { hook: { token, headerSecret: API_KEY, signatureSecret: SIGNING } },
    });
  });
  after(() => red?.close());

  /** Ids of every run of the flow, through the Runs API (pages of 1000). */
  async function runIds(): Promise<string[]> {
    const ids: string[] = [];
    let after = '';
    for (;;) {
      const res = await fetch(`${red.url}/imis/runs?flow=tab&limit=1000${after ? `&after=${after}` : ''}`);
      assert.equal(res.status, 200);
      ids.push(...((await res.json()) as { id: string }[]).map((r) => r.id));
      after = res.headers.get('x-next-page') ?? '';
      if (!after) return ids;
    }
  }

  it(`answers ${REQUESTS.toLocaleString('en-US')} random requests (after as many to warm up) with JSON, starts runs only for accepted ones, and keeps memory flat (seed ${seed})`, async () => {
    const url = `${red.url}/imis/hook/${token}`;
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const next = generator(prng(seed));
    const accepted = new Set<string>();
    const statuses = new Map<number, number>();
    const problems: string[] = [];

    const run = async (count: number) => {
      let sent = 0;
      const worker = async () => {
        while (sent < count) {
          sent++;
          const r = next();
          const answer = await send(agent, url, r);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          // The endpoint's answer to a fuzzed request: checked below for the shape it must have.
          let body: Record<string, unknown>;
          try {
            body = JSON.parse(answer.text);
          } catch {
            problems.push(`${answer.status} not JSON: ${answer.text.slice(0, 200)}`);
            continue;
          }
          if (STACK_FRAME.test(answer.text)) problems.push(`stack trace: ${answer.text.slice(0, 200)}`);
          if (answer.status === 200) {
            if (body.error !== false || typeof body.id !== 'string') problems.push(`200 ${answer.text}`);
            accepted.add(body.id as string);
          } else {
            if (body.error !== true || typeof body.message !== 'string')
              problems.push(`${answer.status} ${answer.text}`);
            if (![400, 401, 413, 415, 429].includes(answer.status)) problems.push(`status ${answer.status}`);
            if (r.valid && answer.status !== 429) problems.push(`valid request refused: ${answer.text}`);
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    };
    /** Waits for every accepted run to be listed, collects garbage, and reads memory and CPU. */
    const settle = async () => {
      const ids = await waitFor(
        async () => {
          const listed = await runIds();
          return listed.length >= accepted.size && listed;
        },
        30_000,
        'every accepted run listed',
        250,
      ).catch(() => runIds()); // the assertions then say what is missing
      const gc = await (await fetch(`${red.url}/test-gc`)).text();
      // The memory freed by the GC leaves the process's RSS over a few moments: read it once it has
      // been flat for 500 ms (six readings 100 ms apart within 2 MB), or after 3 s.
      const readings: number[] = [];
      await waitFor(
        () => {
          readings.push(usage(red.pid).rssMb);
          const last = readings.slice(-6);
          return last.length === 6 && Math.max(...last) - Math.min(...last) < 2;
        },
        3000,
        'RSS to settle after the GC',
        100,
      ).catch(() => undefined);
      return { ids, gc: gc === 'collected', ...usage(red.pid) };
    };

    await run(WARM_UP);
    const before = await settle();
    const t0 = Date.now();
    const client = process.cpuUsage();
    await run(REQUESTS);
    const elapsed = Date.now() - t0;
    const clientCpu = process.cpuUsage(client);
    const clientMs = Math.round((clientCpu.user + clientCpu.system) / 1000);
    const busy = usage(red.pid).cpuMs - before.cpuMs;
    const after = await settle();
    agent.destroy();

    const summary = `seed ${seed}, ${elapsed} ms (CPU: Node-RED ${busy} ms, client ${clientMs} ms), statuses ${JSON.stringify(Object.fromEntries(statuses))}, Node-RED RSS ${before.rssMb.toFixed(0)} → ${after.rssMb.toFixed(0)} MB${after.gc ? ' (after GC)' : ''}`;
    console.log(`      ${summary}`);
    assert.deepEqual(problems.slice(0, 10), [], summary);
    assert.ok(
      busy < CPU_BUDGET_MS,
      `${REQUESTS} requests took ${busy} ms of CPU (budget ${CPU_BUDGET_MS} ms)`,
    );
    // Runs start only for accepted calls, once each: no refused call started one.
    assert.equal(after.ids.length, accepted.size, summary);
    assert.deepEqual(
      after.ids.filter((id) => !accepted.has(id)),
      [],
    );
    for (const status of [200, 400, 401, 429])
      assert.ok(statuses.get(status), `some ${status} answers: ${summary}`);
    assert.ok(after.rssMb <= before.rssMb * 1.2, `RSS after ≤ 1.2 × before: ${summary}`);
    // Still serving, and said nothing alarming.
    assert.equal((await fetch(`${red.url}/settings`)).status, 200);
    assert.doesNotMatch(red.output(), /\[error\]|uncaught|unhandled/i);
  });
});
