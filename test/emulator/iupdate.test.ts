import assert from 'node:assert/strict';
import type { JobStatus } from '../../src/emulator/iupdate.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { quietWindow, waitFor } from '../support/wait.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOTNET_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?$/;
/** The job status fields of docs/imis-api.md §6, in order. */
const JOB_STATUS_FIELDS = [
  'ExecuteId',
  'ImportId',
  'Status',
  'StatusDescription',
  'PercentComplete',
  'RowCount',
  'LastUpdatRow',
  'CreatedOn',
  'UpdatedOn',
  'ExecutionCount',
  'CurrentErrorCount',
  'TotalErrorCount',
  'PollingUrl',
  'RetryAfter',
];

/** The answer of a task URL, its JSON body read as `T`: Started, Refused or JobStatus. */
interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** What a standard URL answers when it starts the job. */
interface Started {
  Success: true;
  ExecuteId: string;
}

/** What a task URL answers when it cannot start the job or refuses the request. */
interface Refused {
  Success: false;
  Message: string;
}

/**
 * A webhook call as CSI's jQuery sample makes it: POST, optional JSON body, no Authorization; the
 * answer read as `T` (`unknown` unless told).
 */
async function call<T = unknown>(
  url: string,
  method = 'POST',
  body?: string,
  contentType = 'application/json',
): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = contentType;
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

describe('emulator: iUpdate task webhooks (docs/imis-api.md §6)', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  beforeEach(() => emulator.state.reset());
  after(() => emulator.close());

  it('seeds three tasks with absolute standard and polling URLs', () => {
    const tasks = emulator.state.iupdate.tasks;
    assert.deepEqual(
      tasks.map((task) => task.name),
      ['Update member types', 'Recalculate CE credits', 'Flag lapsed members'],
    );
    for (const task of tasks) {
      assert.match(task.id, GUID);
      assert.equal(task.standardUrl, `${emulator.url}/task/execute/${task.id}`);
      assert.equal(task.pollingUrl, `${emulator.url}/task/executeasync/${task.id}`);
    }
  });

  it('addTask generates a GUID and keeps a given one', () => {
    const generated = emulator.state.iupdate.addTask({ name: 'Nightly sync' });
    assert.match(generated.id, GUID);
    assert.equal(generated.durationMs, 300);
    assert.equal(generated.retryAfterSeconds, 1);
    const given = emulator.state.iupdate.addTask({
      id: 'A1B2C3D4-0000-4000-8000-000000000001',
      name: 'Given',
    });
    assert.equal(given.id, 'a1b2c3d4-0000-4000-8000-000000000001');
    assert.throws(() => emulator.state.iupdate.addTask({ id: 'not-a-guid', name: 'X' }), /GUID/);
  });

  describe('standard (fire-and-forget) URL', () => {
    it('starts the task without a bearer token and answers 200 with an ExecuteId', async () => {
      const task = emulator.state.iupdate.tasks[0];
      const answer = await call<Started>(task.standardUrl);
      assert.equal(answer.status, 200);
      assert.match(String(answer.headers.get('content-type')), /application\/json/);
      assert.deepEqual(Object.keys(answer.body), ['Success', 'ExecuteId']);
      assert.equal(answer.body.Success, true);
      assert.match(answer.body.ExecuteId, GUID);
      const [execution] = emulator.state.iupdate.executions;
      assert.equal(execution.executeId, answer.body.ExecuteId);
      assert.equal(execution.taskId, task.id);
      assert.equal(execution.kind, 'standard');
      assert.equal(execution.queryParameters, undefined);
      assert.ok(Math.abs(execution.startedAt - Date.now()) < 2000);
      assert.equal(execution.status.Status, 'R');
    });

    it('records the QueryParameters of a JSON body', async () => {
      const task = emulator.state.iupdate.tasks[1];
      const answer = await call(
        task.standardUrl,
        'POST',
        JSON.stringify({ QueryParameters: { ID: '101', Email: '' } }),
      );
      assert.equal(answer.status, 200);
      assert.deepEqual(emulator.state.iupdate.executions[0].queryParameters, { ID: '101', Email: '' });
    });

    it('answers 500 with a JSON error when the job cannot start', async () => {
      const task = emulator.state.iupdate.addTask({ name: 'Broken', failOnStart: true });
      for (const url of [task.standardUrl, task.pollingUrl]) {
        const answer = await call<Refused>(url);
        assert.equal(answer.status, 500);
        assert.equal(answer.body.Success, false);
        assert.match(answer.body.Message, /Broken/);
      }
      assert.equal(emulator.state.iupdate.executions.length, 0);
    });

    it('answers 404 to an unknown task', async () => {
      const answer = await call<Refused>(`${emulator.url}/task/execute/00000000-0000-4000-8000-000000000000`);
      assert.equal(answer.status, 404);
      assert.equal(answer.body.Success, false);
      const unknownRoute = await call(`${emulator.url}/task/run/${emulator.state.iupdate.tasks[0].id}`);
      assert.equal(unknownRoute.status, 404);
    });

    it('refuses bodies that are not a JSON object with an object QueryParameters', async () => {
      const url = emulator.state.iupdate.tasks[0].standardUrl;
      const notJson = await call<Refused>(url, 'POST', '{oops');
      assert.equal(notJson.status, 400);
      assert.equal(notJson.body.Success, false);
      const text = await call(url, 'POST', 'ID=101', 'text/plain');
      assert.equal(text.status, 415);
      const array = await call(url, 'POST', '[1]');
      assert.equal(array.status, 400);
      const scalar = await call<Refused>(url, 'POST', JSON.stringify({ QueryParameters: 'ID=101' }));
      assert.equal(scalar.status, 400);
      assert.match(scalar.body.Message, /QueryParameters must be a JSON object/);
      const nulls = await call(url, 'POST', JSON.stringify({ QueryParameters: null }));
      assert.equal(nulls.status, 200);
      assert.equal(emulator.state.iupdate.executions.length, 1);
    });

    it('answers 405 to other methods', async () => {
      const answer = await call(emulator.state.iupdate.tasks[0].standardUrl, 'GET');
      assert.equal(answer.status, 405);
      assert.equal(answer.headers.get('allow'), 'POST');
    });
  });

  describe('asynchronous polling URL', () => {
    it('answers 202 with a relative Location and Retry-After, then 202 while running and 200 when done', async function () {
      this.timeout(5000);
      const task = emulator.state.iupdate.addTask({
        name: 'Polled',
        durationMs: 800,
        rowCount: 40,
        retryAfterSeconds: 2,
      });
      const start = await call<JobStatus>(
        task.pollingUrl,
        'POST',
        JSON.stringify({ QueryParameters: { MemberType: 'M' } }),
      );
      assert.equal(start.status, 202);
      const location = start.headers.get('location') ?? '';
      assert.match(location, /^\/task\/status\/[0-9a-f-]{36}$/);
      assert.equal(start.headers.get('retry-after'), '2');
      assert.deepEqual(Object.keys(start.body), JOB_STATUS_FIELDS);
      assert.equal(start.body.Status, 'R');
      const execution = emulator.state.iupdate.executions[0];
      assert.equal(execution.kind, 'polling');
      assert.deepEqual(execution.queryParameters, { MemberType: 'M' });
      assert.equal(location, `/task/status/${execution.executeId}`);

      const statusUrl = new URL(location, task.pollingUrl).toString();
      const running = await waitFor(
        async () => {
          const answer = await call<JobStatus>(statusUrl, 'GET');
          return answer.body.PercentComplete > 0 && answer;
        },
        2000,
        'the job under way',
      );
      assert.equal(running.status, 202);
      assert.equal(running.headers.get('retry-after'), '2');
      assert.deepEqual(Object.keys(running.body), JOB_STATUS_FIELDS);
      assert.equal(running.body.Status, 'R');
      assert.equal(running.body.StatusDescription, 'In Progress');
      assert.ok(
        running.body.PercentComplete > 0 && running.body.PercentComplete < 100,
        String(running.body.PercentComplete),
      );
      assert.ok(running.body.RowCount < 40);
      assert.equal(running.body.RetryAfter, '00:00:02');
      assert.equal(running.body.PollingUrl, statusUrl);
      await waitFor(
        async () =>
          (await call<JobStatus>(statusUrl, 'GET')).body.PercentComplete > running.body.PercentComplete,
        2000,
        'the job to progress',
      );

      await waitFor(() => execution.done(), 5000, 'the job done');
      const done = await call<JobStatus>(statusUrl, 'GET');
      assert.equal(done.status, 200);
      assert.equal(done.headers.get('retry-after'), null);
      assert.deepEqual(Object.keys(done.body), JOB_STATUS_FIELDS);
      assert.deepEqual(
        { ...done.body, CreatedOn: '', UpdatedOn: '' },
        {
          ExecuteId: execution.executeId,
          ImportId: task.importId,
          Status: 'D',
          StatusDescription: 'Success',
          PercentComplete: 100,
          RowCount: 40,
          LastUpdatRow: 40,
          CreatedOn: '',
          UpdatedOn: '',
          ExecutionCount: 1,
          CurrentErrorCount: 0,
          TotalErrorCount: 0,
          PollingUrl: null,
          RetryAfter: '00:00:00',
        },
      );
      assert.match(done.body.CreatedOn, DOTNET_TIME);
      assert.match(done.body.UpdatedOn, DOTNET_TIME);
      assert.equal(Date.parse(`${done.body.UpdatedOn}Z`) - Date.parse(`${done.body.CreatedOn}Z`), 800);

      // Every later GET answers the same (a deliberate window: nothing may change after the end).
      await quietWindow(20);
      const again = await call(statusUrl, 'GET');
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, done.body);
      assert.deepEqual(execution.status, done.body);
    });

    it("reports a failed job as 'F' with its error counts", async () => {
      const task = emulator.state.iupdate.addTask({
        name: 'Fails',
        durationMs: 20,
        rowCount: 10,
        errorCount: 3,
        outcome: 'failure',
        retryAfterSeconds: 0,
      });
      const start = await call(task.pollingUrl);
      assert.equal(start.headers.get('retry-after'), '0');
      const statusUrl = new URL(start.headers.get('location') ?? '', emulator.url).toString();
      const done = await waitFor(
        async () => {
          const answer = await call<JobStatus>(statusUrl, 'GET');
          return answer.status !== 202 && answer;
        },
        2000,
        'the job to end',
      );
      assert.equal(done.status, 200);
      assert.equal(done.body.Status, 'F');
      assert.equal(done.body.StatusDescription, 'Failed');
      assert.equal(done.body.CurrentErrorCount, 3);
      assert.equal(done.body.TotalErrorCount, 3);
      assert.equal(done.body.RowCount, 10);
    });

    it('counts executions and accumulates TotalErrorCount per task', async () => {
      const task = emulator.state.iupdate.addTask({ name: 'Twice', durationMs: 0, errorCount: 2 });
      await call(task.pollingUrl);
      const second = await call(task.pollingUrl);
      const done = await call<JobStatus>(
        new URL(second.headers.get('location') ?? '', emulator.url).toString(),
        'GET',
      );
      assert.equal(done.body.ExecutionCount, 2);
      assert.equal(done.body.CurrentErrorCount, 2);
      assert.equal(done.body.TotalErrorCount, 4);
    });

    it('keeps answering 202 for a job that never completes', async () => {
      const task = emulator.state.iupdate.addTask({ name: 'Stuck', durationMs: 10, neverComplete: true });
      const start = await call(task.pollingUrl);
      const statusUrl = new URL(start.headers.get('location') ?? '', emulator.url).toString();
      // Past its duration (10 ms) it stays at 99 %.
      await waitFor(
        async () => (await call<JobStatus>(statusUrl, 'GET')).body.PercentComplete === 99,
        2000,
        '99 %',
      );
      for (let i = 0; i < 3; i++) {
        const answer = await call<JobStatus>(statusUrl, 'GET');
        assert.equal(answer.status, 202);
        assert.equal(answer.body.Status, 'R');
        assert.equal(answer.body.PercentComplete, 99);
      }
    });

    it('answers 404 to an unknown execution and 405 to a POST on a status URL', async () => {
      const unknown = await call(`${emulator.url}/task/status/00000000-0000-4000-8000-000000000000`, 'GET');
      assert.equal(unknown.status, 404);
      const start = await call(emulator.state.iupdate.tasks[0].pollingUrl);
      const post = await call(new URL(start.headers.get('location') ?? '', emulator.url).toString(), 'POST');
      assert.equal(post.status, 405);
    });

    it('is subject to injected faults like every route', async () => {
      emulator.state.injectFault({ pathPrefix: '/task/status', status: 503, times: 1, retryAfter: '1' });
      const start = await call(emulator.state.iupdate.tasks[0].pollingUrl);
      const statusUrl = new URL(start.headers.get('location') ?? '', emulator.url).toString();
      assert.equal((await call(statusUrl, 'GET')).status, 503);
      assert.equal((await call(statusUrl, 'GET')).status, 202);
    });
  });

  it('reset() goes back to the seeded tasks and forgets executions', async () => {
    const task = emulator.state.iupdate.addTask({ name: 'Temporary' });
    await call(task.standardUrl);
    emulator.state.reset();
    assert.equal(emulator.state.iupdate.tasks.length, 3);
    assert.equal(emulator.state.iupdate.executions.length, 0);
    assert.equal((await call(task.standardUrl)).status, 404);
  });
});
