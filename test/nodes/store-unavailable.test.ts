// A store that cannot open is a state the package recovers from (issue 21, item 3): webhooks answer
// 503 with Retry-After in iHook's JSON, the node shows the cause in red, the log gives the reason
// and the fix, and the store is tried again in the background until it opens.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SinonSpyCall } from 'sinon';
import { freePort, requirePostgres, startPostgres } from '../support/postgres.js';
import type { TestPostgres } from '../support/postgres.js';
import { freshDataDir, helper, packageNodes, startHelper, stopHelper, waitFor } from '../support/red.js';
import type { LogEntry } from '../support/red.js';

const token = randomBytes(24).toString('base64url');

describe('A store that cannot open', function () {
  this.timeout(60_000);
  let base: string;
  let server: TestPostgres | undefined;
  // Stopped once all is done: the next test's store closes this one's (on its server) first.
  const servers: TestPostgres[] = [];

  afterEach(stopHelper);
  after(() => servers.forEach((s) => s.stop()));

  async function startWith(url: string) {
    base = await startHelper(freshDataDir(), { imis: { store: { url } } });
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'hook', z: 'tab', type: 'imis-webhook-in', wires: [[]] },
      ],
      { hook: { token } },
    );
  }

  const post = () =>
    fetch(`${base}/imis/hook/${token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"memberId":"M1"}',
    });

  /** The node's status texts so far. */
  const statuses = (): { fill?: string; text?: string }[] => {
    const node = helper.getNode('hook');
    return node.status
      .getCalls()
      .filter((call: SinonSpyCall) => call.thisValue === node)
      .map((call: SinonSpyCall) => call.args[0]);
  };

  /** What the runtime logged (helper.log() is a sinon spy of RED.log.log, one call per line). */
  const logLines = (): string[] =>
    helper
      .log()
      .args.map((args: unknown[]) => String((args[0] as LogEntry | undefined)?.msg ?? args[0]))
      .filter(Boolean);

  /** The first call answered 503 once the opening failed, with what the caller needs. */
  async function unavailable(cause: RegExp) {
    let res = await post();
    // The very first call may wait for the first attempt: it ends in 503 either way.
    if (res.status !== 503) res = await post();
    assert.equal(res.status, 503);
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    const body = await res.json();
    assert.equal(body.error, true);
    assert.match(body.message, cause);
    await waitFor(
      () => statuses().some((s) => s.fill === 'red' && cause.test(s.text ?? '')),
      5000,
      'a red status naming the cause',
    );
  }

  it('answers 503 while PostgreSQL is down at start, and accepts calls once it is up, without a restart', async function () {
    const bin = requirePostgres(this);
    if (!bin) return;
    const port = await freePort();
    await startWith(`postgres://postgres@127.0.0.1:${port}/postgres`);
    await unavailable(/PostgreSQL unreachable/);
    assert.ok(
      logLines().some((l) =>
        /cannot be reached \(ECONNREFUSED\): start it, or check imis\.store\.url/.test(l),
      ),
      `the log says why and what to check:\n${logLines().join('\n')}`,
    );
    server = await startPostgres(bin, { port });
    servers.push(server);
    await waitFor(
      async () => (await post()).status === 200,
      40_000,
      'a call accepted once PostgreSQL is up',
      500,
    );
    await waitFor(() => statuses().at(-1)?.fill === 'green', 5000, 'the status back to green');
  });

  it('answers 503 for a wrong PostgreSQL password, and the log names the setting to check', async function () {
    const bin = requirePostgres(this);
    if (!bin) return;
    server = await startPostgres(bin, { password: 'right' });
    servers.push(server);
    const url = server.url.replace('postgres@', 'postgres:wrong@');
    await startWith(url);
    await unavailable(/PostgreSQL password refused/);
    const lines = logLines().join('\n');
    assert.match(lines, /password authentication failed.*check imis\.store\.url/);
    assert.doesNotMatch(lines, /wrong/, 'the password is not logged');
  });

  it('answers an Event Grid delivery to change notification in with 503 while PostgreSQL is down (Event Grid retries it)', async function () {
    const url = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
    base = await startHelper(freshDataDir(), { imis: { store: { url } } });
    await helper.load(
      packageNodes(),
      [
        { id: 'tab', type: 'tab' },
        { id: 'notify', z: 'tab', type: 'imis-change-in', wires: [[]] },
      ],
      { notify: { token } },
    );
    const deliver = () =>
      fetch(`${base}/imis/notify/${token}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify([
          {
            id: randomBytes(8).toString('hex'),
            topic: '/subscriptions/x/providers/microsoft.eventgrid/domains/d/topics/tenant1',
            subject: 'Party/101',
            eventType: 'Party.Updated',
            eventTime: new Date().toISOString(),
            dataVersion: '1.0',
            metadataVersion: '1',
            data: { EntityTypeName: 'Party', Action: 'Updated', Identity: '101' },
          },
        ]),
      });
    let res = await deliver();
    // The very first delivery may wait for the first attempt to open the store.
    if (res.status !== 503) res = await deliver();
    assert.equal(res.status, 503);
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    const body = await res.json();
    assert.equal(body.error, true);
    assert.match(body.message, /PostgreSQL/);
  });
});

/** The other Node binary of CI: Node 22 when the suite runs on Node 20, else the machine's Node 20. */
function otherNode(): { bin: string; major: number } | undefined {
  const root = join(__dirname, '../../..');
  const node22 = join(root, '.ci/node22/node_modules/node/bin/node');
  if (process.versions.node.startsWith('20.'))
    return existsSync(node22) ? { bin: node22, major: 22 } : undefined;
  try {
    const version = execFileSync('node', ['--version']).toString().trim();
    return version.startsWith('v20.') ? { bin: 'node', major: 20 } : undefined;
  } catch {
    return undefined;
  }
}

describe('The embedded store with better-sqlite3 built for another Node', function () {
  this.timeout(60_000);
  const other = otherNode();
  const script = (driver: string) =>
    `const { openSqlite } = require(${JSON.stringify(join(__dirname, '../../src/store/engine/sqlite-driver.js'))});
     try { const db = openSqlite(':memory:'${driver}); console.log(JSON.stringify({ driver: db.driver, fellBack: db.fellBack })); }
     catch (err) { console.log(JSON.stringify({ error: err.message, short: err.short })); }`;
  const inOther = (driver = '') =>
    JSON.parse(execFileSync(other!.bin, ['-e', script(driver)]).toString()) as Record<string, string>;
  const builtHere = (() => {
    try {
      require('better-sqlite3')(':memory:').close();
      return true;
    } catch {
      return false;
    }
  })();
  const skipped = !other
    ? 'no other Node binary here (.ci/node22, or node 20 on the PATH)'
    : !builtHere
      ? `better-sqlite3 is not built for this Node (${process.version})`
      : undefined;

  before(function () {
    if (skipped) this.skip();
  });

  it(
    skipped
      ? `falls back to node:sqlite, or says to run npm rebuild — SKIPPED: ${skipped}`
      : 'falls back to node:sqlite where Node has it, else says to run npm rebuild better-sqlite3',
    () => {
      if (other!.major >= 22) {
        const answer = inOther();
        assert.equal(answer.driver, 'node:sqlite');
        assert.match(answer.fellBack, /built for another Node version.*run `npm rebuild better-sqlite3`/);
        const forced = inOther(", { driver: 'better-sqlite3' }");
        assert.equal(forced.short, 'SQLite module needs rebuild');
        assert.match(forced.error, /built for another Node version.*run `npm rebuild better-sqlite3`/);
      } else {
        const answer = inOther();
        assert.equal(answer.short, 'SQLite module needs rebuild');
        assert.match(answer.error, /NODE_MODULE_VERSION.*run `npm rebuild better-sqlite3`/);
        assert.match(answer.error, /no built-in SQLite \(node:sqlite needs Node 22\.13 or later\)/);
      }
    },
  );
});
