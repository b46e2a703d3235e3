import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { rmSync } from 'node:fs';
import { everySecondCron, nodeOf } from '../support/flows.js';
import { requireNginx, startNginx } from '../support/nginx.js';
import { freePort, requirePostgres, startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';
import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/server.js';
import { accepted, activitiesByTag, runLoad } from './load.js';
import { checkInFlows, prepareUserDir, startRed, waitUntil } from './red-child.js';
import type { RedChild } from './red-child.js';

/**
 * Issue 20: three Node-RED processes deploy the same flows on one PostgreSQL store. A Cron node
 * fires every second into an HTTP request to a counter here; each scheduled second must reach the
 * counter exactly once although all three processes run the schedule, while one of them is
 * SIGKILLed and started again, and, after every process was killed, the misfire policy ("once")
 * decides the seconds all of them missed: the first one fires once, the others not at all.
 * Meanwhile 600 check-in webhooks are spread over the three (the kill falls in the middle of
 * them): every one answered 200 has exactly one activity in iMIS (its insert has a
 * de-duplication key, so an insert the killed process left unfinished is not made twice).
 */

const SECOND = 1000;

describe('System: three Node-RED processes on one PostgreSQL store, the same flows', function () {
  this.timeout(240_000);
  let pg: TestPostgres | undefined;
  let counter: Server | undefined;
  let emulator: Emulator | undefined;
  const dirs: string[] = [];
  const reds: (RedChild | undefined)[] = [];
  /** Scheduled second (epoch ms) → how many times it reached the counter. */
  const fired = new Map<number, number>();
  const ports: number[] = [];
  const guardedToken = randomBytes(24).toString('base64url');

  before(async function () {
    const bin = requirePostgres(this);
    pg = await startPostgres(bin as string);
    emulator = await startEmulator({ port: 0 });
    counter = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const at = Date.parse(JSON.parse(body).trigger.scheduledStartTimeUtc as string);
        fired.set(at, (fired.get(at) ?? 0) + 1);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => counter!.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const red of reds) await red?.kill();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    counter?.close();
    await emulator?.close();
    pg?.stop();
  });

  /** Resolves at `ms` past the next whole second (away from the fires, which fall on the second). */
  const midSecond = async (ms = 500) => {
    const wait = SECOND - (Date.now() % SECOND) + ms;
    await new Promise((resolve) => setTimeout(resolve, wait));
  };

  it('fires each scheduled second exactly once and gives each acknowledged webhook one activity while one process is killed and restarted; a second all missed fires once', async () => {
    const url = pg!.createDatabase('scale');
    const { port: counterPort } = counter!.address() as { port: number };
    const token = randomBytes(24).toString('base64url');
    const checkIn = checkInFlows(emulator!.url);
    const insert = nodeOf(checkIn.flows, (n) => n.type === 'imis-insert-activity', 'imis-insert-activity');
    Object.assign(insert, { dedupKey: '{{ input.sessionCode }}', dedupField: 'otherCode' });
    const flows = [
      ...checkIn.flows,
      { id: 'tab', type: 'tab', label: 'every second' },
      // Only 203.0.113.7 may call it (Allow from).
      {
        id: 'guarded',
        z: 'tab',
        type: 'imis-webhook-in',
        name: 'allowlist',
        allowFrom: '203.0.113.7',
        wires: [[]],
      },
      { ...everySecondCron('tick', 'tab', 'once', ['count']), name: 'every second' },
      {
        id: 'count',
        z: 'tab',
        type: 'http request',
        method: 'POST',
        ret: 'txt',
        url: `http://127.0.0.1:${counterPort}/fired`,
        wires: [[]],
      },
    ];
    ports.length = 0;
    const sites = await Promise.all(
      [0, 1, 2].map(async () => {
        const port = await freePort();
        ports.push(port);
        const dir = prepareUserDir({
          port,
          flows,
          // Behind the reverse proxy of the last test: its forwarded address is the caller's.
          settings: { httpServerOptions: { 'trust proxy': 'loopback' } },
          credentials: {
            [checkIn.hookId]: { token },
            [checkIn.serverId]: { username: 'MANAGER', password: 'manager' },
            guarded: { token: guardedToken },
          },
          imis: { store: { url, leaseSeconds: 2 } },
        });
        dirs.push(dir);
        return { dir, port };
      }),
    );
    const start = (i: number) => startRed(sites[i].dir, sites[i].port, 60_000);
    reds.push(...(await Promise.all([0, 1, 2].map(start))));

    // From the second after all three run, 40 s: 600 webhooks over the three, process 1 killed once
    // 250 were accepted (between two fires) and started again 6 s later.
    await midSecond();
    const from = Math.ceil(Date.now() / SECOND) * SECOND;
    let restarting: Promise<void> | undefined;
    const attempts = await runLoad(
      {
        targets: reds.map((red) => ({ url: `${red!.url}/imis/hook/${token}`, count: 200 })),
        concurrency: 4,
        members: ['101', '12345', '18150'],
      },
      (ok) => {
        if (restarting || ok < 250) return;
        restarting = (async () => {
          await midSecond();
          await reds[1]!.kill();
          await new Promise((resolve) => setTimeout(resolve, 6 * SECOND));
          reds[1] = await start(1);
        })();
      },
    );
    await restarting;
    const ok = accepted(attempts);
    assert.equal(ok.length, 600, 'every webhook was eventually answered 200');
    const statuses = [...new Set(attempts.map((a) => a.status))];
    assert.ok(
      statuses.every((status) => [0, 200, 503].includes(status)),
      `no answer (killed), 200, or 503: ${statuses.join(', ')}`,
    );
    await waitUntil(() => Date.now() >= from + 40 * SECOND, 60_000, '40 s of fires', 100);
    await midSecond();
    const to = Math.floor(Date.now() / SECOND) * SECOND; // the last second fired before the kill
    // Its HTTP request arrives (a second that never fires is reported by the counts below).
    await waitUntil(() => fired.has(to), 5 * SECOND, `the fire of ${to}`, 20).catch(() => undefined);

    const seconds = (a: number, b: number) =>
      Array.from({ length: (b - a) / SECOND + 1 }, (_, i) => a + i * SECOND);
    const counts = (list: number[]) => list.map((at) => fired.get(at) ?? 0);
    const window = seconds(from, to);
    assert.ok(window.length >= 40, `${window.length} seconds watched`);
    const missed = window.filter((at) => !fired.has(at)).map((at) => new Date(at).toISOString());
    const doubled = window.filter((at) => (fired.get(at) ?? 0) > 1).map((at) => new Date(at).toISOString());
    assert.deepEqual({ missed, doubled }, { missed: [], doubled: [] }, 'each second exactly once');

    // Each webhook answered 200: one activity, the killed process's unfinished ones taken over.
    await waitUntil(
      () => {
        const byTag = activitiesByTag(emulator!);
        return ok.every((a) => byTag.has(a.tag));
      },
      30_000,
      'an activity for every webhook answered 200',
      200,
    );
    const byTag = activitiesByTag(emulator!);
    const twice = ok.filter((a) => byTag.get(a.tag) !== 1).map((a) => `${a.tag}: ${byTag.get(a.tag)}`);
    assert.deepEqual(twice, [], 'exactly one activity for every webhook answered 200');
    const takenOver = reds.some((r) => /left unfinished/.test(r!.output()));

    // Every process killed at once: the seconds until one runs again are missed by all.
    await Promise.all(reds.map((red) => red!.kill()));
    const last = Math.max(...fired.keys());
    const restarted = await Promise.all([0, 1, 2].map(start));
    reds.splice(0, 3, ...restarted);
    const regular = () => [...fired.keys()].filter((at) => at > last + SECOND).sort((a, b) => a - b);
    await waitUntil(() => regular().length >= 4, 60_000, 'fires after the restart', 50);
    await midSecond();
    const back = regular()[0];
    const end = Math.max(...fired.keys());
    // The first second missed fires once, at start-up; the others are skipped.
    assert.equal(fired.get(last + SECOND), 1, 'the first missed second fired once (misfire: once)');
    const gap = back > last + 2 * SECOND ? seconds(last + 2 * SECOND, back - SECOND) : [];
    assert.deepEqual(
      counts(gap),
      gap.map(() => 0),
      'the other missed seconds are skipped',
    );
    const again = seconds(back, end);
    assert.deepEqual(
      counts(again),
      again.map(() => 1),
      `each second again exactly once; after the last before the kill: ` +
        JSON.stringify(seconds(last, end).map((at) => [(at - last) / SECOND, fired.get(at) ?? 0])) +
        reds.map((r) => r!.output().slice(-1500)).join('\n-----\n'),
    );
    assert.deepEqual(
      reds.flatMap((r) => r!.errors()),
      [],
      'no errors logged',
    );
    console.log(
      `      ${window.length} seconds with one process killed: each fired once; ${ok.length} webhooks ` +
        `in ${attempts.length} attempts, one activity each${takenOver ? ' (inputs taken over)' : ''}; ` +
        `${gap.length} seconds missed by all, the first fired once at start-up`,
    );
  });

  it('passes the allowlist the address nginx forwards, in front of the three processes', async function () {
    if (!requireNginx(this)) return;
    assert.equal(reds.length, 3, 'the three processes of the test before');
    const proxy = await startNginx(ports);
    try {
      const call = (base: string, forwardedFor?: string) =>
        fetch(`${base}/imis/hook/${guardedToken}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
          },
          body: JSON.stringify({ hello: 'proxy' }),
        }).then(async (res) => {
          await res.arrayBuffer();
          return res.status;
        });
      // Round robin: six calls reach each process twice.
      const allowed = [];
      for (let i = 0; i < 6; i++) allowed.push(await call(proxy.url, '203.0.113.7'));
      assert.deepEqual(allowed, [200, 200, 200, 200, 200, 200], 'the allowed address, forwarded');
      const refused = [];
      for (let i = 0; i < 3; i++) refused.push(await call(proxy.url, '198.51.100.1'));
      assert.deepEqual(refused, [403, 403, 403], 'another address, forwarded');
      assert.equal(await call(proxy.url), 403, "the proxy's own address is not allowed");
      assert.equal(await call(reds[0]!.url), 403, 'a direct call from 127.0.0.1');
      const served = await Promise.all(
        reds.map(async (red) => {
          const res = await fetch(`${red!.url}/imis/refused?triggerId=guarded`);
          return ((await res.json()) as { address?: string }[]).map((r) => r.address);
        }),
      );
      assert.ok(
        served.every((addresses) => addresses.includes('198.51.100.1')),
        `every process lists the refused forwarded address: ${JSON.stringify(served)}`,
      );
    } finally {
      await proxy.stop();
    }
    for (const red of reds) await red!.stop();
  });
});
