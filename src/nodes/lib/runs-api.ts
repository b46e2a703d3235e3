import type { RunRecord, RunStatus } from '../../runs/tracker.js';
import type { RunQuery } from '../../store/index.js';
import { packageContext, rerunAtEntry } from './context.js';
import { runsMessage } from './messages.js';
import type { PackageContext } from './context.js';
import { mountOnce } from './http.js';
import type { Red, Response } from './red.js';

const STATUSES = new Set<RunStatus>(['running', 'ok', 'failed', 'unfinished']);

function summary({ steps, input: _input, inputExtra: _extra, ...rest }: RunRecord) {
  return { ...rest, steps: steps.length };
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
export function mountRunsApi(RED: Red): void {
  const read = RED.auth.needsPermission('imis-runs.read');
  const write = RED.auth.needsPermission('imis-runs.write');
  const fail = (res: Response, err: Error) => void res.status(503).json({ error: err.message });

  mountOnce(RED.httpAdmin, 'get', '/imis/runs', read, (req, res) => {
    const { runs, settling, store } = packageContext(RED);
    const q = req.query;
    const status = [...STATUSES].find((s) => s === q.status);
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
    // Runs not in the store yet lead the first page (they are the newest): those in flight, and
    // those finished a moment ago whose write has not committed yet. Stored pages follow by cursor.
    const matches = (r: RunRecord) =>
      (!query.flowId || r.flowId === query.flowId) &&
      (!query.triggerId || r.trigger.id === query.triggerId) &&
      (!status || r.status === status);
    const unstored = query.after ? [] : [...runs.list(query.flowId), ...settling.values()].filter(matches);
    store.listRuns(query).then(
      (page) => {
        const ids = new Set(unstored.map((r) => r.id));
        if (page.next) res.set('X-Next-Page', page.next);
        res.json([...unstored, ...page.runs.filter((r) => !ids.has(r.id))].map(summary));
      },
      (err: Error) => fail(res, err),
    );
  });

  mountOnce(RED.httpAdmin, 'get', '/imis/runs/:id', read, (req, res) => {
    findRun(packageContext(RED), String(req.params.id)).then(
      (run) => {
        if (!run) res.status(404).json({ error: 'unknown run' });
        else res.json(run);
      },
      (err: Error) => fail(res, err),
    );
  });

  mountOnce(RED.httpAdmin, 'post', '/imis/runs/:id/rerun', write, (req, res) => {
    const ctx = packageContext(RED);
    const rerun = async () => {
      const run = await findRun(ctx, String(req.params.id));
      if (!run) return res.status(404).json({ error: 'unknown run' });
      if (run.inputNotStored)
        return res.status(409).json({ error: runsMessage(RED, 'errors.rerun-not-stored') });
      const trigger = ctx.triggers.get(run.trigger.id);
      if (trigger) return res.json({ id: await trigger.rerun(run.input, run.inputExtra, run.id) });
      if (run.entry) {
        if (run.inputTruncated)
          return res
            .status(409)
            .json({ error: runsMessage(RED, 'errors.rerun-truncated', { ...run.inputTruncated }) });
        const id = rerunAtEntry(RED, run);
        if (id) return res.json({ id });
      }
      return res.status(409).json({ error: runsMessage(RED, 'errors.rerun-undeployed') });
    };
    rerun().catch((err: Error) => fail(res, err));
  });
}

/**
 * A run in flight (the tracker) or finished (the store). A run that has just finished may still
 * be in the batch the store is committing: the store is flushed before the run is called unknown.
 */
async function findRun(ctx: PackageContext, id: string): Promise<RunRecord | undefined> {
  return ctx.runs.get(id) ?? ctx.settling.get(id) ?? ctx.store.getRun(id);
}
