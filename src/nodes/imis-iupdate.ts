import { ExpectedError } from '../core/errors.js';
import { compileJsonTemplate } from '../core/templates.js';
import { failureSummary, runTasks } from '../imis/iupdate.js';
import type { TaskSpec } from '../imis/iupdate.js';
import { actionFailed, onErrorOf, withOnError } from './lib/action.js';
import { packageRuntime } from './lib/package-runtime.js';
import { NodeConfig, withDefaults } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { Node, NodeDef, NodeModule } from './lib/red.js';
import { fromConfig } from './lib/status.js';

interface TaskConfig {
  name: string;
  kind: 'standard' | 'polling';
  wait: boolean;
  /** JSON object text; each string value is a template. '' = no QueryParameters. */
  queryParameters: string;
  timeoutSec: number;
}

/** A task's defaults (a task added in the editor starts with them). */
const TASK_DEFAULTS: TaskConfig = {
  name: '',
  kind: 'polling',
  wait: true,
  queryParameters: '',
  timeoutSec: 3600,
};

interface IUpdateConfig {
  name?: string;
  tasks: TaskConfig[];
  outputProp: string;
  pollFloorSec: number;
  pollCapSec: number;
  failRunOnTaskFailure: boolean;
  /** Failure policy (src/nodes/lib/action.ts) when the tasks cannot be run at all. */
  onError: string;
}

const config = new NodeConfig<IUpdateConfig>(
  'imis-iupdate',
  [
    (c) => ({
      tasks: [],
      outputProp: 'iupdate',
      pollFloorSec: 1,
      pollCapSec: 60,
      failRunOnTaskFailure: true,
      ...c,
    }),
    withOnError,
  ],
  ['outputProp'],
);

/** The task URLs, kept as a credential: a JSON list, one per task. */
function taskUrls(text: string | undefined): string[] {
  try {
    const urls: unknown = JSON.parse(text || '[]');
    return Array.isArray(urls) ? urls.map((u) => (typeof u === 'string' ? u.trim() : '')) : [];
  } catch {
    return [];
  }
}

const register: NodeModule = (RED) => {
  function IUpdateNode(this: Node<{ urls?: string }>, def: NodeDef) {
    RED.nodes.createNode(this, def);
    // A message of another node starts a run here: the package's message hooks must be in place.
    packageRuntime(RED);
    const node = this;
    const { outputProp, pollFloorSec, pollCapSec, failRunOnTaskFailure, onError, ...read } = config.read(def);
    const policy = onErrorOf(onError);
    const urls = taskUrls(node.credentials.urls);
    const tasks = read.tasks.map((t, i) => {
      const task = withDefaults(t, TASK_DEFAULTS);
      return { ...task, name: task.name || `Task ${i + 1}`, url: urls[i] ?? '' };
    });
    const parameters = fromConfig(node, RED._('imis-iupdate.status.invalid'), () =>
      tasks.map((t) => compileJsonTemplate(t.queryParameters, `QueryParameters of ${t.name}`)),
    );
    if (!parameters) return;
    const aborter = new AbortController();
    let busy = 0;

    node.on('input', (msg, send, done) => {
      const fail = (err: Error) => {
        if (!actionFailed(RED, node, policy, msg, send, done, err))
          node.status({
            fill: 'red',
            shape: 'ring',
            text: RED._('imis-iupdate.status.failed', { time: new Date().toLocaleTimeString() }),
          });
      };
      if (tasks.length === 0) return fail(new ExpectedError(RED._('imis-iupdate.errors.no-tasks')));
      const missing = tasks.find((t) => !/^https?:\/\//.test(t.url));
      if (missing)
        return fail(new ExpectedError(RED._('imis-iupdate.errors.no-url', { task: missing.name })));
      let specs: TaskSpec[];
      try {
        specs = tasks.map((t, i) => ({
          name: t.name,
          url: t.url,
          kind: t.kind === 'standard' ? 'standard' : 'polling',
          waitForCompletion: t.wait,
          queryParameters: parameters[i]({ input: msg.payload, msg }),
          timeoutMs: t.timeoutSec * 1000,
        }));
      } catch (err) {
        return fail(err as Error);
      }
      busy++;
      const progress = (index: number, name: string, percent: number | undefined) =>
        node.status({
          fill: 'blue',
          shape: 'dot',
          text: RED._('imis-iupdate.status.progress', {
            index: index + 1,
            count: specs.length,
            name,
            percent: percent === undefined ? '' : ` ${percent}%`,
          }),
        });
      void runTasks(specs, {
        pollFloorMs: pollFloorSec * 1000,
        pollCapMs: pollCapSec * 1000,
        signal: aborter.signal,
        onProgress: (p) => progress(p.index, p.name, p.percent),
      }).then(
        (outcomes) => {
          busy--;
          const failed = outcomes.filter((o) => !o.ok);
          node.status({
            fill: failed.length ? 'yellow' : 'green',
            shape: 'dot',
            text: RED._('imis-iupdate.status.done', {
              ok: outcomes.length - failed.length,
              count: outcomes.length,
            }),
          });
          RED.util.setMessageProperty(msg, outputProp, outcomes, true);
          send(msg);
          if (failed.length && failRunOnTaskFailure) {
            done(
              new ExpectedError(
                RED._('imis-iupdate.errors.failed', { count: failed.length, detail: failureSummary(failed) }),
              ),
            );
          } else {
            done();
          }
        },
        (err: Error) => {
          busy--;
          fail(err);
        },
      );
    });

    node.on('close', () => {
      if (busy) aborter.abort();
    });
  }
  registerType(RED, 'imis-iupdate', IUpdateNode, {
    credentials: { urls: { type: 'text' } },
    settings: config.settings({ taskDefaults: TASK_DEFAULTS }),
  });
};

export = register;
