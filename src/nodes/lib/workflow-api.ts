import {
  WorkflowDefinitionError,
  WorkflowError,
  WorkflowFileError,
  exportWorkflow,
  importWorkflow,
  layoutWorkflow,
  normalizeDefinition,
} from '../../workflow/index.js';
import type { WorkflowInstanceQuery } from '../../store/index.js';
import { mountOnce } from './http/routes.js';
import { adminUser } from './red.js';
import type { Red, Request, Response } from './red.js';
import { deployedWorkflows, eventView, instanceView, workflowMessage, workflowRuntime } from './workflows.js';

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const time = (v: unknown) => {
  const t = text(v);
  if (t === undefined) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * Admin endpoints of the iMIS workflows sidebar and the workflow dialog. Reading needs
 * `imis-workflow.read`, changing an instance `imis-workflow.write`. Mounted once.
 */
export function mountWorkflowApi(RED: Red): void {
  const read = RED.auth.needsPermission('imis-workflow.read');
  const write = RED.auth.needsPermission('imis-workflow.write');
  const app = RED.httpAdmin;
  const failed = (res: Response, err: Error) => {
    if (err instanceof WorkflowError) {
      const status =
        err.code === 'not-deployed' || err.code === 'no-instance'
          ? 404
          : err.code === 'unknown-state'
            ? 400
            : 409;
      res.status(status).json({ error: err.message });
    } else if (err instanceof WorkflowDefinitionError) res.status(400).json({ error: err.message });
    else res.status(503).json({ error: err.message });
  };
  const actor = (req: Request) => adminUser(req) ?? 'editor';

  // Deployed workflows: definition, problems, instance counts.
  mountOnce(app, 'get', '/imis/workflows', read, (_req, res) => {
    const runtime = workflowRuntime(RED);
    res.json(
      [...deployedWorkflows(RED).values()].map((d) => ({
        id: d.nodeId,
        code: d.code,
        description: d.definition.description,
        enabled: d.definition.enabled !== false,
        initial: d.definition.states.find((s) => s.initial)?.code,
        active: runtime.get(d.code) ? runtime.activeInstances(d.code) : 0,
        counts: runtime.instanceCounts(d.code),
        errors: d.errors,
        warnings: d.warnings,
        definition: d.definition,
      })),
    );
  });

  mountOnce(app, 'post', '/imis/workflows/layout', read, (req, res) => {
    try {
      const direction = req.body?.direction === 'TB' ? 'TB' : 'LR';
      res.json(layoutWorkflow(normalizeDefinition(req.body?.definition ?? {}), direction));
    } catch (err) {
      res.status(400).json({ error: (err as Error).message });
    }
  });

  mountOnce(app, 'post', '/imis/workflows/export', read, (req, res) => {
    res.json(exportWorkflow(normalizeDefinition(req.body?.definition ?? {})));
  });

  mountOnce(app, 'post', '/imis/workflows/import', read, (req, res) => {
    try {
      res.json({ workflow: importWorkflow(req.body?.file ?? req.body?.text ?? '') });
    } catch (err) {
      const message = err instanceof WorkflowFileError ? err.message : workflowMessage(RED, 'errors.import');
      res.status(400).json({ error: message });
    }
  });

  // Instances of one workflow: filters state, sinceFrom/sinceTo (ISO), flagged; paged by `after`.
  mountOnce(app, 'get', '/imis/workflows/:code/instances', read, (req, res) => {
    const q = req.query ?? {};
    const query: WorkflowInstanceQuery = {
      workflow: String(req.params.code),
      state: text(q.state),
      sinceFrom: time(q.sinceFrom),
      sinceTo: time(q.sinceTo),
      flagged: q.flagged === 'true' || q.flagged === '1',
      limit: Number(q.limit) || 50,
      after: text(q.after),
    };
    const now = Date.now();
    workflowRuntime(RED)
      .list(query)
      .then(
        (page) => res.json({ instances: page.instances.map((i) => instanceView(i, now)), next: page.next }),
        (err: Error) => failed(res, err),
      );
  });

  mountOnce(app, 'get', '/imis/workflows/:code/instances/:key', read, (req, res) => {
    const runtime = workflowRuntime(RED);
    runtime.instance(String(req.params.code), String(req.params.key)).then(
      (instance) => {
        if (!instance) return res.status(404).json({ error: workflowMessage(RED, 'errors.no-instance') });
        const manual = runtime.get(instance.workflow)?.manualTransitions(instance.state) ?? [];
        res.json({
          ...instanceView(instance),
          manual: manual.map((t) => ({ code: t.code, description: t.description, to: t.to })),
        });
      },
      (err: Error) => failed(res, err),
    );
  });

  mountOnce(app, 'get', '/imis/workflows/:code/instances/:key/history', read, (req, res) => {
    workflowRuntime(RED)
      .history(String(req.params.code), String(req.params.key))
      .then(
        (entries) => res.json(entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() }))),
        (err: Error) => failed(res, err),
      );
  });

  // Advance Workflow: fire a Manual transition (conditions are not evaluated: a person decides).
  mountOnce(app, 'post', '/imis/workflows/:code/instances/:key/advance', write, (req, res) => {
    const runtime = workflowRuntime(RED);
    const code = String(req.params.code);
    const key = String(req.params.key);
    const transition = text(req.body?.transition);
    const go = async () => {
      const wf = runtime.get(code);
      const t = transition ? wf?.transition(transition) : undefined;
      if (!wf)
        throw new WorkflowError(
          'not-deployed',
          workflowMessage(RED, 'errors.not-deployed', { workflow: code }),
        );
      if (!(await runtime.instance(code, key)))
        return res.status(404).json({ error: workflowMessage(RED, 'errors.no-instance') });
      if (!t || t.trigger !== 'manual')
        return res
          .status(400)
          .json({ error: workflowMessage(RED, 'errors.not-manual', { transition: transition ?? '' }) });
      const outcome = await runtime.fire(code, {
        key,
        transition: t.code,
        ignoreConditions: true,
        actor: actor(req),
      });
      if (!outcome.fired)
        return res.status(409).json({
          error: workflowMessage(RED, 'errors.not-fired', {
            transition: t.code,
            state: outcome.instance.state,
          }),
          reason: outcome.reason,
        });
      res.json(eventView(outcome.event));
    };
    go().catch((err: Error) => failed(res, err));
  });

  mountOnce(app, 'post', '/imis/workflows/:code/instances/:key/reset', write, (req, res) => {
    workflowRuntime(RED)
      .reset(String(req.params.code), String(req.params.key), String(req.body?.state ?? ''), actor(req))
      .then(
        (event) => res.json(eventView(event)),
        (err: Error) => failed(res, err),
      );
  });

  mountOnce(app, 'post', '/imis/workflows/:code/instances/:key/delete', write, (req, res) => {
    workflowRuntime(RED)
      .remove(String(req.params.code), String(req.params.key), actor(req))
      .then(
        (event) => res.json(eventView(event)),
        (err: Error) => failed(res, err),
      );
  });
}
