import { compileTemplate } from '../engine/templates.js';
import type { CompiledTemplate, TemplateContext } from '../engine/templates.js';
import { runTasks } from '../imis/iupdate.js';
import type { TaskOutcome, TaskSpec } from '../imis/iupdate.js';
import { migrate } from './lib/migrations.js';

interface TaskConfig {
  name: string;
  kind: 'standard' | 'polling';
  wait: boolean;
  /** JSON object text; each string value is a template. '' = no QueryParameters. */
  queryParameters: string;
  timeoutSec: number;
}

interface IUpdateConfig {
  name?: string;
  tasks: TaskConfig[];
  outputProp: string;
  pollFloorSec: number;
  pollCapSec: number;
  failRunOnTaskFailure: boolean;
}

const migrations = [
  (c: Record<string, unknown>) => ({
    tasks: [],
    outputProp: 'iupdate',
    pollFloorSec: 1,
    pollCapSec: 60,
    failRunOnTaskFailure: true,
    ...c,
  }),
];

/** QueryParameters: a JSON object parsed once, whose string leaves are templates. */
function compileParameters(
  text: string,
  label: string,
): ((ctx: TemplateContext) => Record<string, unknown>) | undefined {
  if (!text || !text.trim()) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`QueryParameters of ${label} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`QueryParameters of ${label} must be a JSON object, e.g. {"ID": "{{ input.memberId }}"}`);
  }
  const compiled: [string, CompiledTemplate | unknown][] = Object.entries(parsed).map(([k, v]) => [
    k,
    typeof v === 'string' ? compileTemplate(v, `${label} QueryParameters.${k}`) : v,
  ]);
  return (ctx) =>
    Object.fromEntries(
      compiled.map(([k, v]) => [
        k,
        v && typeof (v as CompiledTemplate).render === 'function' ? (v as CompiledTemplate).render(ctx) : v,
      ]),
    );
}

export = function register(RED: any): void {
  function IUpdateNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<IUpdateConfig>(raw, migrations);
    let urls: string[] = [];
    try {
      urls = JSON.parse(node.credentials?.urls || '[]');
    } catch {
      urls = [];
    }
    const tasks = (Array.isArray(config.tasks) ? config.tasks : []).map((task, i) => ({
      ...task,
      name: task.name || `Task ${i + 1}`,
      url: typeof urls[i] === 'string' ? urls[i].trim() : '',
    }));
    let parameters: ((ctx: TemplateContext) => Record<string, unknown> | undefined)[];
    try {
      parameters = tasks.map((t) => compileParameters(t.queryParameters, t.name) ?? (() => undefined));
    } catch (err) {
      node.error(err);
      node.status({ fill: 'red', shape: 'ring', text: RED._('imis-iupdate.status.invalid') });
      return;
    }
    const aborter = new AbortController();
    let busy = 0;

    node.on('input', async (msg: any, send: (m: unknown) => void, done: (err?: Error) => void) => {
      if (tasks.length === 0) return done(new Error(RED._('imis-iupdate.errors.no-tasks')));
      const missing = tasks.find((t) => !/^https?:\/\//.test(t.url));
      if (missing) return done(new Error(RED._('imis-iupdate.errors.no-url', { task: missing.name })));
      busy++;
      const ctx: TemplateContext = { input: msg.payload, msg };
      let specs: TaskSpec[];
      try {
        specs = tasks.map((t, i) => ({
          name: t.name,
          url: t.url,
          kind: t.kind === 'polling' ? 'polling' : 'standard',
          waitForCompletion: t.wait !== false,
          queryParameters: parameters[i](ctx),
          timeoutMs: (Number(t.timeoutSec) || 3600) * 1000,
        }));
      } catch (err) {
        busy--;
        return done(err as Error);
      }
      const outcomes: TaskOutcome[] = await runTasks(specs, {
        pollFloorMs: (Number(config.pollFloorSec) || 1) * 1000,
        pollCapMs: (Number(config.pollCapSec) || 60) * 1000,
        signal: aborter.signal,
        onProgress: (p) =>
          node.status({
            fill: 'blue',
            shape: 'dot',
            text: RED._('imis-iupdate.status.progress', {
              index: p.index + 1,
              count: specs.length,
              name: p.name,
              percent: p.percent === undefined ? '' : ` ${p.percent}%`,
            }),
          }),
      });
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
      RED.util.setMessageProperty(msg, config.outputProp || 'iupdate', outcomes, true);
      send(msg);
      if (failed.length && config.failRunOnTaskFailure) {
        const detail = failed
          .map((o) => `"${o.name}": ${o.error ?? o.status?.StatusDescription ?? o.state}`)
          .join('; ');
        done(new Error(RED._('imis-iupdate.errors.failed', { count: failed.length, detail })));
      } else {
        done();
      }
    });

    node.on('close', () => {
      if (busy) aborter.abort();
    });
  }
  RED.nodes.registerType('imis-iupdate', IUpdateNode, { credentials: { urls: { type: 'text' } } });
};
