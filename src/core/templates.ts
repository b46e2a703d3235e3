/**
 * Field templates of the action nodes (docs/nodes.md §5, §Templates; docs/idms.md §iHook workflow).
 *
 * Every action field is a template: Liquid (`{{ input.memberId }}`, where `input` is the trigger's
 * payload and `msg` the whole Node-RED message) or plain static text. The legacy iTransfer syntax
 * `$$memberId$$` is recognised and converted to `{{ input.memberId }}` before parsing.
 *
 * Templates are parsed once (and cached by source) and rendered synchronously; static text never
 * touches Liquid. This module has no Node-RED dependency.
 */
import type { FilterImplOptions, Liquid, Template } from 'liquidjs';
import { ExpectedError } from './errors.js';
import { lazy } from './lazy.js';

/** A template that failed to parse or render; the message names the field. */
export class TemplateError extends ExpectedError {
  readonly field: string;

  constructor(field: string, detail: string, cause?: unknown) {
    super(`Template for "${field}" failed: ${detail}`, cause === undefined ? undefined : { cause });
    this.name = 'TemplateError';
    this.field = field;
  }
}

export interface TemplateContext {
  /** The trigger's payload. */
  input: unknown;
  /** The whole Node-RED message. */
  msg: Record<string, unknown>;
}

export interface CompiledTemplate {
  /** The source as written by the user (before legacy conversion). */
  readonly source: string;
  /** True when the source holds no Liquid markup: render() returns it unchanged. */
  readonly isStatic: boolean;
  render(ctx: TemplateContext): string;
}

// ---------------------------------------------------------------------------------------------
// Legacy iTransfer syntax: $$propertyName$$, $$a.b$$ (nested), $$items.0.id$$ (array index).

const LEGACY = /\$\$\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\$\$/g;
const PLAIN_SEGMENT = /^[A-Za-z_]\w*$/;
const INDEX_SEGMENT = /^\d+$/;

export function hasLegacySyntax(source: string): boolean {
  LEGACY.lastIndex = 0;
  return LEGACY.test(source);
}

/** `$$memberId$$` → `{{ input.memberId }}`; `$$a.b$$` → `{{ input.a.b }}`. Other text is untouched. */
export function convertLegacy(source: string): string {
  return source.replace(LEGACY, (_match, path: string) => {
    const access = path
      .split('.')
      .map((segment) => {
        if (PLAIN_SEGMENT.test(segment)) return `.${segment}`;
        if (INDEX_SEGMENT.test(segment)) return `[${segment}]`;
        return `["${segment}"]`; // e.g. hyphenated names: only [\w-] can reach here, no quoting needed
      })
      .join('');
    return `{{ input${access} }}`;
  });
}

// ---------------------------------------------------------------------------------------------
// Output of values

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** JSON.stringify that survives cycles (msg.req/res) and BigInt instead of throwing. */
function toJson(value: unknown, space?: number | string): string {
  const seen = new WeakSet<object>();
  const text = JSON.stringify(
    value,
    (_key, val: unknown) => {
      if (typeof val === 'bigint') return val.toString();
      if (typeof val === 'object' && val !== null) {
        if (seen.has(val)) return '[Circular]';
        seen.add(val);
      }
      return val;
    },
    space,
  );
  return text ?? '';
}

/**
 * How an output value becomes text. Liquid would print a plain object as `[object Object]` and
 * join arrays without separator; for field mapping JSON is what an integrator expects.
 */
function outputValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (Array.isArray(value) || isPlainObject(value)) return toJson(value);
  // Class instances with their own toString (Buffer, Liquid drops, ...) keep it; the rest go JSON.
  const text = String(value);
  return text === '[object Object]' ? toJson(value) : text;
}

// ---------------------------------------------------------------------------------------------
// The shared Liquid engine

type FilterHandler = Extract<FilterImplOptions, (...args: never) => unknown>;
type FilterThis = ThisParameterType<FilterHandler>;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Made when the first template with Liquid markup is parsed (lazy.ts: liquidjs is heavy). */
const liquid = lazy(makeLiquid);

function makeLiquid(): Liquid {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const liquidjs = require('liquidjs') as typeof import('liquidjs');
  const date = liquidjs.filters.date;
  const builtinDate: FilterHandler = typeof date === 'function' ? date : date.handler;
  const engine = new liquidjs.Liquid({
    // An unknown filter is a typo in the flow: fail at deploy (parse time), not silently.
    strictFilters: true,
    // A property missing from the payload renders as '' (as iWorkflow does): optional payload fields
    // are common, and required ones are enforced by a JSON Schema Validation node before this one.
    strictVariables: false,
    // Templates may read only data the message really carries, never prototype members.
    ownPropertyOnly: true,
    // Dates with an offset keep it (`2026-05-27T09:15:00+02:00` formats as 09:15), zone-less ones are local.
    preserveTimezones: true,
    // Values are not HTML-escaped; objects/arrays print as JSON (see outputValue).
    outputEscape: outputValue,
    // No file system: {% include %} / {% render %} only see this (empty) in-memory set.
    templates: {},
    // DoS guards for a runaway loop in a user template.
    renderLimit: 5000,
    parseLimit: 1_000_000,
  });

  engine.registerFilter('json', (value: unknown, space?: unknown) =>
    toJson(value, typeof space === 'number' || typeof space === 'string' ? space : undefined),
  );

  // A date-only string (`2026-05-27`) is a calendar date: read it as local midnight, not as UTC
  // midnight (JavaScript's reading), which would print the day before west of Greenwich.
  engine.registerFilter('date', function (this: FilterThis, value: unknown, ...args: unknown[]) {
    const v = typeof value === 'string' && DATE_ONLY.test(value.trim()) ? `${value.trim()}T00:00:00` : value;
    return builtinDate.call(this, v, ...args);
  });
  return engine;
}

// ---------------------------------------------------------------------------------------------
// Parse cache (by converted source), bounded LRU.

const PARSE_CACHE_MAX = 1000;
const parseCache = new Map<string, Template[]>();

function parseCached(liquidSource: string): Template[] {
  const hit = parseCache.get(liquidSource);
  if (hit) {
    parseCache.delete(liquidSource);
    parseCache.set(liquidSource, hit);
    return hit;
  }
  const parsed = liquid().parse(liquidSource);
  parseCache.set(liquidSource, parsed);
  if (parseCache.size > PARSE_CACHE_MAX) {
    const oldest = parseCache.keys().next().value;
    if (oldest !== undefined) parseCache.delete(oldest);
  }
  return parsed;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isStaticText(text: string): boolean {
  return !text.includes('{{') && !text.includes('{%');
}

/** Parses one field's template once; throws TemplateError (naming the field) on a syntax error. */
export function compileTemplate(source: string, field: string): CompiledTemplate {
  if (typeof source !== 'string') throw new TemplateError(field, 'template must be text');
  const converted = hasLegacySyntax(source) ? convertLegacy(source) : source;
  if (isStaticText(converted)) {
    return { source, isStatic: true, render: () => converted };
  }
  let parsed: Template[];
  try {
    parsed = parseCached(converted);
  } catch (err) {
    throw new TemplateError(field, errorText(err), err);
  }
  return {
    source,
    isStatic: false,
    render(ctx: TemplateContext): string {
      try {
        return String(liquid().renderSync(parsed, { input: ctx.input, msg: ctx.msg }));
      } catch (err) {
        throw new TemplateError(field, errorText(err), err);
      }
    },
  };
}

/**
 * Compiles a node's whole set of fields once (labels name them in errors; the key is used when a
 * label is missing). Empty, blank and undefined fields are skipped and absent from the result.
 */
export function compileTemplates<K extends string>(
  fields: Partial<Record<K, string>>,
  labels: Partial<Record<K, string>> = {},
): { render(ctx: TemplateContext): Partial<Record<K, string>> } {
  const compiled: [K, CompiledTemplate][] = [];
  for (const key of Object.keys(fields) as K[]) {
    const source = fields[key];
    if (typeof source !== 'string' || source.trim() === '') continue;
    compiled.push([key, compileTemplate(source, labels[key] ?? key)]);
  }
  return {
    render(ctx: TemplateContext): Partial<Record<K, string>> {
      const out: Partial<Record<K, string>> = {};
      for (const [key, template] of compiled) out[key] = template.render(ctx);
      return out;
    },
  };
}

/**
 * A JSON object written as text whose string values are templates (e.g. an iUpdate task's
 * QueryParameters: `{"ID": "{{ input.memberId }}"}`), parsed and compiled once; other values are
 * sent as written. '' or blank text = no object (undefined). `field` names the text in errors.
 */
export function compileJsonTemplate(
  text: string,
  field: string,
): (ctx: TemplateContext) => Record<string, unknown> | undefined {
  if (!text.trim()) return () => undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TemplateError(field, `not JSON: ${errorText(err)}`, err);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TemplateError(field, 'must be a JSON object, e.g. {"ID": "{{ input.memberId }}"}');
  }
  const compiled = Object.entries(parsed).map(([key, value]): [string, (ctx: TemplateContext) => unknown] => {
    if (typeof value !== 'string') return [key, () => value];
    const template = compileTemplate(value, `${field}.${key}`);
    return [key, (ctx) => template.render(ctx)];
  });
  return (ctx) => Object.fromEntries(compiled.map(([key, render]) => [key, render(ctx)]));
}
