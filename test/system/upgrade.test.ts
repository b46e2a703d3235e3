import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '../../src/runs/tracker.js';
import { freePort } from '../support/postgres.js';
import type { RunAnswer, RunSummary } from '../support/runs.js';
import { quietWindow } from '../support/wait.js';
import { PACKAGE_ROOT, prepareUserDir, startRed, waitUntil } from './red-child.js';
import type { RedChild } from './red-child.js';

/**
 * Issue 9, upgrade without loss: test/fixtures/userdir-0.1 is a user directory written by version
 * 0.1 itself (see its README.md): two webhooks accepted and not finished when the process was
 * killed (journal.jsonl), finished runs (runs.jsonl), a cron node disabled by a control message
 * (cron/), a change notification's event id (change-in/) and a published export (exports/). The
 * new version starts on a copy of it.
 */

const FIXTURE = join(PACKAGE_ROOT, 'test', 'fixtures', 'userdir-0.1');
/** Values the fixture was made with (README.md); test values, not secrets. */
const CREDENTIAL_SECRET = 'imis-fixture-0.1-not-a-secret';
const TOKENS = {
  change: 'fixture01-change-token-7d2e4a9c1f3b5e8a0c6d',
  export: 'fixture01-export-token-2b8e6c4a0d9f1e3c5a7b',
};
const IMPORTED = '.imported-0.1';

interface Made {
  finished: string[];
  pending: string[];
  seenEvent: string;
}

/** A line of 0.1's journal.jsonl, the fields this test reads: an input accepted (with its entry) or settled. */
interface JournalLine {
  op: string;
  entry?: { id: string; payload: unknown };
}

/** The JSON lines of a file 0.1 wrote (journal.jsonl: JournalLine, runs.jsonl: RunRecord). */
function lines<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

function gridEvent(id: string) {
  return [
    {
      id,
      topic: '/subscriptions/x/providers/microsoft.eventgrid/domains/d/topics/tenant1',
      subject: 'Party/101',
      eventType: 'Party.Updated',
      eventTime: new Date().toISOString(),
      dataVersion: '1.0',
      metadataVersion: '1',
      data: { EntityTypeName: 'Party', Action: 'Updated', Identity: '101' },
    },
  ];
}

describe('System: a user directory of version 0.1 opened by this version, nothing lost', function () {
  this.timeout(60_000);
  const made = JSON.parse(readFileSync(join(FIXTURE, 'made.json'), 'utf8')) as Made;
  const fixtureData = join(FIXTURE, 'imis-data');
  let userDir: string;
  let red: RedChild;
  let startedAt: number;

  before(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'imis-upgrade-'));
    cpSync(FIXTURE, userDir, { recursive: true });
    // 0.1 remembered an event id for 24 h after its delivery: the upgrade happens within that day
    // (the fixture's delivery time is moved to an hour ago; the file keeps 0.1's format).
    const seenDir = join(userDir, 'imis-data', 'change-in');
    for (const file of readdirSync(seenDir)) {
      const entries = JSON.parse(readFileSync(join(seenDir, file), 'utf8')) as [string, number][];
      writeFileSync(
        join(seenDir, file),
        JSON.stringify(entries.map(([id]) => [id, Date.now() - 60 * 60 * 1000])),
      );
    }
    const port = await freePort();
    prepareUserDir({
      userDir,
      port,
      credentialSecret: CREDENTIAL_SECRET,
      // The fixture's runs keep the date they were made: kept here whatever today's date is.
      imis: { runs: { maxAgeDays: 36500 } },
    });
    startedAt = Date.now();
    red = await startRed(userDir, port);
    // The store opens (and imports) while the flows start: wait for the import to be done.
    await waitUntil(
      () => /imported the files of version 0\.1/.test(red.output()),
      10_000,
      'the import',
    ).catch((err) => {
      throw new Error(err.message + red.output());
    });
  });
  after(async () => {
    await red?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  /** GET `path` of the runtime, answered 200, its JSON read as `T` (what the path answers). */
  const getJson = async <T>(path: string): Promise<T> => {
    const res = await fetch(red.url + path);
    assert.equal(res.status, 200, `GET ${path}`);
    return (await res.json()) as T;
  };

  it('is a fixture with what the test needs (made by 0.1)', () => {
    assert.equal(made.pending.length, 2);
    assert.ok(made.finished.length >= 3);
    const journal = lines<JournalLine>(join(fixtureData, 'journal.jsonl'));
    assert.deepEqual(
      journal.filter((l) => l.op === 'accept').map((l) => l.entry?.id),
      made.pending,
      'the journal holds the two unfinished inputs',
    );
    assert.ok(existsSync(join(fixtureData, 'cron', 'upg-cron.json')));
    assert.equal(JSON.parse(readFileSync(join(fixtureData, 'cron', 'upg-cron.json'), 'utf8')).enabled, false);
  });

  it('imports every 0.1 file once and renames it *.imported-0.1, unchanged, deleting nothing', () => {
    const data = join(userDir, 'imis-data');
    for (const name of ['journal.jsonl', 'runs.jsonl']) {
      assert.ok(!existsSync(join(data, name)), `${name} is not read again`);
      assert.equal(
        readFileSync(join(data, name + IMPORTED), 'utf8'),
        readFileSync(join(fixtureData, name), 'utf8'),
        `${name}${IMPORTED} is the file 0.1 wrote`,
      );
    }
    for (const dir of ['cron', 'exports']) {
      assert.ok(!existsSync(join(data, dir)), `${dir}/ is not read again`);
      assert.deepEqual(
        readdirSync(join(data, dir + IMPORTED)).sort(),
        readdirSync(join(fixtureData, dir)).sort(),
      );
    }
    assert.ok(!existsSync(join(data, 'change-in')));
    assert.deepEqual(
      readdirSync(join(data, 'change-in' + IMPORTED)),
      readdirSync(join(fixtureData, 'change-in')),
    );
    assert.match(
      red.output(),
      /imported the files of version 0\.1 \(2 unfinished inputs, \d+ runs, 1 cron states, 1 event ids, 1 exports\)/,
    );
  });

  it('runs the inputs 0.1 accepted but never finished, under their run ids', async () => {
    const journal = lines<JournalLine>(join(fixtureData, 'journal.jsonl'));
    for (const id of made.pending) {
      await waitUntil(
        async () => {
          const res = await fetch(`${red.url}/imis/runs/${id}`);
          return res.ok && (await res.json()).status === 'ok';
        },
        15_000,
        `run ${id} finished`,
        100,
      );
      const run = await getJson<RunAnswer>(`/imis/runs/${id}`);
      const entry = journal.find((l) => l.entry?.id === id)?.entry;
      assert.deepEqual(run.input, entry?.payload, 'the payload 0.1 accepted');
      assert.equal(run.trigger.id, 'upg-hook');
      assert.deepEqual(
        run.steps.map((s) => s.id),
        ['upg-delay', 'upg-done'],
        'through the whole flow',
      );
      assert.ok(Date.parse(run.startedAt) >= startedAt - 1000, 'run now, by this version');
    }
    assert.match(red.output(), /Running 2 accepted request\(s\) left unfinished/);
  });

  it('lists the run history of 0.1 in the runs admin API', async () => {
    const history = lines<RunRecord>(join(fixtureData, 'runs.jsonl'));
    const listed = await getJson<RunSummary[]>('/imis/runs?limit=1000');
    const byId = new Map(listed.map((r) => [r.id, r]));
    assert.ok(history.length >= made.finished.length);
    for (const old of history) {
      const run = byId.get(old.id);
      assert.ok(run, `run ${old.id} of 0.1 is listed`);
      assert.equal(run.status, old.status);
      assert.equal(run.startedAt, old.startedAt);
      assert.equal(run.trigger.id, old.trigger.id);
    }
    for (const id of made.finished) assert.equal(byId.get(id)?.status, 'ok', `webhook run ${id}`);
    const one = await getJson<RunAnswer>(`/imis/runs/${made.finished[0]}`);
    assert.deepEqual(
      one.steps.map((s) => s.id),
      ['upg-delay', 'upg-done'],
      'with its steps',
    );
  });

  it('keeps the cron node disabled (it fires every second when enabled)', async () => {
    const cronRuns = async () =>
      (await getJson<RunSummary[]>('/imis/runs?trigger=upg-cron&limit=1000')).filter(
        (r) => Date.parse(r.startedAt) >= startedAt - 1000,
      );
    const history = lines<RunRecord>(join(fixtureData, 'runs.jsonl'));
    assert.ok(
      history.some((r) => r.trigger.id === 'upg-cron'),
      'it fired under 0.1 before it was disabled',
    );
    // Deliberate window: 3.5 s after the start, in which an enabled cron (every second) would have fired.
    await quietWindow(startedAt + 3500 - Date.now());
    assert.deepEqual(await cronRuns(), [], 'no cron run since the upgrade');
  });

  it('still drops a change notification 0.1 had already accepted as a duplicate', async () => {
    const post = (id: string) =>
      fetch(`${red.url}/imis/notify/${TOKENS.change}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(gridEvent(id)),
      });
    const again = await post(made.seenEvent);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { error: false, accepted: 0, duplicates: 1, filtered: 0 });
    const fresh = await post('6f1c2d3e-0a1b-4c5d-8e9f-020000000002');
    assert.deepEqual(await fresh.json(), { error: false, accepted: 1, duplicates: 0, filtered: 0 });
  });

  it('serves the export 0.1 published at the same link', async () => {
    const [data] = readdirSync(join(fixtureData, 'exports')).filter((f) => f.endsWith('.data'));
    const res = await fetch(`${red.url}/imis/export/${TOKENS.export}`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /text\/csv/);
    const body = await res.text();
    assert.equal(body, readFileSync(join(fixtureData, 'exports', data), 'utf8'));
    assert.match(body, /Grace Hopper/);
    const etag = res.headers.get('etag');
    assert.ok(etag);
    const revalidated = await fetch(`${red.url}/imis/export/${TOKENS.export}`, {
      headers: { 'If-None-Match': etag },
    });
    assert.equal(revalidated.status, 304);
  });

  it('logged no error, and no message as a bare catalog key', () => {
    assert.deepEqual(red.errors(), []);
    assert.match(red.output(), /iMIS store: sqlite \((node:sqlite|better-sqlite3)\) opened/);
    assert.doesNotMatch(red.output(), /\] (\[[^\]]+\] )?imis-[a-z-]+\.[\w.-]+\s*$/m);
  });
});
