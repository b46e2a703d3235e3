import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { rmSync } from 'node:fs';
import { freePort, requirePostgres, startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';
import WebSocket from 'ws';
import { normalizeDefinition } from '../../src/workflow/index.js';
import { everySecondCron } from '../support/flows.js';
import { orderLifecycle } from '../workflow/fixtures.js';
import { prepareUserDir, startRed, waitUntil } from './red-child.js';
import type { RedChild } from './red-child.js';

/**
 * Issue 20, chaos: two Node-RED processes share one PostgreSQL, each with the same per-second Cron
 * and Webhook in, both wired to an HTTP request to a counter here. PostgreSQL is stopped (as a
 * crash: immediate) under load and started again. Each process keeps answering (503 with
 * Retry-After while the store cannot be reached, never a 500), connects again by itself, loses
 * no acknowledged (200) call, and fires no scheduled second twice: a second it cannot claim is not
 * fired at all.
 */

const SECOND = 1000;

interface Call {
  tag: string;
  status: number;
  retryAfter: string | null;
  at: number;
}

describe('System: PostgreSQL stopped and started again under two Node-RED processes', function () {
  this.timeout(180_000);
  let pg: TestPostgres | undefined;
  let counter: Server | undefined;
  const dirs: string[] = [];
  const reds: RedChild[] = [];
  const seconds = new Map<number, number>();
  const hooks = new Map<string, number>();
  const token = randomBytes(24).toString('base64url');
  const ordersToken = randomBytes(24).toString('base64url');
  let url = '';

  before(async function () {
    const bin = requirePostgres(this);
    pg = await startPostgres(bin as string);
    counter = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const payload = JSON.parse(body);
        if (payload.trigger) {
          const at = Date.parse(payload.trigger.scheduledStartTimeUtc as string);
          seconds.set(at, (seconds.get(at) ?? 0) + 1);
        } else hooks.set(payload.tag, (hooks.get(payload.tag) ?? 0) + 1);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => counter!.listen(0, '127.0.0.1', resolve));
    url = pg!.createDatabase('outage');
    const { port: counterPort } = counter!.address() as { port: number };
    const count = {
      type: 'http request',
      z: 'tab',
      method: 'POST',
      ret: 'txt',
      url: `http://127.0.0.1:${counterPort}/`,
    };
    const flows = [
      { id: 'tab', type: 'tab', label: 'outage' },
      everySecondCron('tick', 'tab', 'once', ['count-tick']),
      { id: 'hook', z: 'tab', type: 'imis-webhook-in', name: 'calls', wires: [['count-hook']] },
      { id: 'count-tick', ...count, wires: [[]] },
      // Orders: Webhook in → the order lifecycle's state machine (its SUBMIT is a webhook transition).
      { id: 'wf', type: 'imis-workflow', ...normalizeDefinition({ ...orderLifecycle() }), cfgVersion: 1 },
      { id: 'orders', z: 'tab', type: 'imis-webhook-in', name: 'order calls', wires: [['as-webhook']] },
      {
        id: 'as-webhook',
        z: 'tab',
        type: 'change',
        rules: [{ t: 'set', p: 'trigger', pt: 'msg', to: 'webhook', tot: 'str' }],
        wires: [['sm']],
      },
      {
        id: 'sm',
        z: 'tab',
        type: 'imis-state-machine',
        workflow: 'wf',
        trigger: 'msg',
        noMatch: 'output',
        cfgVersion: 1,
        wires: [[], [], [], []],
      },
      { id: 'count-hook', ...count, wires: [[]] },
    ];
    const sites = await Promise.all(
      [0, 1].map(async () => {
        const port = await freePort();
        const dir = prepareUserDir({
          port,
          flows,
          credentials: { hook: { token }, orders: { token: ordersToken } },
          imis: { store: { url, leaseSeconds: 2 } },
        });
        dirs.push(dir);
        return { dir, port };
      }),
    );
    reds.push(...(await Promise.all(sites.map((s) => startRed(s.dir, s.port, 60_000)))));
  });
  after(async () => {
    for (const red of reds) await red.kill();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    counter?.close();
    pg?.stop();
  });

  it("shares the runs dashboards' live updates and the rejected calls list between the processes", async () => {
    // A dashboard open on process 1 hears of a run that settles on process 0 (Node-RED's comms).
    const comms = new WebSocket(`${reds[1].url.replace('http', 'ws')}/comms`);
    const heard: { topic: string; data: { id?: string; triggerIds?: string[] } }[] = [];
    comms.on('message', (data: Buffer) => {
      const parsed = JSON.parse(data.toString());
      heard.push(...(Array.isArray(parsed) ? parsed : [parsed]));
    });
    await new Promise((resolve, reject) => comms.once('open', resolve).once('error', reject));
    comms.send(JSON.stringify({ subscribe: 'imis/#' }));
    try {
      // Node-RED's comms protocol does not acknowledge a subscription: a short wait for it to be
      // registered before the run that must be heard.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const res = await fetch(`${reds[0].url}/imis/hook/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tag: 'shared' }),
      });
      assert.equal(res.status, 200);
      const { id } = (await res.json()) as { id: string };
      await waitUntil(
        () => heard.some((m) => m.topic === 'imis/runs' && m.data.id === id),
        10_000,
        "process 1's dashboards hear of the run settled on process 0",
      );
      // A call rejected by process 0 is listed by process 1 (and announced to its dashboards).
      const bad = await fetch(`${reds[0].url}/imis/hook/${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '[1, 2]',
      });
      assert.equal(bad.status, 400);
      await waitUntil(
        async () => {
          const listed = (await (
            await fetch(`${reds[1].url}/imis/refused?triggerId=hook`)
          ).json()) as unknown[];
          return listed.length === 1;
        },
        10_000,
        'the rejected call listed by process 1',
      );
      await waitUntil(
        () => heard.some((m) => m.topic === 'imis/rejected' && (m.data.triggerIds ?? []).includes('hook')),
        10_000,
        "process 1's dashboards told of the rejected call",
      );
      const mine = (await (await fetch(`${reds[0].url}/imis/refused?triggerId=hook`)).json()) as unknown[];
      assert.equal(mine.length, 1, 'listed once by the process that rejected it');
    } finally {
      comms.close();
    }
    hooks.clear();
  });

  it('gives one history line when two editors on two processes advance the same workflow instance at once', async () => {
    const order = await fetch(`${reds[0].url}/imis/hook/${ordersToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: 'A-1' }),
    });
    assert.equal(order.status, 200);
    const instance = `/imis/workflows/ORDER/instances/A-1`;
    await waitUntil(
      async () => {
        const res = await fetch(`${reds[1].url}${instance}`);
        return res.ok && ((await res.json()) as { state?: string }).state === 'SUBMITTED';
      },
      10_000,
      'the order submitted, seen from process 1',
    );
    // Five rounds of two editors at once, one on each process (EXPIRE, then RETRY back, ...).
    for (const transition of ['EXPIRE', 'RETRY', 'EXPIRE', 'RETRY', 'EXPIRE']) {
      const answers = await Promise.all(
        reds.map((red) =>
          fetch(`${red.url}${instance}/advance`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ transition }),
          }),
        ),
      );
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(
        statuses,
        [200, 409],
        `${transition}: one editor's advance, the other told it did not fire`,
      );
    }
    const history = (await (await fetch(`${reds[1].url}${instance}/history`)).json()) as {
      transition?: string;
      kind: string;
    }[];
    assert.deepEqual(
      history.map((h) => h.transition ?? h.kind),
      ['created', 'SUBMIT', 'EXPIRE', 'RETRY', 'EXPIRE', 'RETRY', 'EXPIRE'],
      'one history line per advance',
    );
  });

  it('answers 503 with Retry-After while it is down, loses no acknowledged call, fires no second twice, and resumes by itself', async () => {
    // Four callers, alternating between the processes, until told to stop.
    const calls: Call[] = [];
    let sending = true;
    let n = 0;
    const caller = async () => {
      while (sending) {
        const tag = `w${n++}`;
        const red = reds[n % 2];
        const at = Date.now();
        try {
          const res = await fetch(`${red.url}/imis/hook/${token}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ tag }),
          });
          await res.arrayBuffer();
          calls.push({ tag, status: res.status, retryAfter: res.headers.get('retry-after'), at });
        } catch {
          calls.push({ tag, status: 0, retryAfter: null, at });
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const load = Promise.all([caller(), caller(), caller(), caller()]);
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    await pause(3 * SECOND);
    const downAt = Date.now();
    pg!.down();
    await pause(6 * SECOND);
    pg!.up();
    const upAt = Date.now();
    // Back: calls are acknowledged again, by both processes, without a restart.
    await waitUntil(
      () => calls.filter((c) => c.at > upAt && c.status === 200).length >= 20,
      30_000,
      'calls acknowledged again after PostgreSQL came back',
      100,
    ).catch((err: Error) => {
      sending = false;
      const since = calls.filter((c) => c.at > upAt);
      throw new Error(
        `${err.message}: since then ${JSON.stringify(since.slice(-5))}\n` +
          reds.map((r) => r.output().slice(-3000)).join('\n-----\n'),
      );
    });
    await pause(4 * SECOND);
    sending = false;
    await load;

    const statuses = [...new Set(calls.map((c) => c.status))].sort();
    assert.deepEqual(
      statuses.filter((s) => s !== 200 && s !== 503),
      [],
      `only 200 and 503 answers (got ${statuses.join(', ')})`,
    );
    const refused = calls.filter((c) => c.status === 503);
    assert.ok(refused.length > 0, 'calls made while PostgreSQL was down were answered 503');
    assert.deepEqual(
      refused.filter((c) => !/^\d+$/.test(c.retryAfter ?? '')),
      [],
      'each 503 says when to retry',
    );
    const ok = calls.filter((c) => c.status === 200);
    await waitUntil(
      () => ok.every((c) => hooks.has(c.tag)),
      30_000,
      'a run for every acknowledged call',
      100,
    ).catch((err: Error) => {
      const lost = ok.filter((c) => !hooks.has(c.tag)).map((c) => c.tag);
      throw new Error(`${err.message}: ${lost.length} lost, e.g. ${lost.slice(0, 5).join(', ')}`);
    });
    const doubled = [...hooks].filter(([, times]) => times > 1);
    assert.deepEqual(doubled, [], 'each acknowledged call ran once');
    const unacknowledged = [...hooks.keys()].filter((tag) => !ok.some((c) => c.tag === tag));
    assert.deepEqual(unacknowledged, [], 'no run for a call answered 503');

    const twice = [...seconds].filter(([, times]) => times > 1).map(([at]) => new Date(at).toISOString());
    assert.deepEqual(twice, [], 'no second fired twice');
    // Seconds fire again, each once, from shortly after PostgreSQL is back.
    const end = Math.floor(Date.now() / SECOND) * SECOND - SECOND;
    const resumed = Math.ceil((upAt + 2 * SECOND) / SECOND) * SECOND;
    const after = Array.from({ length: (end - resumed) / SECOND + 1 }, (_, i) => resumed + i * SECOND);
    assert.deepEqual(
      after.filter((at) => !seconds.has(at)).map((at) => new Date(at).toISOString()),
      [],
      'each second fired again once PostgreSQL was back',
    );
    const outage = [...seconds.keys()].filter((at) => at > downAt + SECOND && at < upAt - SECOND);
    assert.deepEqual(outage, [], 'no second fired while no process could claim it');
    console.log(
      `      ${calls.length} calls: ${ok.length} acknowledged (each ran once), ${refused.length} answered 503; ` +
        `${seconds.size} seconds fired, none twice`,
    );
  });
});
