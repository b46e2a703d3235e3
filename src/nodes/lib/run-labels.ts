import { compileTemplate } from '../../core/templates.js';
import type { CompiledTemplate, TemplateContext } from '../../core/templates.js';
import { MAX_KEY_CHARS, MAX_VALUES, MAX_VALUE_CHARS, MAX_VALUE_NAME_CHARS } from '../../runs/tracker.js';
import { runLabelsMessage } from './messages.js';
import type { Migration } from './migrations.js';
import type { Node, Red } from './red.js';
import { fromConfig } from './status.js';
import type { RunLabels, RunStart } from './trigger.js';

/*
 * A trigger's "Run business key & values" (docs/nodes.md §Triggers): a Business key
 * template and named value templates, compiled once at deploy and rendered for each run start
 * (new input, replay, re-run) with `input` = the payload and `msg` = the message's properties.
 * What they render becomes the run's businessKey and values (src/runs/tracker.ts) and
 * `msg.imis.businessKey` / `msg.imis.values`, which any node downstream may change.
 */

/** One named run value: its name and its template. */
export interface RunValueTemplate {
  name: string;
  value: string;
}

/** The config fields every trigger node has for its run's business key and values. */
export interface RunLabelSettings {
  /** Liquid template of the run's business key ('' = none). */
  businessKey: string;
  /** Named Liquid templates of the run's values (at most MAX_VALUES, names of MAX_VALUE_NAME_CHARS). */
  runValues: RunValueTemplate[];
}

/** The config migration that gives a trigger its business key and values templates (none: as before). */
export const withRunLabels: Migration = (c) => ({ businessKey: '', runValues: [], ...c });

/** A rendered text as a label: trimmed, '' = none, cut to the run's limit. */
function labelText(text: string, max: number): string | undefined {
  const trimmed = text.trim();
  return trimmed === '' ? undefined : trimmed.slice(0, max);
}

/**
 * Compiles a trigger's business key and value templates. Throws, naming the field, a template
 * that does not compile or a value list the run could not keep (a value without a name, a name too
 * long or given twice, more than MAX_VALUES). Undefined when the node names its runs by nothing.
 */
export function compileRunLabels(
  RED: Red,
  settings: RunLabelSettings,
): ((input: RunStart) => RunLabels) | undefined {
  const keySource = settings.businessKey.trim() === '' ? undefined : settings.businessKey;
  const key =
    keySource === undefined
      ? undefined
      : compileTemplate(keySource, runLabelsMessage(RED, 'field.businessKey'));
  const values: [string, CompiledTemplate][] = [];
  const entries = Array.isArray(settings.runValues) ? settings.runValues : [];
  for (const entry of entries) {
    const name = typeof entry?.name === 'string' ? entry.name.trim() : '';
    const source = typeof entry?.value === 'string' ? entry.value : '';
    if (name === '' && source.trim() === '') continue; // a blank row of the editor's list
    if (name === '') throw new Error(runLabelsMessage(RED, 'errors.no-name', { template: source }));
    if (name.length > MAX_VALUE_NAME_CHARS)
      throw new Error(runLabelsMessage(RED, 'errors.long-name', { name, max: MAX_VALUE_NAME_CHARS }));
    if (values.some(([other]) => other === name))
      throw new Error(runLabelsMessage(RED, 'errors.same-name', { name }));
    if (source.trim() === '') continue; // a named value without a template: no value
    values.push([name, compileTemplate(source, runLabelsMessage(RED, 'field.value', { name }))]);
  }
  if (values.length > MAX_VALUES)
    throw new Error(runLabelsMessage(RED, 'errors.too-many', { count: values.length, max: MAX_VALUES }));
  if (!key && values.length === 0) return undefined;

  return (input) => {
    const ctx: TemplateContext = { input: input.payload, msg: { ...input.extra, payload: input.payload } };
    const labels: RunLabels = {};
    const businessKey = key && labelText(key.render(ctx), MAX_KEY_CHARS);
    if (businessKey !== undefined) labels.businessKey = businessKey;
    for (const [name, template] of values) {
      const text = labelText(template.render(ctx), MAX_VALUE_CHARS);
      if (text !== undefined) labels.values = { ...labels.values, [name]: text };
    }
    return labels;
  };
}

/**
 * The labels of `node`'s runs (TriggerOptions.labels) from its config. A config that cannot work is
 * reported (the reason, naming the field, in the node's error; a few words in red on the node) and
 * answers `false`: the node must then start no run.
 */
export function runLabelsOf(
  RED: Red,
  node: Node,
  settings: RunLabelSettings,
): ((input: RunStart) => RunLabels) | undefined | false {
  const compiled = fromConfig(
    node,
    runLabelsMessage(RED, 'status.invalid'),
    () => ({ labels: compileRunLabels(RED, settings) }),
    (err) => runLabelsMessage(RED, 'errors.config', { message: err.message }),
  );
  return compiled ? compiled.labels : false;
}
