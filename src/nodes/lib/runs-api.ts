import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord, RunStatus } from '../../runs/tracker.js';
import { cursorAt, decodeCursor } from '../../store/index.js';
import type { RunCounts, RunPage, RunQuery } from '../../store/index.js';
import { packageRuntime } from './package-runtime.js';
import { runsMessage } from './messages.js';
import type { PackageRuntime } from './package-runtime.js';
import { mountOnce } from './http/routes.js';
import type { Red, Request, Response } from './red.js';

/** The status filter's values: the dashboard says "succeeded" for a run stored as 'ok'. */
const STATUS_NAMES: Record<string, RunStatus> = {
  running: 'running',
  succeeded: 'ok',
  ok: 'ok',
  failed: 'failed',
  unfinished: 'unfinished',
};

/** How many runs one page of the runs API holds at most. */
const MAX_PAGE = 1000;

/** A list item: the run without its steps and input, with its duration. */
function summary({ steps, input: _input, inputExtra: _extra, ...rest }: RunRecord) {
  return { ...rest, steps: steps.length, durationMs: durationOf(rest) };
}

function durationOf(run: Pick<RunRecord, 'startedAt' | 'finishedAt'>): number | undefined {
  return run.finishedAt ? Date.parse(run.finishedAt) - Date.parse(run.startedAt) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

class BadFilter extends Error {}

/** The `limit` asked for: a whole number of runs from 1 to MAX_PAGE, 100 when not given. */
function pageSize(value: unknown): number {
  const n = Math.trunc(typeof value === 'number' ? value : Number(text(value) ?? NaN));
  return Number.isFinite(n) ? Math.min(Math.max(n, 1), MAX_PAGE) : 100;
}

function time(value: unknown, name: string): string | undefined {
  const given = text(value);
  if (given === undefined) return undefined;
  const ms = Date.parse(given);
  if (Number.isNaN(ms)) throw new BadFilter(`"${name}" is not a date and time: ${given}`);
  return new Date(ms).toISOString();
}

/** The query string's `value.<name>=<text>` pairs, or a POST body's `values: { name: text }`. */
function valuesOf(q: Record<string, unknown>): Record<string, string> | undefined {
  const values: Record<string, string> = {};
  const given = q.values;
  if (given !== undefined) {
    if (typeof given !== 'object' || given === null || Array.isArray(given))
      throw new BadFilter('"values" is not an object of names and texts');
    for (const [name, value] of Object.entries(given)) {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
        throw new BadFilter(`The value "${name}" to filter by is not a text`);
      values[name] = String(value);
    }
  }
  for (const [key, value] of Object.entries(q)) {
    if (!key.startsWith('value.') || key.length === 'value.'.length) continue;
    if (typeof value !== 'string') throw new BadFilter(`"${key}" is given more than once`);
    values[key.slice('value.'.length)] = value;
  }
  return Object.keys(values).length ? values : undefined;
}

/**
 * The filter of a runs request: `flow`, `trigger`, `status` (running, succeeded, failed,
 * unfinished), `since`, `until`, `key` (business key: exactly or as a prefix), `value.<name>`
 * (a named value, exactly; `values: { name: text }` in a POST body), `q` (text in the input or
 * error), from the query string or, for a POST, the JSON body.
 */
function filterOf(req: Request): RunQuery {
  const body: unknown = req.body;
  const q: Record<string, unknown> = {
    ...req.query,
    ...(req.method === 'POST' && typeof body === 'object' && body !== null ? body : {}),
  };
  const statusName = text(q.status);
  const status = statusName === undefined ? undefined : STATUS_NAMES[statusName];
  if (statusName !== undefined && !status)
    throw new BadFilter(`Unknown status "${statusName}": running, succeeded, failed or unfinished`);
  return {
    flowId: text(q.flow),
    triggerId: text(q.trigger),
    status,
    since: time(q.since, 'since'),
    until: time(q.until, 'until'),
    businessKey: text(q.key),
    values: valuesOf(q),
    text: text(q.q),
    limit: pageSize(q.limit),
    after: text(q.after),
  };
}

/** Whether a run not in the store yet matches `query` as the store's query would. */
function matches(run: RunRecord, query: RunQuery): boolean {
  const started = Date.parse(run.startedAt);
  const needle = query.text?.toLowerCase();
  return (
    (!query.flowId || run.flowId === query.flowId) &&
    (!query.triggerId || run.trigger.id === query.triggerId) &&
    (!query.status || run.status === query.status) &&
    (!query.businessKey || (run.businessKey?.startsWith(query.businessKey) ?? false)) &&
    Object.entries(query.values ?? {}).every(([name, value]) => run.values?.[name] === value) &&
    (!query.rerunOf || run.rerunOf === query.rerunOf) &&
    (!query.since || started >= Date.parse(query.since)) &&
    (!query.until || started < Date.parse(query.until)) &&
    (!needle ||
      JSON.stringify(run.input ?? null)
        .toLowerCase()
        .includes(needle) ||
      (run.error?.toLowerCase().includes(needle) ?? false))
  );
}

/**
 * Runs not in the store yet: those in flight, and those finished a moment ago whose write has not
 * committed yet.
 */
function unstored(ctx: PackageRuntime, query: RunQuery): RunRecord[] {
  return [...ctx.runs.list(query.flowId), ...ctx.settling.values()].filter((r) => matches(r, query));
}

/** A run's place in the list, as the store's keyset orders it: newest first, then by id. */
type Place = { startedAt: number; id: string };
const placeOf = (run: RunRecord): Place => ({ startedAt: Date.parse(run.startedAt), id: run.id });
/** Whether `a` comes before `b` in the list (is newer). */
const before = (a: Place, b: Place) =>
  a.startedAt > b.startedAt || (a.startedAt === b.startedAt && a.id > b.id);

/**
 * One page of runs: those of the store's page and those not stored yet, merged in the store's
 * order (newest first, by start time and id), at most `limit`. Every run has one place in that
 * order whether stored or not, so a cursor (the last run's place) goes on from the same point
 * while runs finish and are stored: no run is listed twice or left out. Runs not stored yet and
 * older than the store's page (when it has a next one) wait for the page that reaches them.
 */
function mergedPage(fresh: RunRecord[], page: RunPage, query: RunQuery): RunPage {
  const limit = query.limit ?? pageSize(undefined);
  const after = decodeCursor(query.after);
  const end = decodeCursor(page.next);
  const byId = new Map(page.runs.map((r) => [r.id, r]));
  for (const run of fresh) {
    const place = placeOf(run);
    if (after && !before(after, place)) continue;
    if (!byId.has(run.id) && end && before(end, place)) continue;
    byId.set(run.id, run); // a run in flight is newer news than its stored copy
  }
  const runs = [...byId.values()].sort((a, b) => (before(placeOf(a), placeOf(b)) ? -1 : 1));
  if (runs.length > limit) {
    const shown = runs.slice(0, limit);
    const last = placeOf(shown[shown.length - 1]);
    return { runs: shown, next: cursorAt(last.startedAt, last.id) };
  }
  return page.next ? { runs, next: page.next } : { runs };
}

/**
 * Admin endpoints of the Runs dashboard (the sidebar and the full-page view):
 * - GET /imis/runs: runs, newest first (those in flight among them, by start time), filtered (see
 *   filterOf), at most `limit`, paged by the `X-Next-Page` cursor (`after`; see mergedPage);
 * - GET /imis/runs/counts: runs per status for the same filter (its status aside);
 * - GET /imis/runs/:id: one run with its steps and its re-run chain (`rerunOf`, `reruns`);
 * - POST /imis/runs/:id/rerun: Re-run (same input, from the trigger);
 * - POST /imis/runs/rerun: every failed run the filter selects that was not re-run yet
 *   (`dryRun`: only how many);
 * - GET /imis/refused: the calls the Webhook in and change notification endpoints rejected before
 *   any run (newest first; filters `flow`, `trigger`, `limit`; kept in memory, the last few per
 *   endpoint, a call to an unknown URL under its type without an id; header `X-Total-Count`: how
 *   many they rejected since deployed, those no longer kept included);
 * - GET /imis/runs-view: the full-page view, a page of code and texts only: its data comes from
 *   the endpoints above, with the editor's credentials (as Node-RED's own editor page is served to
 *   anyone and its admin API is not).
 * Runs still in flight come from the tracker, finished ones from the store. Mounted once, by
 * whichever module loads first.
 */
export function mountRunsApi(RED: Red): void {
  const read = RED.auth.needsPermission('imis-runs.read');
  const write = RED.auth.needsPermission('imis-runs.write');
  const fail = (res: Response, err: Error) =>
    err instanceof BadFilter
      ? void res.status(400).json({ error: err.message })
      : void res.status(503).json({ error: err.message });

  mountOnce(RED.httpAdmin, 'get', '/imis/runs', read, (req, res) => {
    const list = async () => {
      const ctx = packageRuntime(RED);
      const query = filterOf(req);
      const fresh = unstored(ctx, query);
      const page = mergedPage(fresh, await ctx.store.runs.list(query), query);
      if (page.next) res.set('X-Next-Page', page.next);
      res.json(page.runs.map(summary));
    };
    list().catch((err: Error) => fail(res, err));
  });

  mountOnce(RED.httpAdmin, 'get', '/imis/runs/counts', read, (req, res) => {
    const count = async () => {
      const ctx = packageRuntime(RED);
      const { status: _status, ...query } = filterOf(req);
      const counts: RunCounts = await ctx.store.runs.count(query);
      for (const run of unstored(ctx, query)) counts[run.status] += 1;
      // capped: a count stopped at its cap, or a text search at its window (see RunCounts).
      res.json({
        succeeded: counts.ok,
        failed: counts.failed,
        running: counts.running,
        unfinished: counts.unfinished,
        capped: counts.capped,
      });
    };
    count().catch((err: Error) => fail(res, err));
  });

  mountOnce(RED.httpAdmin, 'post', '/imis/runs/rerun', write, (req, res) => {
    const rerunAll = async () => {
      const ctx = packageRuntime(RED);
      const query = filterOf(req);
      if (query.status !== 'failed')
        throw new BadFilter('Bulk re-run takes failed runs only: filter by the status "failed"');
      const selected = await failedNotRerun(ctx, query);
      const body: unknown = req.body;
      const dryRun = [req.query.dryRun, typeof body === 'object' && body && 'dryRun' in body && body.dryRun]
        .map(String)
        .some((v) => v === 'true' || v === '1');
      if (dryRun) return void res.json({ count: selected.length });
      const started: { id: string; rerunOf: string }[] = [];
      const skipped: { id: string; error: string }[] = [];
      for (const run of selected) {
        const outcome = await rerunOne(RED, ctx, run);
        if ('error' in outcome) skipped.push({ id: run.id, error: outcome.error });
        else started.push({ id: outcome.id, rerunOf: run.id });
      }
      res.json({ count: selected.length, started, skipped });
    };
    rerunAll().catch((err: Error) => fail(res, err));
  });

  mountOnce(RED.httpAdmin, 'get', '/imis/refused', read, (req, res) => {
    const q = req.query;
    const limit = Number(q.limit);
    const query = { triggerId: text(q.trigger), flowId: text(q.flow) };
    const refused = packageRuntime(RED).refused;
    res.set('X-Total-Count', String(refused.count(query)));
    res.json(refused.list({ ...query, limit: Number.isInteger(limit) && limit > 0 ? limit : undefined }));
  });

  mountOnce(RED.httpAdmin, 'get', '/imis/runs/:id', read, (req, res) => {
    const detail = async () => {
      const ctx = packageRuntime(RED);
      const run = await findRun(ctx, String(req.params.id));
      if (!run) return void res.status(404).json({ error: 'unknown run' });
      res.json({ ...run, durationMs: durationOf(run), reruns: await rerunsOf(ctx, run.id) });
    };
    detail().catch((err: Error) => fail(res, err));
  });

  mountOnce(RED.httpAdmin, 'post', '/imis/runs/:id/rerun', write, (req, res) => {
    const ctx = packageRuntime(RED);
    const rerun = async () => {
      const run = await findRun(ctx, String(req.params.id));
      if (!run) return res.status(404).json({ error: 'unknown run' });
      const outcome = await rerunOne(RED, ctx, run);
      if ('error' in outcome) return res.status(409).json(outcome);
      res.json(outcome);
    };
    rerun().catch((err: Error) => fail(res, err));
  });

  mountOnce(RED.httpAdmin, 'get', '/imis/runs-view', (_req, res) => {
    res.type('html').set('Cache-Control', 'no-store').send(fullPage());
  });
  mountOnce(RED.httpAdmin, 'get', '/imis/runs-view/page.js', (_req, res) => {
    res.type('application/javascript').sendFile(PAGE_FILES + '.js');
  });
  mountOnce(RED.httpAdmin, 'get', '/imis/runs-view/page.css', (_req, res) => {
    res.type('text/css').sendFile(PAGE_FILES + '.css');
  });
}

/**
 * The full-page view's script and style, bundled at build from src/editor/runs/page.ts (nodes/,
 * beside this module's folder).
 */
const PAGE_FILES = join(__dirname, '..', 'imis-runs-view');

/**
 * The full-page view: Node-RED's stylesheet (its controls and theme variables, beside the page at
 * <admin>/red/), the view's script and style, and the catalog's texts for the script to read. Made
 * for each request (an editor opening the view): nothing is kept between them.
 */
function fullPage(): string {
  const catalog = readFileSync(join(__dirname, '..', 'locales', 'en-US', 'imis-runs.json'), 'utf8');
  const texts = JSON.stringify((JSON.parse(catalog) as { 'imis-runs': unknown })['imis-runs']).replace(
    /</g,
    '\\u003c',
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>iMIS runs</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="../red/style.min.css">
<link rel="stylesheet" href="runs-view/page.css">
</head><body class="imis-runs-page red-ui-editor">
<div id="imis-runs-root"></div>
<script type="application/json" id="imis-runs-texts">${texts}</script>
<script src="runs-view/page.js"></script>
</body></html>`;
}

/**
 * Re-runs `run` with its stored input: from its trigger, or, for a run another node's message
 * started, at the node of this package it reached; else why not.
 */
async function rerunOne(
  RED: Red,
  ctx: PackageRuntime,
  run: RunRecord,
): Promise<{ id: string } | { error: string }> {
  if (run.inputNotStored) return { error: runsMessage(RED, 'errors.rerun-not-stored') };
  // A re-run by hand takes the place of an automatic retry still waiting: not both.
  if (run.retryAt) await ctx.store.retries.claim(run.id);
  const trigger = ctx.triggers.get(run.trigger.id);
  if (trigger) return { id: await trigger.rerun(run.input, run.inputExtra, run.id) };
  if (run.entry) {
    if (run.inputTruncated)
      return { error: runsMessage(RED, 'errors.rerun-truncated', { ...run.inputTruncated }) };
    const id = ctx.rerunAtEntry(run);
    if (id) return { id };
  }
  return { error: runsMessage(RED, 'errors.rerun-undeployed') };
}

/** Every failed run the filter selects that has not been re-run yet, oldest first. */
async function failedNotRerun(ctx: PackageRuntime, query: RunQuery): Promise<RunRecord[]> {
  await ctx.store.flush();
  const selected: RunRecord[] = [];
  let after: string | undefined;
  do {
    const page = await ctx.store.runs.list({ ...query, notRerun: true, limit: MAX_PAGE, after });
    selected.push(...page.runs);
    after = page.next;
  } while (after);
  const rerunLive = new Set(ctx.runs.list().map((r) => r.rerunOf));
  return selected.filter((r) => !rerunLive.has(r.id)).reverse();
}

/** Ids of the re-runs of run `id`, newest first: in flight, settling and stored. */
async function rerunsOf(ctx: PackageRuntime, id: string): Promise<string[]> {
  const ids = unstored(ctx, { rerunOf: id }).map((r) => r.id);
  let after: string | undefined;
  do {
    const page = await ctx.store.runs.list({ rerunOf: id, limit: MAX_PAGE, after });
    ids.push(...page.runs.map((r) => r.id));
    after = page.next;
  } while (after);
  return [...new Set(ids)];
}

/**
 * A run in flight (the tracker) or finished (the store). A run that has just finished may still
 * be in the batch the store is committing: the store is flushed before the run is called unknown.
 */
async function findRun(ctx: PackageRuntime, id: string): Promise<RunRecord | undefined> {
  return ctx.runs.get(id) ?? ctx.settling.get(id) ?? ctx.store.runs.get(id);
}
