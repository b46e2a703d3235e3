import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runTask, runTasks } from '../../src/imis/iupdate.js';
import type { JobStatus, TaskProgress, TaskSpec } from '../../src/imis/iupdate.js';

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Stub {
  base: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** An iDMS stand-in on 127.0.0.1: `handle` answers each request, all of which are recorded. */
async function stub(handle: (req: Seen, res: ServerResponse, base: string) => void): Promise<Stub> {
  const seen: Seen[] = [];
  let base = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(s);
      handle(s, res, base);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

const done = (extra: Partial<JobStatus> = {}): JobStatus => ({
  ExecuteId: 'c0bac7f3-0000-4806-0000-f41a109e5c12',
  ImportId: 12345678,
  Status: 'D',
  StatusDescription: 'Success',
  PercentComplete: 100,
  RowCount: 42,
  LastUpdatRow: 0,
  CreatedOn: '2024-06-25T16:56:38.95',
  UpdatedOn: '2024-06-25T16:56:45.457',
  ExecutionCount: 1,
  CurrentErrorCount: 0,
  TotalErrorCount: 0,
  PollingUrl: null,
  RetryAfter: '00:00:00',
  ...extra,
});

const running = (percent: number): JobStatus => ({
  Status: 'R',
  StatusDescription: 'Running',
  PercentComplete: percent,
});

/** A sleep that returns at once and records what was asked. */
function fastSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number) => {
      delays.push(ms);
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

const polling = (url: string, extra: Partial<TaskSpec> = {}): TaskSpec => ({
  name: 'Nightly members',
  url,
  kind: 'polling',
  waitForCompletion: true,
  timeoutMs: 60_000,
  ...extra,
});

describe('iUpdate task runner', () => {
  let server: Stub | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  describe('polling URL', () => {
    it('waits for the job, sleeping what Retry-After says between polls, and reports its final status', async () => {
      let polls = 0;
      server = await stub((req, res, base) => {
        if (req.method === 'POST')
          return json(res, 202, running(0), { Location: `${base}/status/1`, 'Retry-After': '2' });
        polls++;
        if (polls < 3) return json(res, 202, running(polls * 30), { 'Retry-After': '3' });
        json(res, 200, done());
      });
      const { delays, sleep } = fastSleep();
      const progress: TaskProgress[] = [];
      const out = await runTask(polling(`${server.base}/task/poll`), {
        sleep,
        onProgress: (p) => progress.push(p),
      });

      assert.equal(out.state, 'succeeded');
      assert.equal(out.ok, true);
      assert.equal(out.httpStatus, 200);
      assert.equal(out.polls, 3);
      assert.equal(out.status?.RowCount, 42);
      assert.equal(out.status?.LastUpdatRow, 0);
      assert.deepEqual(delays, [2000, 3000, 3000]);
      assert.deepEqual(
        server.seen.map((s) => `${s.method} ${s.path}`),
        ['POST /task/poll', 'GET /status/1', 'GET /status/1', 'GET /status/1'],
      );
      assert.deepEqual(
        progress.filter((p) => p.state === 'running').map((p) => p.percent),
        [0, 30, 60],
      );
      assert.equal(progress.at(-1)?.state, 'succeeded');
      assert.equal(progress.at(-1)?.percent, 100);
    });

    it('clamps Retry-After to the poll floor and cap, and waits the floor when it is missing', async () => {
      const answers: Record<string, string>[] = [{ 'Retry-After': '120' }, {}];
      server = await stub((req, res) => {
        if (req.method === 'POST')
          return json(res, 202, running(0), { Location: '/status/1', 'Retry-After': '0' });
        const headers = answers.shift();
        if (headers) return json(res, 202, running(50), headers);
        json(res, 200, done());
      });
      const { delays, sleep } = fastSleep();
      const out = await runTask(polling(`${server.base}/task/poll`), {
        sleep,
        pollFloorMs: 500,
        pollCapMs: 5000,
      });
      assert.equal(out.state, 'succeeded');
      assert.deepEqual(delays, [500, 5000, 500]);
    });

    it('resolves a relative Location against the task URL', async () => {
      server = await stub((req, res) => {
        if (req.method === 'POST')
          return json(res, 202, running(0), { Location: 'status/abc?x=1', 'Retry-After': '1' });
        json(res, 200, done());
      });
      const { sleep } = fastSleep();
      const out = await runTask(polling(`${server.base}/api/task/poll`), { sleep });
      assert.equal(out.state, 'succeeded');
      assert.equal(server.seen[1].path, '/api/task/status/abc?x=1');
      assert.equal(out.pollingUrl, `${server.base}/api/task/status/abc?x=1`);
    });

    it('reports a final status other than "D" as failed, keeping the whole job status', async () => {
      const final = done({ Status: 'F', StatusDescription: 'Failed', RowCount: 10, TotalErrorCount: 3 });
      server = await stub((req, res) => {
        if (req.method === 'POST')
          return json(res, 202, running(0), { Location: '/status/1', 'Retry-After': '1' });
        json(res, 200, final);
      });
      const { sleep } = fastSleep();
      const out = await runTask(polling(`${server.base}/task/poll`), { sleep });
      assert.equal(out.state, 'failed');
      assert.equal(out.ok, false);
      assert.deepEqual(out.status, final);
      assert.match(out.error ?? '', /status "F" \(Failed\), 3 errors/);
    });

    it('times out when the job never completes', async () => {
      server = await stub((req, res) =>
        json(res, 202, running(10), { Location: '/status/1', 'Retry-After': '1' }),
      );
      const { sleep } = fastSleep();
      const started = Date.now();
      const out = await runTask(polling(`${server.base}/task/poll`, { timeoutMs: 300 }), { sleep });
      assert.equal(out.state, 'timeout');
      assert.equal(out.ok, false);
      assert.ok(out.polls > 0);
      assert.equal(out.status?.PercentComplete, 10);
      assert.match(out.error ?? '', /timed out after 0\.3 s/);
      assert.ok(Date.now() - started < 5000);
    });

    it('starts the job and returns after the 202 when not waiting for completion: one request only', async () => {
      server = await stub((req, res) =>
        json(res, 202, running(0), { Location: '/status/9', 'Retry-After': '30' }),
      );
      const { delays, sleep } = fastSleep();
      const out = await runTask(polling(`${server.base}/task/poll`, { waitForCompletion: false }), { sleep });
      assert.equal(out.state, 'started');
      assert.equal(out.ok, true);
      assert.equal(out.httpStatus, 202);
      assert.equal(out.polls, 0);
      assert.equal(out.pollingUrl, `${server.base}/status/9`);
      assert.equal(server.seen.length, 1);
      assert.deepEqual(delays, []);
    });

    it('takes a 200 on the start as a job finished at once', async () => {
      server = await stub((req, res) => json(res, 200, done({ RowCount: 1 })));
      const out = await runTask(polling(`${server.base}/task/poll`), { sleep: fastSleep().sleep });
      assert.equal(out.state, 'succeeded');
      assert.equal(out.polls, 0);
      assert.equal(out.status?.RowCount, 1);
      assert.equal(server.seen.length, 1);
    });

    it('retries a poll that meets a transient 5xx, but never the start', async () => {
      let polls = 0;
      server = await stub((req, res) => {
        if (req.method === 'POST')
          return json(res, 202, running(0), { Location: '/status/1', 'Retry-After': '1' });
        polls++;
        if (polls === 1) return json(res, 503, { message: 'busy' });
        json(res, 200, done());
      });
      const out = await runTask(polling(`${server.base}/task/poll`), { sleep: fastSleep().sleep });
      assert.equal(out.state, 'succeeded');
      assert.equal(out.polls, 2);
    });

    it('reports a 202 without Location as an error', async () => {
      server = await stub((req, res) => json(res, 202, {}));
      const out = await runTask(polling(`${server.base}/task/poll`), { sleep: fastSleep().sleep });
      assert.equal(out.state, 'error');
      assert.match(out.error ?? '', /without a Location/);
    });

    it('ends with "aborted" when the signal fires while polling', async () => {
      server = await stub((req, res) =>
        json(res, 202, running(5), { Location: '/status/1', 'Retry-After': '1' }),
      );
      const controller = new AbortController();
      const out = await runTask(polling(`${server.base}/task/poll`), {
        sleep: fastSleep().sleep,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.state === 'running' && p.percent === 5) controller.abort();
        },
      });
      assert.equal(out.state, 'error');
      assert.equal(out.error, 'aborted');
    });
  });

  describe('standard URL', () => {
    it('posts an empty body with Content-Length 0 and reports "started" only', async () => {
      server = await stub((req, res) => json(res, 200, { started: true }));
      const out = await runTask({
        name: 'Fire',
        url: `${server.base}/task/execute/0f1e`,
        kind: 'standard',
        waitForCompletion: true,
        timeoutMs: 10_000,
      });
      assert.equal(out.state, 'started');
      assert.equal(out.ok, true);
      assert.equal(out.httpStatus, 200);
      assert.match(out.note ?? '', /does not report whether the job succeeded/);
      assert.equal(server.seen.length, 1);
      assert.equal(server.seen[0].method, 'POST');
      assert.equal(server.seen[0].headers['content-length'], '0');
      assert.equal(server.seen[0].headers['transfer-encoding'], undefined);
      assert.equal(server.seen[0].body, '');
    });

    it('sends QueryParameters as exactly {"QueryParameters":{...}} in JSON', async () => {
      server = await stub((req, res) => json(res, 200, {}));
      await runTask({
        name: 'One member',
        url: `${server.base}/task/execute/0f1e`,
        kind: 'standard',
        waitForCompletion: false,
        queryParameters: { ID: '101' },
        timeoutMs: 10_000,
      });
      assert.equal(server.seen[0].body, '{"QueryParameters":{"ID":"101"}}');
      assert.match(String(server.seen[0].headers['content-type']), /^application\/json/);
    });

    it("reports a refused start as an error carrying iDMS's message", async () => {
      server = await stub((req, res) => json(res, 400, { Message: 'Task is disabled' }));
      const out = await runTask({
        name: 'Off',
        url: `${server.base}/task/execute/0f1e`,
        kind: 'standard',
        waitForCompletion: false,
        timeoutMs: 10_000,
      });
      assert.equal(out.state, 'error');
      assert.equal(out.httpStatus, 400);
      assert.match(out.error ?? '', /400 Bad Request: Task is disabled/);
    });

    it('reports an unreachable iDMS as an error', async () => {
      const gone = await stub(() => undefined);
      const url = `${gone.base}/task/execute/0f1e`;
      await gone.close();
      const out = await runTask({
        name: 'Down',
        url,
        kind: 'standard',
        waitForCompletion: false,
        timeoutMs: 5000,
      });
      assert.equal(out.state, 'error');
      assert.match(out.error ?? '', /could not start the task: ECONNREFUSED/);
    });

    it('reports a task URL that is not http(s) without sending anything', async () => {
      const out = await runTask({
        name: 'Bad',
        url: 'ftp://x',
        kind: 'standard',
        waitForCompletion: false,
        timeoutMs: 1,
      });
      assert.equal(out.state, 'error');
      assert.match(out.error ?? '', /not an http\(s\) address/);
    });
  });

  describe('a list of tasks', () => {
    it('runs the next task when one fails to start, and never retries that start', async () => {
      server = await stub((req, res) => {
        if (req.path === '/task/one') return json(res, 500, { message: 'Import definition missing' });
        if (req.method === 'POST')
          return json(res, 202, running(0), { Location: '/status/2', 'Retry-After': '1' });
        json(res, 200, done());
      });
      const outcomes = await runTasks(
        [
          { ...polling(`${server.base}/task/one`), name: 'one' },
          { ...polling(`${server.base}/task/two`), name: 'two' },
        ],
        { sleep: fastSleep().sleep },
      );
      assert.deepEqual(
        outcomes.map((o) => [o.name, o.state, o.ok]),
        [
          ['one', 'error', false],
          ['two', 'succeeded', true],
        ],
      );
      assert.match(outcomes[0].error ?? '', /500 Internal Server Error: Import definition missing/);
      assert.equal(server.seen.filter((s) => s.path === '/task/one').length, 1);
    });

    it('skips the remaining tasks once aborted', async () => {
      server = await stub((req, res) => json(res, 200, done()));
      const controller = new AbortController();
      const outcomes = await runTasks([polling(`${server.base}/a`), polling(`${server.base}/b`)], {
        sleep: fastSleep().sleep,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.state === 'succeeded') controller.abort();
        },
      });
      assert.deepEqual(
        outcomes.map((o) => o.state),
        ['succeeded', 'error'],
      );
      assert.equal(outcomes[1].error, 'aborted');
      assert.equal(server.seen.length, 1);
    });
  });
});
