import { CronExpressionError, buildExpression, parseSchedule } from '../engine/cron.js';
import type { Preset, Schedule } from '../engine/cron.js';
import { isTimeZone, serverTimeZone } from '../engine/dates.js';
import { mountOnce } from './lib/http.js';
import { migrate } from './lib/migrations.js';
import { mountRunsApi } from './lib/runs-api.js';
import { triggerRuns } from './lib/trigger.js';

interface CronConfig {
  name?: string;
  expression: string;
  timeZone: string;
  enabled: boolean;
  runMissed: boolean;
}

/** What a control message changed, kept across restarts (data folder, one file per node). */
interface CronState {
  enabled?: boolean;
  expression?: string;
  timeZone?: string;
  /** The last scheduled time that fired, for "run once at start-up if a run was missed". */
  lastScheduled?: string;
  /** The configured expression the state was made against: a redeploy with a new one wins. */
  configured?: string;
}

const migrations = [
  (c: Record<string, unknown>) => ({
    expression: '0 0 * * * ? *',
    timeZone: '',
    enabled: true,
    runMissed: false,
    ...c,
  }),
];

/** setTimeout cannot wait longer than 2^31-1 ms: longer waits are taken in steps. */
const MAX_WAIT_MS = 2 ** 31 - 1;

/** iWorkflow's Scheduled trigger writes `2024-06-19T19:32:00+00:00` (IMIS-API.md §7). */
function utcStamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export = function register(RED: any): void {
  function CronNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<CronConfig>(raw, migrations);
    const runs = triggerRuns(RED, node);
    const store = runs.ctx.store;
    let state: CronState = {};
    let enabled = config.enabled !== false;
    let schedule: Schedule | undefined;
    let timer: NodeJS.Timeout | undefined;
    let nextAt: Date | null = null;
    let closed = false;
    /** The stored state has been read and the schedule armed. */
    let ready = false;

    // Written to the store at each change, so a killed process keeps the schedule and enable flag.
    const save = () => {
      store
        .setNodeState(node.id, 'cron', {
          ...state,
          enabled,
          expression: schedule?.expression,
          timeZone: schedule?.timeZone,
        })
        .catch((err: Error) => node.warn(RED._('imis-cron.errors.state', { message: err.message })));
    };

    const showStatus = () => {
      if (!schedule)
        return node.status({ fill: 'red', shape: 'ring', text: RED._('imis-cron.status.invalid') });
      if (!enabled)
        return node.status({ fill: 'grey', shape: 'ring', text: RED._('imis-cron.status.disabled') });
      if (!nextAt)
        return node.status({ fill: 'grey', shape: 'dot', text: RED._('imis-cron.status.no-more') });
      node.status({
        fill: 'green',
        shape: 'dot',
        text: RED._('imis-cron.status.next', { time: nextAt.toLocaleString() }),
      });
    };

    const fire = (scheduled: Date) => {
      const actual = new Date();
      state.lastScheduled = scheduled.toISOString();
      save();
      runs.fire({
        payload: {
          trigger: {
            scheduledStartTimeUtc: utcStamp(scheduled),
            actualStartTimeUtc: utcStamp(actual),
            cronExpression: schedule?.expression ?? '',
          },
        },
        extra: { topic: node.name || 'cron' },
      });
    };

    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      nextAt = enabled && schedule ? schedule.next(new Date()) : null;
      showStatus();
      if (!nextAt) return;
      const waitFor = (at: Date) => {
        const delay = at.getTime() - Date.now();
        if (delay > MAX_WAIT_MS) {
          timer = setTimeout(() => waitFor(at), MAX_WAIT_MS);
          return;
        }
        timer = setTimeout(
          () => {
            fire(at);
            // Next fire computed from the scheduled time, so a late timer never skips a slot.
            nextAt = schedule?.next(at) ?? null;
            showStatus();
            if (nextAt) waitFor(nextAt);
          },
          Math.max(0, delay),
        );
      };
      waitFor(nextAt);
    };

    const use = (expression: string, timeZone: string): boolean => {
      try {
        schedule = parseSchedule(expression, timeZone);
        return true;
      } catch (err) {
        node.error(RED._('imis-cron.errors.invalid', { message: (err as Error).message }));
        return false;
      }
    };

    const start = (stored: CronState | undefined) => {
      if (closed) return;
      state = stored && typeof stored === 'object' ? stored : {};
      if (state.configured !== `${config.expression}|${config.timeZone}`) {
        state = { lastScheduled: state.lastScheduled, configured: `${config.expression}|${config.timeZone}` };
      }
      enabled = state.enabled ?? config.enabled !== false;
      if (!use(state.expression ?? config.expression, state.timeZone ?? config.timeZone)) {
        schedule = undefined;
      }
      if (schedule && enabled && config.runMissed && state.lastScheduled) {
        const missed = schedule.next(new Date(state.lastScheduled));
        if (missed && missed.getTime() < Date.now()) {
          node.log(RED._('imis-cron.log.missed', { time: missed.toISOString() }));
          setImmediate(() => fire(missed));
        }
      }
      arm();
      ready = true;
    };
    const loaded = store.getNodeState<CronState>(node.id, 'cron').then(start, (err: Error) => {
      node.warn(RED._('imis-cron.errors.state', { message: err.message }));
      start(undefined);
    });

    // Control messages: "enable", "disable", "trigger" (run now), or { cron, timeZone? } (replace).
    node.on('input', (msg: any, _send: unknown, done: (err?: Error) => void) => {
      if (ready) control(msg, done);
      else void loaded.then(() => control(msg, done));
    });
    const control = (msg: any, done: (err?: Error) => void) => {
      const command = msg.payload;
      if (command === 'enable' || command === 'disable') {
        enabled = command === 'enable';
        save();
        arm();
      } else if (command === 'trigger' || command === 'run') {
        fire(new Date());
      } else if (command && typeof command === 'object' && typeof command.cron === 'string') {
        const previous = schedule;
        if (
          !use(
            command.cron,
            typeof command.timeZone === 'string' ? command.timeZone : (schedule?.timeZone ?? ''),
          )
        ) {
          schedule = previous;
          done(new CronExpressionError(RED._('imis-cron.errors.invalid', { message: command.cron })));
          return;
        }
        save();
        arm();
      } else {
        done(new Error(RED._('imis-cron.errors.command')));
        return;
      }
      done();
    };

    node.on('close', () => {
      closed = true;
      if (timer) clearTimeout(timer);
    });
  }

  RED.nodes.registerType('imis-cron', CronNode);
  mountRunsApi(RED);

  // Editor helpers: validation, plain-English description and next runs; "Build schedule".
  const read = RED.auth.needsPermission('imis-cron.read');
  // The next runs are instants; `timeZone` is the zone they are shown in ('' = this server's).
  // `field` says which input is wrong: an unknown zone is the zone's fault, not the expression's.
  mountOnce(RED.httpAdmin, 'post', '/imis/cron/describe', read, (req: any, res: any) => {
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
  mountOnce(RED.httpAdmin, 'post', '/imis/cron/build', read, (req: any, res: any) => {
    try {
      res.json({ expression: buildExpression(req.body as Preset) });
    } catch (err) {
      res.status(400).json({ error: (err as Error).message });
    }
  });
};
