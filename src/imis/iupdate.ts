// iUpdate tasks over their POST webhook URLs (docs/imis-api.md §6), through the shared transport.
import { isRecord } from './json-net.js';
import { MAX_TIMER_MS, TransportFailure, exchange, parseRetryAfter } from './transport.js';
import type { HttpAnswer } from './transport.js';

/**
 * Status of an iUpdate job, as iDMS reports it (docs/imis-api.md §6, the iWorkflow "iDMS iUpdate"
 * action output; INFERRED to be the body of the polling answers too).
 */
export interface JobStatus {
  ExecuteId?: string;
  ImportId?: number;
  /** "D" = Done/Success; other letters are not documented (docs/imis-api.md §6). */
  Status?: string;
  StatusDescription?: string;
  PercentComplete?: number;
  RowCount?: number;
  /** Misspelled by iDMS itself: kept verbatim (docs/imis-api.md §6). */
  LastUpdatRow?: number;
  CreatedOn?: string;
  UpdatedOn?: string;
  ExecutionCount?: number;
  CurrentErrorCount?: number;
  TotalErrorCount?: number;
  PollingUrl?: string | null;
  /** A .NET TimeSpan such as "00:00:30". */
  RetryAfter?: string;
  [k: string]: unknown;
}

export interface TaskSpec {
  /** Shown in progress and outcomes. */
  name: string;
  /** The task's standard or polling webhook URL, from iDMS > task > POST Webhook URLs. */
  url: string;
  kind: 'standard' | 'polling';
  /** Polling URL only: false starts the job and returns at once, as a standard URL does. */
  waitForCompletion: boolean;
  /** IQA parameter overload, sent as `{"QueryParameters": {...}}` (docs/imis-api.md §6). */
  queryParameters?: Record<string, unknown>;
  /** Whole task, start to final status. 0 or less, or not finite: no limit (abort still works). */
  timeoutMs: number;
}

export type TaskState = 'started' | 'succeeded' | 'failed' | 'timeout' | 'error';

export interface TaskOutcome {
  name: string;
  kind: 'standard' | 'polling';
  /** True for 'started' and 'succeeded'. */
  ok: boolean;
  state: TaskState;
  /** Last HTTP status iDMS answered for this task. */
  httpStatus?: number;
  /** Last job status iDMS reported (the final one once the job is over), counts included. */
  status?: JobStatus;
  error?: string;
  /** What a started-only outcome does not tell (a standard URL never reports success or counts). */
  note?: string;
  /** Where the job's status can be polled (polling URL), absolute. */
  pollingUrl?: string;
  startedAt: string;
  finishedAt: string;
  /** Status GETs made. */
  polls: number;
}

export interface TaskProgress {
  /** Position of the task in the list given to runTasks (0 for runTask). */
  index: number;
  name: string;
  percent?: number;
  /** 'starting', 'running', then the final TaskState. */
  state: string;
}

export interface RunTasksOptions {
  /** Shortest wait between polls, whatever Retry-After says. Default 1000. */
  pollFloorMs?: number;
  /** Longest wait between polls, whatever Retry-After says. Default 60000. */
  pollCapMs?: number;
  /** One HTTP request. Default 30000. */
  requestTimeoutMs?: number;
  onProgress?: (p: TaskProgress) => void;
  /** Aborts every task (e.g. the node is closing): outcomes become 'error' / 'aborted'. */
  signal?: AbortSignal;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const STANDARD_NOTE =
  'iDMS started the task. A standard (fire-and-forget) URL does not report whether the job succeeded, ' +
  'nor record counts: use the polling URL to wait for them.';
const NOT_WAITED_NOTE =
  'iDMS started the job; its final status and record counts were not awaited (see pollingUrl).';

/**
 * Runs the tasks one after the other. One task's failure does not stop the next (iWorkflow's
 * "Schedule iUpdate Tasks" template); an abort ends the current task and skips the rest.
 */
export async function runTasks(tasks: TaskSpec[], opts: RunTasksOptions = {}): Promise<TaskOutcome[]> {
  const outcomes: TaskOutcome[] = [];
  for (let i = 0; i < tasks.length; i++) outcomes.push(await runOne(tasks[i], i, opts));
  return outcomes;
}

/** Runs one task. Never throws: every failure is an outcome. */
export function runTask(task: TaskSpec, opts: RunTasksOptions = {}): Promise<TaskOutcome> {
  return runOne(task, 0, opts);
}

// ---------------------------------------------------------------------------------------------

/** Why a task's own controller fired. */
type StopReason = 'aborted' | 'timeout';

class TaskRun {
  readonly startedAt = new Date();
  readonly controller = new AbortController();
  stopped?: StopReason;
  polls = 0;
  httpStatus?: number;
  status?: JobStatus;
  pollingUrl?: string;
  private readonly deadline: number;
  private timer?: NodeJS.Timeout;
  private readonly onOuterAbort = () => this.stop('aborted');

  constructor(
    readonly task: TaskSpec,
    readonly index: number,
    readonly opts: RunTasksOptions,
  ) {
    const limit = Number(task.timeoutMs);
    this.deadline = Number.isFinite(limit) && limit > 0 ? this.startedAt.getTime() + limit : Infinity;
    if (this.deadline !== Infinity) {
      this.timer = setTimeout(() => this.stop('timeout'), Math.min(limit, MAX_TIMER_MS));
    }
    if (opts.signal?.aborted) this.stop('aborted');
    else opts.signal?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  get remainingMs(): number {
    return this.deadline - Date.now();
  }

  stop(reason: StopReason): void {
    this.stopped ??= reason;
    this.controller.abort();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.opts.signal?.removeEventListener('abort', this.onOuterAbort);
  }

  progress(state: string, percent?: number): void {
    try {
      this.opts.onProgress?.({ index: this.index, name: this.task.name, percent, state });
    } catch {
      // A progress listener's failure is not the task's.
    }
  }

  outcome(state: TaskState, extra: { error?: string; note?: string } = {}): TaskOutcome {
    const out: TaskOutcome = {
      name: this.task.name,
      kind: this.task.kind,
      ok: state === 'started' || state === 'succeeded',
      state,
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      polls: this.polls,
    };
    if (this.httpStatus !== undefined) out.httpStatus = this.httpStatus;
    if (this.status !== undefined) out.status = this.status;
    if (this.pollingUrl !== undefined) out.pollingUrl = this.pollingUrl;
    if (extra.error !== undefined) out.error = extra.error;
    if (extra.note !== undefined) out.note = extra.note;
    return out;
  }

  /** The outcome once the controller fired. */
  stoppedOutcome(doing: string, lastProblem?: string): TaskOutcome {
    if (this.stopped === 'aborted') return this.outcome('error', { error: 'aborted' });
    const seconds = Math.round(Number(this.task.timeoutMs) / 100) / 10;
    const detail = lastProblem ? ` (last answer: ${lastProblem})` : '';
    return this.outcome('timeout', { error: `timed out after ${seconds} s ${doing}${detail}` });
  }

  async request(method: 'GET' | 'POST', url: string, body?: string): Promise<HttpAnswer> {
    const requestTimeout = this.opts.requestTimeoutMs ?? 30_000;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (method === 'POST') {
      if (body === undefined) headers['Content-Length'] = '0';
      else headers['Content-Type'] = 'application/json';
    }
    const answer = await exchange({
      method,
      url,
      headers,
      body,
      timeoutMs: Math.min(requestTimeout, this.remainingMs),
      signal: this.controller.signal,
      // A redirected POST would become a GET and not start the task; a poll may follow them.
      maxRedirects: method === 'POST' ? 0 : 5,
    });
    this.httpStatus = answer.status;
    return answer;
  }

  /** The wait before the next poll: Retry-After (header, else the body's), clamped to floor/cap. */
  pollDelay(answer: HttpAnswer | undefined, failures: number): number {
    const floor = Math.max(0, this.opts.pollFloorMs ?? 1000);
    const cap = Math.max(floor, this.opts.pollCapMs ?? 60_000);
    let wanted = parseRetryAfter(answer?.retryAfter);
    if (wanted === undefined && isRecord(answer?.body) && typeof answer.body.RetryAfter === 'string') {
      wanted = parseRetryAfter(answer.body.RetryAfter);
    }
    // Failing polls without a Retry-After back off from the floor.
    if (wanted === undefined && failures > 0) wanted = floor * 2 ** Math.min(failures - 1, 10);
    return Math.min(cap, Math.max(floor, wanted ?? floor));
  }

  async sleep(ms: number): Promise<void> {
    const wait = Math.max(0, Math.min(ms, this.remainingMs, MAX_TIMER_MS));
    await (this.opts.sleep ?? defaultSleep)(wait, this.controller.signal);
  }
}

async function runOne(task: TaskSpec, index: number, opts: RunTasksOptions): Promise<TaskOutcome> {
  const run = new TaskRun(task, index, opts);
  let outcome: TaskOutcome;
  try {
    outcome = await execute(run);
  } catch (err) {
    outcome = run.stopped
      ? run.stoppedOutcome('running the task')
      : run.outcome('error', { error: describe(err) });
  } finally {
    run.dispose();
  }
  run.progress(outcome.state, outcome.status?.PercentComplete);
  return outcome;
}

async function execute(run: TaskRun): Promise<TaskOutcome> {
  const { task } = run;
  if (run.stopped) return run.stoppedOutcome('before starting');
  if (task.kind !== 'standard' && task.kind !== 'polling') {
    return run.outcome('error', {
      error: `unknown task kind "${String(task.kind)}": use standard or polling`,
    });
  }
  const url = absoluteUrl(task.url);
  if (!url) {
    return run.outcome('error', {
      error: `the task URL "${task.url}" is not an http(s) address (copy it from iDMS > task > POST Webhook URLs)`,
    });
  }
  const body =
    task.queryParameters === undefined
      ? undefined
      : JSON.stringify({ QueryParameters: task.queryParameters });

  run.progress('starting');
  let start: HttpAnswer;
  try {
    start = await run.request('POST', url, body);
  } catch (err) {
    if (run.stopped) return run.stoppedOutcome('starting the task; it may or may not have started');
    // An iUpdate start is not idempotent: never retried.
    return run.outcome('error', { error: `could not start the task: ${describe(err)}` });
  }
  if (isRecord(start.body)) run.status = start.body as JobStatus;

  if (task.kind === 'standard') {
    if (isSuccess(start.status)) return run.outcome('started', { note: STANDARD_NOTE });
    return run.outcome('error', { error: `iDMS refused to start the task: ${answerText(start)}` });
  }

  // Polling URL: Azure Asynchronous Request-Reply (docs/imis-api.md §6).
  if (start.status === 202) {
    const next = pollTarget(start, url);
    if (!next) {
      return run.outcome('error', {
        error: 'iDMS answered 202 without a Location header to poll: is this the polling URL?',
      });
    }
    run.pollingUrl = next;
    if (!task.waitForCompletion) return run.outcome('started', { note: NOT_WAITED_NOTE });
    run.progress('running', run.status?.PercentComplete);
    return poll(run, start);
  }
  if (isSuccess(start.status)) return finished(run, start);
  return run.outcome('error', { error: `iDMS refused to start the task: ${answerText(start)}` });
}

async function poll(run: TaskRun, first: HttpAnswer): Promise<TaskOutcome> {
  let last: HttpAnswer | undefined = first;
  let failures = 0;
  let problem: string | undefined;
  for (;;) {
    await run.sleep(run.pollDelay(last, failures));
    if (run.stopped || run.remainingMs <= 0) {
      run.stop('timeout');
      return run.stoppedOutcome('waiting for the job to finish', problem);
    }
    const target = run.pollingUrl as string;
    run.polls++;
    let answer: HttpAnswer;
    try {
      answer = await run.request('GET', target);
    } catch (err) {
      if (run.stopped) return run.stoppedOutcome('waiting for the job to finish', problem);
      // Polls are GETs: a network failure is retried until the task's timeout.
      failures++;
      problem = describe(err);
      last = undefined;
      continue;
    }
    last = answer;
    if (answer.status === 202) {
      failures = 0;
      problem = undefined;
      if (isRecord(answer.body)) run.status = answer.body as JobStatus;
      run.pollingUrl = pollTarget(answer, target) ?? target;
      run.progress('running', run.status?.PercentComplete);
      continue;
    }
    if (isSuccess(answer.status)) return finished(run, answer);
    if (isTransient(answer.status)) {
      failures++;
      problem = answerText(answer);
      continue;
    }
    return run.outcome('error', { error: `polling ${target} failed: ${answerText(answer)}` });
  }
}

/** 200: the job is over and the body is its final status. */
function finished(run: TaskRun, answer: HttpAnswer): TaskOutcome {
  if (!isRecord(answer.body)) {
    return run.outcome('failed', {
      error: `iDMS reported the job finished but sent no job status (HTTP ${answer.status})`,
    });
  }
  const status = answer.body as JobStatus;
  run.status = status;
  const code = typeof status.Status === 'string' ? status.Status.trim().toUpperCase() : undefined;
  const description = typeof status.StatusDescription === 'string' ? status.StatusDescription : undefined;
  // Status "D" (StatusDescription "Success") is the only documented success (docs/imis-api.md §6).
  if (code === 'D' || (code === undefined && description?.toLowerCase() === 'success')) {
    return run.outcome('succeeded');
  }
  const errors = typeof status.TotalErrorCount === 'number' ? status.TotalErrorCount : undefined;
  let error =
    code === undefined
      ? 'iDMS reported the job finished without a Status'
      : `the iUpdate job finished with status "${status.Status}"${description ? ` (${description})` : ''}`;
  if (errors) error += `, ${errors} error${errors === 1 ? '' : 's'}`;
  return run.outcome('failed', { error });
}

// ---------------------------------------------------------------------------------------------

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function absoluteUrl(text: string): string | undefined {
  try {
    const u = new URL(String(text ?? '').trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** Location (absolute, or relative to the answering URL), else the body's PollingUrl. */
function pollTarget(answer: HttpAnswer, base: string): string | undefined {
  const pollingUrl = isRecord(answer.body) ? answer.body.PollingUrl : undefined;
  const ref = answer.location ?? (typeof pollingUrl === 'string' && pollingUrl ? pollingUrl : undefined);
  if (!ref) return undefined;
  try {
    return new URL(ref, base).href;
  } catch {
    return undefined;
  }
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function isTransient(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** "500 Internal Server Error: <iDMS's message>". */
function answerText(answer: HttpAnswer): string {
  const head = `${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}`;
  const message = messageOf(answer.body);
  return message ? `${head}: ${message}` : head;
}

function messageOf(body: unknown): string | undefined {
  if (typeof body === 'string') {
    // An HTML error page says nothing useful in one line.
    if (body.startsWith('<')) return undefined;
    return body.length > 300 ? `${body.slice(0, 300)}…` : body;
  }
  if (!isRecord(body)) return undefined;
  for (const key of [
    'message',
    'Message',
    'error_description',
    'ExceptionMessage',
    'detail',
    'title',
    'error',
  ]) {
    const v = body[key];
    if (typeof v === 'string' && v.trim()) return v.trim();
    if (isRecord(v)) {
      const inner = messageOf(v);
      if (inner) return inner;
    }
  }
  return undefined;
}

function describe(err: unknown): string {
  if (err instanceof TransportFailure) {
    if (err.timedOut) return 'iDMS did not answer in time';
    return err.message === err.code ? err.code : `${err.code}: ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The failed outcomes in one line, for an error: `"Nightly": <why>; "Weekly": <why>`. */
export function failureSummary(failed: readonly TaskOutcome[]): string {
  return failed.map((o) => `"${o.name}": ${o.error ?? o.status?.StatusDescription ?? o.state}`).join('; ');
}
