import { CronExpressionError, buildExpression, parseSchedule } from '../core/cron.js';
import type { Preset } from '../core/cron.js';
import { CronTimer, cronCommand } from '../core/cron-timer.js';
import type { CronState, CronView } from '../core/cron-timer.js';
import { isTimeZone, serverTimeZone } from '../core/dates.js';
import { ExpectedError } from '../core/errors.js';
import { mountOnce } from './lib/http/routes.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { Node, NodeDef, NodeModule, NodeStatus, Red } from './lib/red.js';
import { mountRunsApi } from './lib/runs-api.js';
import { retryPolicyOf, triggerRuns, withRetry } from './lib/trigger.js';
import { runLabelsOf, withRunLabels } from './lib/run-labels.js';
import type { RunLabelSettings } from './lib/run-labels.js';

interface CronConfig extends RunLabelSettings {
  name?: string;
  expression: string;
  timeZone: string;
  enabled: boolean;
  runMissed: boolean;
  /** Automatic re-runs of transient failures (src/runs/retry.ts): how many, and the first wait. */
  retries: number;
  retryDelaySec: number;
}

const config = new NodeConfig<CronConfig>('imis-cron', [
  (c) => ({ expression: '0 0 * * * ? *', timeZone: '', enabled: true, runMissed: false, ...c }),
  withRetry,
  // v3: the run's business key and values templates, none.
  withRunLabels,
]);

function statusOf(RED: Red, view: CronView): NodeStatus {
  switch (view.state) {
    case 'invalid':
      return { fill: 'red', shape: 'ring', text: RED._('imis-cron.status.invalid') };
    case 'disabled':
      return { fill: 'grey', shape: 'ring', text: RED._('imis-cron.status.disabled') };
    case 'ended':
      return { fill: 'grey', shape: 'dot', text: RED._('imis-cron.status.no-more') };
    case 'waiting':
      return {
        fill: 'green',
        shape: 'dot',
        text: RED._('imis-cron.status.next', { time: view.next.toLocaleString() }),
      };
  }
}

const register: NodeModule = (RED) => {
  function CronNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const { expression, timeZone, enabled, runMissed, ...settings } = config.read(def);
    const labels = runLabelsOf(RED, node, settings);
    if (labels === false) return; // a template that cannot work: reported, and nothing is scheduled
    const runs = triggerRuns(RED, node, undefined, { retry: retryPolicyOf(settings), labels });
    const { store } = runs.ctx;

    const timer = new CronTimer({
      expression,
      timeZone,
      enabled,
      runMissed,
      // Kept in the package store at each change (docs/store.md).
      state: {
        load: () => store.nodeState.get<CronState>(node.id, 'cron'),
        save: (state) => store.nodeState.set(node.id, 'cron', state),
      },
      fire: (trigger) => runs.fire({ payload: { trigger }, extra: { topic: node.name || 'cron' } }),
      changed: (view) => node.status(statusOf(RED, view)),
      invalid: (err) => node.error(RED._('imis-cron.errors.invalid', { message: err.message })),
      missed: (at) => node.log(RED._('imis-cron.log.missed', { time: at.toISOString() })),
      stateFailed: (err) => node.warn(RED._('imis-cron.errors.state', { message: err.message })),
    });

    // Control messages: "enable", "disable", "trigger" (run now), or { cron, timeZone? } (replace).
    node.on('input', (msg, _send, done) => {
      timer.whenReady(() => {
        const command = cronCommand(msg.payload);
        if (!command) return done(new ExpectedError(RED._('imis-cron.errors.command')));
        try {
          timer.apply(command);
        } catch (err) {
          const message = RED._('imis-cron.errors.invalid', { message: (err as Error).message });
          return done(new CronExpressionError(message));
        }
        done();
      });
    });
    node.on('close', () => timer.close());
  }

  registerType(RED, 'imis-cron', CronNode, { settings: config.settings() });
  mountRunsApi(RED);

  // Editor helpers: validation, plain-English description and next runs; "Build schedule".
  const read = RED.auth.needsPermission('imis-cron.read');
  // The next runs are instants; `timeZone` is the zone they are shown in ('' = this server's).
  // `field` says which input is wrong: an unknown zone is the zone's fault, not the expression's.
  mountOnce(RED.httpAdmin, 'post', '/imis/cron/describe', read, (req, res) => {
    const expression = String(req.body?.expression ?? '');
    const timeZone = String(req.body?.timeZone ?? '').trim();
    if (!isTimeZone(timeZone)) {
      res.json({
        valid: false,
        field: 'timeZone',
        error: RED._('imis-cron.errors.time-zone', { zone: timeZone }),
      });
      return;
    }
    try {
      const schedule = parseSchedule(expression, timeZone);
      res.json({
        valid: true,
        description: schedule.describe(),
        timeZone: timeZone || serverTimeZone(),
        next: schedule.nextRuns(5).map((d) => d.toISOString()),
      });
    } catch (err) {
      res.json({ valid: false, field: 'expression', error: (err as Error).message });
    }
  });
  mountOnce(RED.httpAdmin, 'post', '/imis/cron/build', read, (req, res) => {
    try {
      res.json({ expression: buildExpression(req.body as Preset) });
    } catch (err) {
      res.status(400).json({ error: (err as Error).message });
    }
  });
};

export = register;
