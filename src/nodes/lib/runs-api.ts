import { packageContext } from './context.js';
import { mountOnce } from './http.js';

/**
 * Admin endpoints of the Runs sidebar: runs per flow (newest first), one run with its steps, and
 * Re-run (same input, from the trigger). Mounted once, by whichever node module loads first.
 */
export function mountRunsApi(RED: any): void {
  const read = RED.auth.needsPermission('imis-runs.read');
  const write = RED.auth.needsPermission('imis-runs.write');

  mountOnce(RED.httpAdmin, 'get', '/imis/runs', read, (req: any, res: any) => {
    const { runs } = packageContext(RED);
    const flow = typeof req.query?.flow === 'string' ? req.query.flow : undefined;
    const limit = Math.min(Number(req.query?.limit) || 100, 1000);
    const list = runs.list(flow).slice(0, limit);
    res.json(
      list.map(({ steps, input: _input, inputExtra: _extra, ...summary }) => ({
        ...summary,
        steps: steps.length,
      })),
    );
  });

  mountOnce(RED.httpAdmin, 'get', '/imis/runs/:id', read, (req: any, res: any) => {
    const run = packageContext(RED).runs.get(req.params.id);
    if (!run) {
      res.status(404).json({ error: 'unknown run' });
      return;
    }
    res.json(run);
  });

  mountOnce(RED.httpAdmin, 'post', '/imis/runs/:id/rerun', write, (req: any, res: any) => {
    const ctx = packageContext(RED);
    const run = ctx.runs.get(req.params.id);
    if (!run) {
      res.status(404).json({ error: 'unknown run' });
      return;
    }
    const trigger = ctx.triggers.get(run.trigger.id);
    if (!trigger) {
      res.status(409).json({ error: 'The trigger of this run is not deployed any more' });
      return;
    }
    res.json({ id: trigger.rerun(run.input, run.inputExtra, run.id) });
  });
}
