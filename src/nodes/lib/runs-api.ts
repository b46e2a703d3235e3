import type { RunRecord, RunStatus } from '../../runs/tracker.js';
import type { RunQuery } from '../../store/index.js';
import { packageContext } from './context.js';
import { mountOnce } from './http.js';

const STATUSES = new Set<RunStatus>(['running', 'ok', 'failed', 'unfinished']);

function summary({ steps, input: _input, inputExtra: _extra, ...rest }: RunRecord) {
  return { ...rest, steps: steps.length };
}

/** The store's filters, for a run not in the store yet. */
function matches(run: RunRecord, q: RunQuery): boolean {
  const started = Date.parse(run.startedAt);
  return (
    (!q.flowId || run.flowId === q.flowId) &&
    (!q.triggerId || run.trigger.id === q.triggerId) &&
    (!q.status || run.status === q.status) &&
    (!q.since || started >= Date.parse(q.since)) &&
    (!q.until || started < Date.parse(q.until)) &&
    (!q.businessKey || run.businessKey === q.businessKey)
  );
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Admin endpoints of the Runs sidebar: runs (newest first; filters `flow`, `status`, `trigger`,
 * `since`, `until`, `key`; paged by `limit` and the `X-Next-Page` cursor), one run with its steps,
 * and Re-run (same input, from the trigger). Runs still in flight come from the tracker, finished
 * ones from the store. Mounted once, by whichever node module loads first.
 */
export function mountRunsApi(RED: any): void {
  const read = RED.auth.needsPermission('imis-runs.read');
  const write = RED.auth.needsPermission('imis-runs.write');
  const fail = (res: any, err: Error) => res.status(503).json({ error: err.message });

  mountOnce(RED.httpAdmin, 'get', '/imis/runs', read, (req: any, res: any) => {
    const { runs, settling, store } = packageContext(RED);
    const q = req.query ?? {};
    const status = STATUSES.has(q.status) ? (q.status as RunStatus) : undefined;
    const query: RunQuery = {
      flowId: text(q.flow),
      triggerId: text(q.trigger),
      status,
      since: text(q.since),
      until: text(q.until),
      businessKey: text(q.key),
      limit: Number(q.limit) || 100,
      after: text(q.after),
    };
    // Live runs lead the first page (they are the newest); stored pages follow by cursor.
    // Runs finished a moment ago whose write has not committed yet come next.
    const live =
      query.after || (status && status !== 'running')
        ? []
        : runs.list(query.flowId).filter((r) => !query.triggerId || r.trigger.id === query.triggerId);
    const finishing = query.after ? [] : [...settling.values()].filter((r) => matches(r, query));
    const shown = new Set([...live, ...finishing].map((r) => r.id));
    store.listRuns(query).then(
      (page) => {
        if (page.next) res.set('X-Next-Page', page.next);
        const stored = page.runs.filter((r) => !runs.isLive(r.id) && !shown.has(r.id));
        res.json([...live, ...finishing, ...stored].map(summary));
      },
      (err: Error) => fail(res, err),
    );
  });

  mountOnce(RED.httpAdmin, 'get', '/imis/runs/:id', read, (req: any, res: any) => {
    const { runs, settling, store } = packageContext(RED);
    const live = runs.get(req.params.id) ?? settling.get(req.params.id);
    if (live) return res.json(live);
    store.getRun(req.params.id).then(
      (run) => {
        if (!run) res.status(404).json({ error: 'unknown run' });
        else res.json(run);
      },
      (err: Error) => fail(res, err),
    );
  });

  mountOnce(RED.httpAdmin, 'post', '/imis/runs/:id/rerun', write, (req: any, res: any) => {
    const ctx = packageContext(RED);
    const rerun = async () => {
      const run =
        ctx.runs.get(req.params.id) ??
        ctx.settling.get(req.params.id) ??
        (await ctx.store.getRun(req.params.id));
      if (!run) return res.status(404).json({ error: 'unknown run' });
      const trigger = ctx.triggers.get(run.trigger.id);
      if (!trigger)
        return res.status(409).json({ error: 'The trigger of this run is not deployed any more' });
      res.json({ id: await trigger.rerun(run.input, run.inputExtra, run.id) });
    };
    rerun().catch((err: Error) => fail(res, err));
  });
}
