import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/server.js';
import type { Emulator } from '../../src/emulator/server.js';
import type { RunRecord } from '../../src/runs/tracker.js';
import { openStore } from '../../src/store/index.js';
import { freePort, requirePostgres, startPostgres } from '../support/postgres.js';
import { quietWindow, waitFor } from '../support/wait.js';
import type { TestPostgres } from '../support/postgres.js';
import { nodeOf, type FlowNode } from '../support/flows.js';
import type { RunAnswer } from '../support/runs.js';
import { accepted, activitiesByTag, getAll, runLoad } from './load.js';
import { checkInFlows, prepareUserDir, startRed, waitUntil } from './red-child.js';
import { SQLITE_DRIVERS } from '../support/sqlite.js';
import type { RedChild } from './red-child.js';

/**
 * Issue 9, crash test: a real Node-RED (child process) runs the check-in example against the
 * emulator (which lives in the test process, so it outlives every Node-RED); another process posts
 * 2,000 webhooks while the test SIGKILLs Node-RED at three random moments and starts it again on
 * the same user directory. Every webhook answered 200 must end up as an activity, with its run
 * recorded as finished. Once on the embedded SQLite store, once on a shared PostgreSQL one.
 */

const WEBHOOKS = 2000;
const MEMBERS = ['101', '12345', '18150'];

const CHANGE_TAB = 'c2a0000000000001';
const CHANGE_IN = 'c2a0000000000002';

/**
 * The check-in flows, and the change notification endpoint. `dedup`: the insert gets a
 * de-duplication key (the check-in's session code, unique per attempt) kept in the activity's Other
 * Code, so an insert interrupted by a kill is looked up in iMIS before it is made again.
 */
function flows(checkIn: FlowNode[], dedup: boolean) {
  const insert = nodeOf(checkIn, (n) => n.type === 'imis-insert-activity', 'imis-insert-activity');
  if (dedup) Object.assign(insert, { dedupKey: '{{ input.sessionCode }}', dedupField: 'otherCode' });
  return [
    ...checkIn,
    { id: CHANGE_TAB, type: 'tab', label: 'change notifications' },
    { id: CHANGE_IN, z: CHANGE_TAB, type: 'imis-change-in', name: 'changes', wires: [['c2a0000000000003']] },
    { id: 'c2a0000000000003', z: CHANGE_TAB, type: 'debug', name: 'change', active: false, wires: [] },
  ];
}

/** One kill point in each third of the load, at a random count of accepted webhooks. */
function killPoints(): number[] {
  const third = WEBHOOKS / 3;
  return [0, 1, 2].map((i) => Math.round(third * i + third * (0.15 + 0.7 * Math.random())));
}

/** Inputs left unfinished that a (re)started process ran, from its log. */
function replayed(output: string): number {
  let total = 0;
  for (const m of output.matchAll(/Running (\d+) accepted request\(s\) left unfinished/g))
    total += Number(m[1]);
  return total;
}

function gridEvent(id: string) {
  return {
    id,
    topic: '/subscriptions/x/providers/microsoft.eventgrid/domains/d/topics/tenant1',
    subject: 'Party/101',
    eventType: 'Party.Updated',
    eventTime: new Date().toISOString(),
    dataVersion: '1.0',
    metadataVersion: '1',
    data: { EntityTypeName: 'Party', Action: 'Updated', Identity: '101' },
  };
}

describe('System: SIGKILL during 2,000 webhooks, restart, nothing accepted is lost', function () {
  this.timeout(180_000);
  let emulator: Emulator;

  before(async () => {
    emulator = await startEmulator({ port: 0 });
  });
  after(async () => {
    await emulator.close();
  });

  const variants = [
    ...SQLITE_DRIVERS.map((d) => ({
      engine: 'sqlite' as const,
      driver: d.driver,
      unavailable: d.unavailable,
    })),
    { engine: 'postgres' as const, driver: undefined, unavailable: undefined },
  ];
  for (const { engine, driver, unavailable } of variants) {
    const name = driver ? `${engine} (${driver})` : engine;
    describe(unavailable ? `${name} store — SKIPPED: ${unavailable}` : `${name} store`, function () {
      let pg: TestPostgres | undefined;
      const dirs: string[] = [];
      const reds: RedChild[] = [];

      before(async function () {
        if (unavailable) this.skip();
        if (engine !== 'postgres') return;
        const bin = requirePostgres(this);
        pg = await startPostgres(bin as string);
      });
      afterEach(async () => {
        for (const red of reds.splice(0)) await red.kill();
        for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
      });
      after(() => pg?.stop());

      /** A user directory with the flows and, for PostgreSQL, a fresh database with 2 s leases. */
      const userDir = async (database: string, dedup = false, hook: object = {}) => {
        const port = await freePort();
        const tokens = {
          hook: randomBytes(24).toString('base64url'),
          change: randomBytes(24).toString('base64url'),
        };
        const store = pg ? { url: pg.createDatabase(database), leaseSeconds: 2 } : { sqliteDriver: driver };
        const checkIn = checkInFlows(emulator.url);
        Object.assign(
          nodeOf(checkIn.flows, (n) => n.id === checkIn.hookId, 'webhook'),
          hook,
        );
        const dir = prepareUserDir({
          port,
          flows: flows(checkIn.flows, dedup),
          credentials: {
            [checkIn.hookId]: { token: tokens.hook },
            [checkIn.serverId]: { username: 'MANAGER', password: 'manager' },
            [CHANGE_IN]: { token: tokens.change },
          },
          imis: store ? { store } : undefined,
        });
        dirs.push(dir);
        const start = async () => {
          const red = await startRed(dir, port);
          reds.push(red);
          return red;
        };
        /** The store as Node-RED sees it, opened by this process too (its own connection). */
        const openSiteStore = () => openStore(store ?? {}, join(dir, 'imis-data'));
        return { dir, port, tokens, start, openSiteStore };
      };

      for (const dedup of [false, true])
        it(
          dedup
            ? 'with a de-duplication key kept in the activity: every webhook answered 200 has exactly one activity, after three SIGKILLs'
            : 'every webhook answered 200 has its activity and a finished run, after three SIGKILLs at random moments',
          async () => {
            emulator.state.reset();
            const site = await userDir(dedup ? 'crash_dedup' : 'crash', dedup);
            const hookUrl = `http://127.0.0.1:${site.port}/imis/hook/${site.tokens.hook}`;
            const points = killPoints();
            const started = Date.now();
            let red = await site.start();
            const processes = [red];
            let kills = 0;
            let restarting: Promise<void> | undefined;
            const killed: { at: number; ms: number }[] = [];

            const attempts = await runLoad(
              { targets: [{ url: hookUrl, count: WEBHOOKS }], concurrency: 8, members: MEMBERS },
              (ok) => {
                if (restarting || kills >= points.length || ok < points[kills]) return;
                kills++;
                restarting = (async () => {
                  // A few ms more, so the kill does not line up with an answer (the scenario's jitter).
                  await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
                  const t0 = Date.now();
                  await red.kill();
                  red = await site.start();
                  processes.push(red);
                  killed.push({ at: ok, ms: Date.now() - t0 });
                })().finally(() => (restarting = undefined));
              },
            );
            await restarting;
            const loadMs = Date.now() - started;

            const ok = accepted(attempts);
            assert.equal(kills, 3, 'Node-RED was killed three times during the load');
            assert.equal(processes.length, 4);
            assert.equal(ok.length, WEBHOOKS, 'every webhook was eventually answered 200');
            // No answer while Node-RED was down, 503 (retry) while its flows started: never an error a
            // caller would not retry (a 401 for its URL, a 500).
            const statuses = new Set(attempts.map((a) => a.status));
            assert.ok(
              [...statuses].every((s) => s === 0 || s === 200 || s === 503),
              `statuses seen: ${[...statuses].join(', ')}`,
            );
            for (const a of ok) assert.match(String(a.runId), /^[A-Za-z0-9_-]{16,}$/);

            // The restarted processes ran what the killed ones had accepted but not finished.
            await waitUntil(
              () => {
                const byTag = activitiesByTag(emulator);
                return ok.every((a) => (byTag.get(a.tag) ?? 0) >= 1);
              },
              60_000,
              'an activity for every webhook answered 200',
              200,
            ).catch((err: Error) => {
              const byTag = activitiesByTag(emulator);
              const missing = ok.filter((a) => !byTag.get(a.tag));
              throw new Error(
                `${err.message}: ${missing.length} missing, e.g. ${JSON.stringify(missing.slice(0, 5))}`,
              );
            });
            const byTag = activitiesByTag(emulator);
            for (const a of ok) {
              const activity = emulator.state.activities.find((x) =>
                String(x.DESCRIPTION).endsWith(` ${a.tag}`),
              );
              assert.equal(
                activity?.PartyId,
                a.memberId,
                `the activity of ${a.tag} is for member ${a.memberId}`,
              );
            }

            // Each accepted run is recorded as finished, under the id its caller was given.
            let pending = ok.map((a) => a.runId as string);
            await waitUntil(
              async () => {
                const runs = await getAll<RunRecord>(
                  red.url,
                  pending.map((id) => `/imis/runs/${id}`),
                );
                pending = pending.filter((_id, i) => runs[i]?.status !== 'ok');
                return pending.length === 0;
              },
              30_000,
              'every accepted run finished',
              250,
            ).catch((err: Error) => {
              throw new Error(
                `${err.message}: ${pending.length} not finished, e.g. ${pending.slice(0, 3).join(', ')}`,
              );
            });

            const replays = processes.map((p) => replayed(p.output()));
            assert.ok(
              replays.slice(1).reduce((a, b) => a + b, 0) > 0,
              'the kills left accepted inputs unfinished, and the restarted processes ran them',
            );
            assert.equal(replays[0], 0, 'the first process found nothing to replay');
            const errors = processes.flatMap((p) => p.errors());
            assert.deepEqual(errors, [], 'no errors logged');
            const duplicates = [...byTag.values()].reduce((a, b) => a + b - 1, 0);
            console.log(
              `      ${name}${dedup ? ' (de-duplication key)' : ''}: kills after ${killed.map((k) => `${k.at} (restart ${k.ms} ms)`).join(', ')}; ` +
                `${attempts.length} attempts, load ${loadMs} ms; replayed ${replays.slice(1).join('+')}; ` +
                `${duplicates} activities written twice${dedup ? '' : ' (at-least-once)'}`,
            );
            if (dedup) {
              const twice = ok
                .filter((a) => byTag.get(a.tag) !== 1)
                .map((a) => `${a.tag}: ${byTag.get(a.tag)}`);
              assert.deepEqual(twice, [], 'exactly one activity for every webhook answered 200');
              for (const a of ok) {
                const activity = emulator.state.activities.find((x) =>
                  String(x.DESCRIPTION).endsWith(` ${a.tag}`),
                );
                assert.equal(activity?.OTHER_CODE, a.tag, 'the key is kept in the activity');
              }
            }
            await red.stop();
          },
        );

      it('an automatic retry still waiting at a SIGKILL is made after the restart, once', async () => {
        emulator.state.reset();
        // Retry once, 6 s after a transient failure; the de-duplication key lets the insert be retried.
        const site = await userDir('retry', true, { retries: 1, retryDelaySec: 6 });
        emulator.state.injectFault({
          method: 'POST',
          pathPrefix: '/api/Activity',
          status: 503,
          times: 1000,
          retryAfter: '0',
        });
        const red = await site.start();
        const posted = await fetch(`http://127.0.0.1:${site.port}/imis/hook/${site.tokens.hook}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            memberId: '101',
            eventCode: 'SYSTEST',
            sessionCode: 'retry1',
            checkInTime: '2026-11-29T10:00:00',
          }),
        });
        assert.equal(posted.status, 200);
        const { id: runId } = (await posted.json()) as { id: string };
        const runOf = async (r: RedChild, id: string) =>
          (await getAll<RunAnswer>(r.url, [`/imis/runs/${id}`]))[0];
        // Until the store has the failed run with its plan (killed earlier, the accepted input would
        // be run again in full at the restart, not retried).
        const stored = await site.openSiteStore();
        let failed: RunRecord | undefined;
        try {
          await waitUntil(
            async () => (failed = await stored.runs.get(runId))?.status === 'failed',
            15_000,
            'the failed run stored',
            100,
          );
        } finally {
          await stored.close();
        }
        assert.ok(failed?.retryAt, 'a retry is planned');
        assert.ok(Date.parse(failed.retryAt) > Date.now(), 'and still waiting');
        await red.kill();
        emulator.state.clearFaults();
        assert.equal(emulator.state.activitiesFor('101').length, 0);

        const restarted = await site.start();
        const original = await waitFor(
          async () => {
            const run = await runOf(restarted, runId);
            return run !== undefined && run.reruns.length > 0 && run;
          },
          30_000,
          'the retry after the restart',
          250,
        );
        assert.equal(original.reruns.length, 1);
        const retried = await waitFor(
          async () => {
            const run = await runOf(restarted, original.reruns[0]);
            return run?.status === 'ok' && run;
          },
          15_000,
          'the retry succeeding',
        );
        assert.equal(retried.rerunOf, runId);
        assert.equal(retried.retry, 1, 'counted as the first automatic retry');
        assert.equal(emulator.state.activitiesFor('101').length, 1, 'one activity');
        // Deliberate window: no second retry may follow.
        await quietWindow(1000);
        assert.equal((await runOf(restarted, runId))?.reruns.length, 1, 'retried once');
        assert.deepEqual(restarted.errors(), []);
        await restarted.stop();
      });

      it('a change notification delivered again after a SIGKILL is still dropped as a duplicate', async () => {
        const site = await userDir('change');
        const notify = (red: RedChild, events: unknown[]) =>
          fetch(`${red.url}/imis/notify/${site.tokens.change}`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(events),
          });
        const runsOf = async (red: RedChild) => {
          const res = await fetch(`${red.url}/imis/runs?trigger=${CHANGE_IN}`);
          assert.equal(res.status, 200);
          return (await res.json()) as { id: string; status: string }[];
        };
        const first = await site.start();
        const eventId = randomUUID();
        const delivered = await notify(first, [gridEvent(eventId)]);
        assert.equal(delivered.status, 200);
        assert.deepEqual(await delivered.json(), { error: false, accepted: 1, duplicates: 0, filtered: 0 });
        await first.kill();

        const second = await site.start();
        const again = await notify(second, [gridEvent(eventId)]);
        assert.equal(again.status, 200);
        assert.deepEqual(await again.json(), { error: false, accepted: 0, duplicates: 1, filtered: 0 });
        // The run of the first delivery happened (before the kill, or replayed after it), once.
        await waitUntil(async () => (await runsOf(second)).some((r) => r.status === 'ok'), 15_000, 'the run');
        // Deliberate window: no second run may follow (a replay waits for the lease, longer with PostgreSQL).
        await quietWindow(engine === 'postgres' ? 2500 : 500);
        const runs = await runsOf(second);
        assert.equal(runs.length, 1, `one run, not a second one: ${JSON.stringify(runs)}`);
        // A new event is still accepted: the node is not dropping everything.
        const fresh = await notify(second, [gridEvent(randomUUID())]);
        assert.deepEqual(await fresh.json(), { error: false, accepted: 1, duplicates: 0, filtered: 0 });
        assert.deepEqual([...first.errors(), ...second.errors()], []);
        await second.stop();
      });
    });
  }
});
