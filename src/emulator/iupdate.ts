/**
 * iDMS iUpdate task webhooks (docs/imis-api.md §6), as CSI's iimport.cloud.csiinc.com serves them, with
 * no bearer token (the task GUID in the URL is the secret):
 *
 * - `POST /task/execute/{taskGuid}`: the standard, fire-and-forget URL (CONFIRMED path). Only an
 *   error starting the job is reported; the success body `{ Success, ExecuteId }` is INFERRED
 *   (CSI's sample only shows that the answer is JSON).
 * - `POST /task/executeasync/{taskGuid}`: the asynchronous polling URL. Its exact path is not in
 *   any source (the page was truncated): `executeasync` is INFERRED. It answers 202 with
 *   `Location: /task/status/{executeId}` and `Retry-After` (CONFIRMED pattern).
 * - `GET /task/status/{executeId}`: 202 + Retry-After + JobStatus while the job runs, then 200 and
 *   the final JobStatus, the same on every later GET (CONFIRMED). `Status` 'D' (success) is
 *   CONFIRMED; 'R' (running) and 'F' (failed) are INFERRED letters.
 *
 * Both POSTs take an empty body or `{"QueryParameters": {...}}` as application/json (CONFIRMED).
 * Jobs need no timers: a job's status is computed from the time elapsed since it started.
 */
import { randomUUID } from 'node:crypto';
import type { Reply } from './http.js';
import { isRecord } from '../imis/json-net.js';

/** The job status JSON of docs/imis-api.md §6, field names verbatim (`LastUpdatRow` is misspelled there too). */
export interface JobStatus {
  ExecuteId: string;
  ImportId: number;
  /** 'R' running (INFERRED), 'D' done/success (CONFIRMED), 'F' failed (INFERRED). */
  Status: string;
  StatusDescription: string;
  PercentComplete: number;
  RowCount: number;
  LastUpdatRow: number;
  CreatedOn: string;
  UpdatedOn: string;
  ExecutionCount: number;
  CurrentErrorCount: number;
  TotalErrorCount: number;
  PollingUrl: string | null;
  /** A .NET TimeSpan, `hh:mm:ss`. */
  RetryAfter: string;
}

export interface IUpdateTaskSpec {
  /** The task GUID; generated when absent. */
  id?: string;
  name: string;
  /** How long a run takes. Default 300 ms. */
  durationMs?: number;
  /** Rows a run processes. Default 0. */
  rowCount?: number;
  /** Rows in error per run. Default 0. */
  errorCount?: number;
  /** Default 'success'. */
  outcome?: 'success' | 'failure';
  /** The job cannot start: 500 to either POST. */
  failOnStart?: boolean;
  /** The job runs forever: the status URL answers 202 for ever. */
  neverComplete?: boolean;
  /** The Retry-After of the polling answers, in whole seconds. Default 1. */
  retryAfterSeconds?: number;
}

export interface IUpdateTask {
  id: string;
  name: string;
  durationMs: number;
  rowCount: number;
  errorCount: number;
  outcome: 'success' | 'failure';
  failOnStart: boolean;
  neverComplete: boolean;
  retryAfterSeconds: number;
  importId: number;
  /** `POST` here starts the task, fire-and-forget (absolute URL on the emulator). */
  standardUrl: string;
  /** `POST` here starts the task and gives a status URL to poll (absolute URL on the emulator). */
  pollingUrl: string;
}

export type ExecutionKind = 'standard' | 'polling';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `2024-06-25T16:56:38.95`: .NET's rendering of a DateTime without zone (UTC, the cloud's clock). */
function dotnetTime(ms: number): string {
  const iso = new Date(ms).toISOString().slice(0, 23);
  return iso.replace(/\.?0+$/, '');
}

function timeSpan(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${pad(Math.floor(whole / 3600))}:${pad(Math.floor(whole / 60) % 60)}:${pad(whole % 60)}`;
}

export class IUpdateExecution {
  constructor(
    readonly executeId: string,
    readonly task: IUpdateTask,
    readonly kind: ExecutionKind,
    readonly startedAt: number,
    /** This run's number among the task's runs (1 for the first). */
    readonly executionCount: number,
    /** Errors of the task's earlier runs, for TotalErrorCount. */
    private readonly earlierErrors: number,
    private readonly statusUrl: string,
    readonly queryParameters?: Record<string, unknown>,
  ) {}

  get taskId(): string {
    return this.task.id;
  }

  /** When the job ends; undefined for a job that never completes. */
  get endsAt(): number | undefined {
    return this.task.neverComplete ? undefined : this.startedAt + this.task.durationMs;
  }

  done(now: number = Date.now()): boolean {
    const endsAt = this.endsAt;
    return endsAt !== undefined && now >= endsAt;
  }

  /** The job status now. */
  get status(): JobStatus {
    return this.statusAt(Date.now());
  }

  statusAt(now: number): JobStatus {
    const task = this.task;
    const endsAt = this.endsAt;
    const finished = endsAt !== undefined && now >= endsAt;
    const failed = finished && task.outcome === 'failure';
    const fraction = finished
      ? 1
      : task.durationMs > 0
        ? Math.min(0.99, Math.max(0, now - this.startedAt) / task.durationMs)
        : 0.99;
    const rows = Math.floor(task.rowCount * fraction);
    const errors = Math.floor(task.errorCount * fraction);
    // Field order as in docs/imis-api.md §6.
    return {
      ExecuteId: this.executeId,
      ImportId: task.importId,
      Status: finished ? (failed ? 'F' : 'D') : 'R',
      StatusDescription: finished ? (failed ? 'Failed' : 'Success') : 'In Progress',
      PercentComplete: Math.floor(fraction * 100),
      RowCount: rows,
      LastUpdatRow: rows,
      CreatedOn: dotnetTime(this.startedAt),
      UpdatedOn: dotnetTime(finished ? endsAt : now),
      ExecutionCount: this.executionCount,
      CurrentErrorCount: errors,
      TotalErrorCount: this.earlierErrors + errors,
      PollingUrl: finished ? null : this.statusUrl,
      RetryAfter: finished ? '00:00:00' : timeSpan(task.retryAfterSeconds),
    };
  }
}

/** Fixed GUIDs, so that a flow pointing at the emulator keeps working across restarts. */
const SEEDED: IUpdateTaskSpec[] = [
  { id: '3f2b8c1e-6d4a-4f7b-9c2e-1a5d8e7f6b01', name: 'Update member types', durationMs: 300, rowCount: 120 },
  {
    id: '3f2b8c1e-6d4a-4f7b-9c2e-1a5d8e7f6b02',
    name: 'Recalculate CE credits',
    durationMs: 600,
    rowCount: 842,
  },
  {
    id: '3f2b8c1e-6d4a-4f7b-9c2e-1a5d8e7f6b03',
    name: 'Flag lapsed members',
    durationMs: 400,
    rowCount: 37,
    errorCount: 2,
  },
];
const FIRST_IMPORT_ID = 12345678;

export class IUpdateTasks {
  readonly tasks: IUpdateTask[] = [];
  readonly executions: IUpdateExecution[] = [];
  private nextImportId = FIRST_IMPORT_ID;

  /** `baseUrl` gives the emulator's own URL, for the task URLs. */
  constructor(private readonly baseUrl: () => string) {
    this.reset();
  }

  /** Back to the three seeded tasks, no executions. */
  reset(): void {
    this.tasks.length = 0;
    this.executions.length = 0;
    this.nextImportId = FIRST_IMPORT_ID;
    for (const spec of SEEDED) this.addTask(spec);
  }

  addTask(spec: IUpdateTaskSpec): IUpdateTask {
    const id = (spec.id ?? randomUUID()).toLowerCase();
    if (!GUID.test(id)) throw new Error(`addTask: the task id must be a GUID, not ${spec.id}`);
    if (typeof spec.name !== 'string' || spec.name.trim() === '')
      throw new Error('addTask: name is required');
    const durationMs = spec.durationMs ?? 300;
    const retryAfterSeconds = spec.retryAfterSeconds ?? 1;
    if (!Number.isFinite(durationMs) || durationMs < 0)
      throw new Error('addTask: durationMs must be 0 or more');
    if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
      throw new Error('addTask: retryAfterSeconds must be a whole number of seconds');
    }
    const task: IUpdateTask = {
      id,
      name: spec.name,
      durationMs,
      rowCount: spec.rowCount ?? 0,
      errorCount: spec.errorCount ?? 0,
      outcome: spec.outcome ?? 'success',
      failOnStart: spec.failOnStart ?? false,
      neverComplete: spec.neverComplete ?? false,
      retryAfterSeconds,
      importId: this.nextImportId++,
      standardUrl: '',
      pollingUrl: '',
    };
    this.setUrls(task);
    const existing = this.tasks.findIndex((candidate) => candidate.id === id);
    if (existing >= 0) this.tasks.splice(existing, 1, task);
    else this.tasks.push(task);
    return task;
  }

  task(id: string): IUpdateTask | undefined {
    const lower = id.toLowerCase();
    return this.tasks.find((task) => task.id === lower);
  }

  execution(executeId: string): IUpdateExecution | undefined {
    const lower = executeId.toLowerCase();
    return this.executions.find((execution) => execution.executeId === lower);
  }

  /** Starts a run of `task`, as either webhook does. */
  start(task: IUpdateTask, kind: ExecutionKind, queryParameters?: Record<string, unknown>): IUpdateExecution {
    const earlier = this.executions.filter((execution) => execution.task === task);
    const executeId = randomUUID();
    const execution = new IUpdateExecution(
      executeId,
      task,
      kind,
      Date.now(),
      earlier.length + 1,
      earlier.reduce((sum, run) => sum + run.task.errorCount, 0),
      `${this.baseUrl()}/task/status/${executeId}`,
      queryParameters,
    );
    this.executions.push(execution);
    return execution;
  }

  /** Recomputes the absolute URLs once the emulator knows its port. */
  refreshUrls(): void {
    for (const task of this.tasks) this.setUrls(task);
  }

  private setUrls(task: IUpdateTask): void {
    task.standardUrl = `${this.baseUrl()}/task/execute/${task.id}`;
    task.pollingUrl = `${this.baseUrl()}/task/executeasync/${task.id}`;
  }
}

/** CSI's error body is not documented: `{ Success: false, Message }` (INFERRED). */
export function taskError(status: number, message: string): Reply {
  return { status, body: { Success: false, Message: message } };
}

export interface TaskRequest {
  method: string;
  /** Path segments after `/task`. */
  segments: string[];
  /** The parsed JSON body, undefined when empty. */
  body: unknown;
}

function queryParametersOf(body: unknown): Record<string, unknown> | undefined | Reply {
  if (body === undefined || body === null) return undefined;
  if (!isRecord(body))
    return taskError(400, 'The request body must be a JSON object such as {"QueryParameters": {}}');
  const entry = Object.entries(body).find(([key]) => key.toLowerCase() === 'queryparameters');
  const value = entry?.[1];
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value))
    return taskError(400, 'QueryParameters must be a JSON object of parameter names and values');
  return value;
}

function isReply(value: unknown): value is Reply {
  return isRecord(value) && typeof value.status === 'number' && 'body' in value;
}

function allow(method: string, allowed: string): Reply | undefined {
  if (method === allowed) return undefined;
  return {
    status: 405,
    headers: { Allow: allowed },
    body: { Success: false, Message: `The requested resource does not support http method '${method}'.` },
  };
}

/** The `/task/...` routes. */
export function taskRoute(tasks: IUpdateTasks, request: TaskRequest): Reply {
  const [action, id, ...rest] = request.segments;
  const kind = action?.toLowerCase();
  if (id === undefined || rest.length > 0 || !['execute', 'executeasync', 'status'].includes(kind ?? '')) {
    return taskError(404, 'No task endpoint matches this URL.');
  }
  if (kind === 'status') {
    const refused = allow(request.method, 'GET');
    if (refused) return refused;
    const execution = tasks.execution(id);
    if (execution === undefined) return taskError(404, `No task execution ${id} is known.`);
    const status = execution.status;
    if (status.Status === 'R') {
      return {
        status: 202,
        headers: {
          Location: `/task/status/${execution.executeId}`,
          'Retry-After': String(execution.task.retryAfterSeconds),
        },
        body: status,
      };
    }
    return { status: 200, body: status };
  }
  const refused = allow(request.method, 'POST');
  if (refused) return refused;
  const task = tasks.task(id);
  if (task === undefined) return taskError(404, `No iUpdate task ${id} exists.`);
  const queryParameters = queryParametersOf(request.body);
  if (isReply(queryParameters)) return queryParameters;
  if (task.failOnStart) {
    return taskError(500, `The iUpdate task "${task.name}" could not be started.`);
  }
  const execution = tasks.start(task, kind === 'execute' ? 'standard' : 'polling', queryParameters);
  if (kind === 'execute') return { status: 200, body: { Success: true, ExecuteId: execution.executeId } };
  return {
    status: 202,
    headers: {
      Location: `/task/status/${execution.executeId}`,
      'Retry-After': String(task.retryAfterSeconds),
    },
    body: execution.status,
  };
}
