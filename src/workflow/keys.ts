/**
 * Which instance a message belongs to: Per Record, the key a Liquid template renders
 * (`{{ input.orderId }}`, src/core/templates) or the value of a message property; Per Run, the run
 * id (one instance per run).
 */
import { compileTemplate } from '../core/templates.js';
import { ExpectedError } from '../core/errors.js';
import type { WorkflowDefinition } from './definition.js';

/** A message that gives no key (the property is missing, the template renders nothing). */
export class KeyError extends ExpectedError {
  constructor(
    readonly workflow: string,
    readonly source: string,
  ) {
    super(`The message gives no key for workflow ${workflow} (${source} is empty)`);
    this.name = 'KeyError';
  }
}

export type KeyOf = (msg: Record<string, unknown>) => string;

/**
 * The key function of a definition. `getProperty` reads a property path of the message (Node-RED's
 * RED.util.getMessageProperty); `runId` gives the run a message belongs to.
 */
export function keyResolver(
  def: WorkflowDefinition,
  getProperty: (msg: Record<string, unknown>, path: string) => unknown,
  runId: (msg: Record<string, unknown>) => string | undefined,
): KeyOf {
  const text = (value: unknown): string =>
    value === undefined || value === null
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value).trim();
  if (def.instanceMode === 'run') {
    return (msg) => {
      const key = text(runId(msg));
      if (!key) throw new KeyError(def.code, 'the run id');
      return key;
    };
  }
  const source = def.key ?? '';
  if (def.keyType === 'msg') {
    return (msg) => {
      let value: unknown;
      try {
        value = getProperty(msg, source);
      } catch {
        value = undefined;
      }
      const key = text(value);
      if (!key) throw new KeyError(def.code, `msg.${source}`);
      return key;
    };
  }
  const template = compileTemplate(source, 'key');
  return (msg) => {
    const key = template.render({ input: msg.payload, msg }).trim();
    if (!key) throw new KeyError(def.code, source);
    return key;
  };
}
