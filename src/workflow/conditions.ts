/**
 * Transition conditions: JSONata expressions over the message (the language Node-RED ships for its
 * own expressions), parsed once per definition and evaluated asynchronously.
 */
import type jsonataType from 'jsonata';
import { ExpectedError } from '../core/errors.js';
import { lazy } from '../core/lazy.js';

/** Loaded when a condition is first parsed (lazy.ts). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jsonata = lazy(() => require('jsonata') as typeof import('jsonata'));

/** A condition that could not be evaluated (not a false one): names the transition. */
export class ConditionError extends ExpectedError {
  constructor(
    readonly transition: string,
    readonly detail: string,
  ) {
    super(`The condition of transition ${transition} failed: ${detail}`);
    this.name = 'ConditionError';
  }
}

/** Longest a condition may run (JSONata's own guard against runaway recursion), ms. */
const TIMEOUT_MS = 1000;

/** The parser's message when `expression` is not valid JSONata; undefined when it is. */
export function conditionProblem(expression: string): string | undefined {
  try {
    jsonata()(expression);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * JSONata's boolean cast ($boolean): false for false, '', 0, null, an empty array or object, and an
 * array of such; true otherwise. A path that selects nothing (undefined) is false.
 */
export function truthy(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'number') return value !== 0;
  if (Array.isArray(value)) return value.some(truthy);
  if (typeof value === 'function') return false;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

export type Condition = (msg: unknown) => Promise<boolean>;

/** Parses `expression` once; the condition throws ConditionError when evaluating it fails. */
export function compileCondition(transition: string, expression: string): Condition {
  let compiled: jsonataType.Expression;
  try {
    compiled = jsonata()(expression, { timeout: TIMEOUT_MS });
  } catch (err) {
    throw new ConditionError(transition, (err as Error).message);
  }
  return async (msg) => {
    try {
      return truthy(await compiled.evaluate(msg));
    } catch (err) {
      throw new ConditionError(transition, (err as Error).message);
    }
  };
}
