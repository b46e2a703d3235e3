import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/server.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { freePort, requirePostgres, startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';
import { accepted, activitiesByTag, runLoad } from './load.js';
import { checkInFlows, prepareUserDir, startRed, waitUntil } from './red-child.js';
import type { RedChild } from './red-child.js';

/**
 * Issue 9: two Node-RED processes, each with its own user directory and port and the same flows,
 * share one PostgreSQL store and accept webhooks at the same time. Short leases (2 s) make each
 * process look for other processes' inputs every 2 s during the load: a live process's inputs
 * must never be taken (each webhook runs exactly once) and none may be lost.
 */

const PER_PROCESS = 600;

describe('System: two Node-RED processes on one PostgreSQL store', function () {
  this.timeout(120_000);
  let emulator: Emulator;
  let pg: TestPostgres | undefined;
  const dirs: string[] = [];
  const reds: RedChild[] = [];

  before(async function () {
    const bin = requirePostgres(this);
    pg = await startPostgres(bin as string);
    emulator = await startEmulator({ port: 0 });
  });
  after(async () => {
    for (const red of reds) await red.kill();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await emulator?.close();
    pg?.stop();
  });

  it('both accept webhooks at once: all answered 200, every run finished exactly once, no activity missing or doubled', async () => {
    const url = pg!.createDatabase('shared');
    const token = randomBytes(24).toString('base64url');
    const checkIn = checkInFlows(emulator.url);
    const sites = await Promise.all(
      [0, 1].map(async () => {
        const port = await freePort();
        const dir = prepareUserDir({
          port,
          flows: checkIn.flows,
          credentials: {
            [checkIn.hookId]: { token },
            [checkIn.serverId]: { username: 'MANAGER', password: 'manager' },
          },
          imis: { store: { url, leaseSeconds: 2 } },
        });
        dirs.push(dir);
        return { dir, port };
      }),
    );
    // Started together: both migrate the empty database at once (the advisory lock).
    reds.push(...(await Promise.all(sites.map((s) => startRed(s.dir, s.port)))));

    const started = Date.now();
    const attempts = await runLoad({
      targets: reds.map((red) => ({ url: `${red.url}/imis/hook/${token}`, count: PER_PROCESS })),
      concurrency: 8,
      members: ['101', '12345', '18150'],
      maxAttempts: 1,
    });
    const loadMs = Date.now() - started;
    assert.equal(attempts.length, 2 * PER_PROCESS);
    assert.deepEqual(
      attempts.filter((a) => a.status !== 200),
      [],
      'every webhook answered 200 at the first attempt',
    );
    const ok = accepted(attempts);

    await waitUntil(
      () => {
        const byTag = activitiesByTag(emulator);
        return ok.every((a) => byTag.has(a.tag));
      },
      30_000,
      'an activity for every webhook',
      100,
    ).catch((err: Error) => {
      const byTag = activitiesByTag(emulator);
      const missing = ok.filter((a) => !byTag.has(a.tag));
      throw new Error(
        `${err.message}: ${missing.length} missing, e.g. ${JSON.stringify(missing.slice(0, 3))}\n` +
          reds.map((r) => r.output().slice(-3000)).join('\n-----\n'),
      );
    });
    const store = await PostgresStore.open({ url, leaseMs: 2000 });
    try {
      // Every run recorded as finished, then both processes stop cleanly.
      let unfinished = ok;
      await waitUntil(
        async () => {
          const runs = await Promise.all(unfinished.map((a) => store.runs.get(a.runId as string)));
          unfinished = unfinished.filter((_a, i) => runs[i]?.status !== 'ok');
          return unfinished.length === 0;
        },
        15_000,
        'every run finished',
        200,
      );
      for (const red of reds) await red.stop();

      const byTag = activitiesByTag(emulator);
      const claimed = reds.flatMap((r) =>
        r
          .output()
          .split('\n')
          .filter((l) => /left unfinished/.test(l)),
      );
      assert.deepEqual(claimed, [], "no process took the other's inputs");
      assert.equal(byTag.size, ok.length);
      const doubled = [...byTag].filter(([, n]) => n !== 1);
      assert.deepEqual(doubled, [], 'each webhook ran exactly once');

      for (const a of ok) {
        const run = await store.runs.get(a.runId as string);
        assert.equal(run?.status, 'ok', `run ${a.runId} finished`);
        assert.equal(run?.trigger.id, checkIn.hookId);
        assert.equal(
          (run?.input as { sessionCode?: string } | undefined)?.sessionCode,
          a.tag,
          `run ${a.runId} is the webhook ${a.tag}`,
        );
      }
      assert.deepEqual(await store.inputs.claimPending(checkIn.hookId), [], 'no input left unsettled');
      let total = 0;
      let after: string | undefined;
      do {
        const page = await store.runs.list({ limit: 1000, after });
        total += page.runs.length;
        after = page.next;
      } while (after);
      assert.equal(total, ok.length, 'one run per webhook, and no other');
    } finally {
      await store.close();
    }
    assert.deepEqual(
      reds.flatMap((r) => r.errors()),
      [],
      'no errors logged',
    );
    const ports = new Set(ok.map((a) => a.target));
    assert.equal(ports.size, 2, 'both processes accepted webhooks');
    console.log(`      ${ok.length} webhooks on two processes in ${loadMs} ms`);
  });
});
