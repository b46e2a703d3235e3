/**
 * JSON Schema validation for the JSON Schema Validation node (docs/nodes.md §4; docs/idms.md §iHook workflow).
 *
 * ajv validates draft-04 (ajv-draft-04), draft-06, draft-07 (the default when `$schema` is absent),
 * 2019-09 and 2020-12, chosen by the schema's `$schema`. Every instance has ajv-formats' formats.
 * Compiled validators are cached by the canonical JSON text of the schema (bounded LRU), so equal
 * schemas share one validator. This module has no Node-RED dependency.
 */
import Ajv from 'ajv';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import draft06MetaSchema from 'ajv/dist/refs/json-schema-draft-06.json';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import { ExpectedError } from './errors.js';

export interface Violation {
  /** JSON pointer of the offending value, '/' for the root; for `required`, the missing property's. */
  path: string;
  /** Human-readable message, e.g. "must have required property 'memberId'". */
  message: string;
  /** The JSON Schema keyword that failed (required, type, format, ...). */
  keyword: string;
}

/** The schema itself is unusable (not JSON, not a schema, unsupported draft, invalid keywords). */
export class SchemaCompileError extends ExpectedError {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SchemaCompileError';
  }
}

/** A payload did not match its schema; the message lists every violation (path and message). */
export class SchemaValidationError extends ExpectedError {
  readonly violations: Violation[];

  constructor(violations: Violation[]) {
    super(`Payload failed schema validation: ${formatViolations(violations)}`);
    this.name = 'SchemaValidationError';
    this.violations = violations;
  }
}

/** `/memberId: is required; /checkInTime: must match format "date-time"` */
export function formatViolations(violations: readonly Violation[]): string {
  return violations
    .map((v) => `${v.path}: ${v.keyword === 'required' ? 'is required' : v.message}`)
    .join('; ');
}

// ---------------------------------------------------------------------------------------------
// Drafts and their ajv instances

export type Draft = 'draft-04' | 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

/** The `$schema` URI each draft is written with (and that generateSchema emits). */
export const DRAFT_URIS: Readonly<Record<Draft, string>> = {
  'draft-04': 'http://json-schema.org/draft-04/schema#',
  'draft-06': 'http://json-schema.org/draft-06/schema#',
  'draft-07': 'http://json-schema.org/draft-07/schema#',
  '2019-09': 'https://json-schema.org/draft/2019-09/schema',
  '2020-12': 'https://json-schema.org/draft/2020-12/schema',
};

/** `$schema` → draft, tolerant of http/https and a missing or present trailing '#'. */
function draftOf(schemaUri: string): Draft | undefined {
  const key = schemaUri
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/#$/, '')
    .toLowerCase();
  for (const [draft, uri] of Object.entries(DRAFT_URIS) as [Draft, string][]) {
    if (uri.replace(/^https?:\/\//, '').replace(/#$/, '') === key) return draft;
  }
  return undefined;
}

const AJV_OPTIONS: Options = {
  allErrors: true,
  // Schemas come from the wild (generators, vendors): unknown keywords and formats are ignored,
  // not fatal. The warnings ajv would print have no reader here, so they are silenced.
  strict: false,
  logger: false,
  // Do not register compiled schemas by $id: two flows may use different schemas with the same $id.
  addUsedSchema: false,
};

function withFormats<T extends Ajv | Ajv2019 | Ajv2020 | AjvDraft04>(ajv: T): T {
  addFormats(ajv);
  // ajv-formats' `date-time` is RFC 3339 and demands a time zone. iHook's documented valid payload
  // has `"checkInTime": "2026-05-27T09:15:00"` (no zone), which iWorkflow accepts; so `date-time`
  // here is ajv-formats' ISO date-time, where the zone is optional. `not-a-date` still fails.
  ajv.addFormat('date-time', fullFormats['iso-date-time']);
  return ajv;
}

const instances = new Map<Draft, Ajv | Ajv2019 | Ajv2020 | AjvDraft04>();

function ajvFor(draft: Draft): Ajv | Ajv2019 | Ajv2020 | AjvDraft04 {
  let ajv = instances.get(draft);
  if (!ajv) {
    switch (draft) {
      case 'draft-04':
        ajv = withFormats(new AjvDraft04(AJV_OPTIONS));
        break;
      case 'draft-06': {
        const ajv06 = withFormats(new Ajv(AJV_OPTIONS));
        ajv06.addMetaSchema(draft06MetaSchema);
        ajv = ajv06;
        break;
      }
      case 'draft-07':
        ajv = withFormats(new Ajv(AJV_OPTIONS));
        break;
      case '2019-09':
        ajv = withFormats(new Ajv2019(AJV_OPTIONS));
        break;
      case '2020-12':
        ajv = withFormats(new Ajv2020(AJV_OPTIONS));
        break;
    }
    instances.set(draft, ajv);
  }
  return ajv;
}

// ---------------------------------------------------------------------------------------------
// Canonical text (cache key) and the validator cache

function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = canonicalize((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

const CACHE_MAX = 200;
const cache = new Map<string, (data: unknown) => Violation[]>();

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function parseSchema(schema: unknown): unknown {
  if (typeof schema !== 'string') return schema;
  if (schema.trim() === '') throw new SchemaCompileError('Schema is empty');
  try {
    return JSON.parse(schema);
  } catch (err) {
    throw new SchemaCompileError(`Schema is not valid JSON: ${errorText(err)}`, err);
  }
}

function canonicalText(schema: unknown): string {
  try {
    return JSON.stringify(canonicalize(schema));
  } catch (err) {
    throw new SchemaCompileError(`Schema cannot be read as JSON: ${errorText(err)}`, err);
  }
}

/**
 * Compiles a schema (object, boolean or JSON text) into a validator that returns the violations
 * ([] when the data is valid). Equal schemas (same JSON, any key order) share one cached validator.
 * Throws SchemaCompileError for a schema that cannot be used.
 */
export function compileSchema(schema: unknown): (data: unknown) => Violation[] {
  const parsed = parseSchema(schema);
  if (
    typeof parsed !== 'boolean' &&
    (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
  ) {
    throw new SchemaCompileError('Schema must be a JSON object (or true / false)');
  }
  const key = canonicalText(parsed);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const fn = build(JSON.parse(key) as boolean | Record<string, unknown>);
  cache.set(key, fn);
  if (cache.size > CACHE_MAX) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return fn;
}

/** Validates data against a schema (compiled once and cached); [] when valid. */
export function validateAgainst(schema: unknown, data: unknown): Violation[] {
  return compileSchema(schema)(data);
}

/** `schema` is a private copy (parsed from the canonical text), so it may be adjusted here. */
function build(schema: boolean | Record<string, unknown>): (data: unknown) => Violation[] {
  let draft: Draft = 'draft-07';
  if (typeof schema === 'object' && schema.$schema !== undefined) {
    if (typeof schema.$schema !== 'string') throw new SchemaCompileError('"$schema" must be a string');
    const found = draftOf(schema.$schema);
    if (!found) {
      throw new SchemaCompileError(
        `Unsupported "$schema" ${JSON.stringify(schema.$schema)}: use draft-04, draft-06, draft-07, 2019-09 or 2020-12`,
      );
    }
    draft = found;
    schema.$schema = DRAFT_URIS[found]; // the exact id ajv knows the meta-schema by
  }
  const ajv = ajvFor(draft);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    throw new SchemaCompileError(`Invalid JSON Schema (${draft}): ${errorText(err)}`, err);
  } finally {
    // Our cache holds the validator; drop ajv's own reference to this private copy.
    if (typeof schema === 'object') ajv.removeSchema(schema);
  }
  return (data: unknown): Violation[] => {
    if (validate(data)) return [];
    return (validate.errors ?? []).map(toViolation);
  };
}

// ---------------------------------------------------------------------------------------------
// ajv errors → violations

function pointerSegment(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

function paramString(error: ErrorObject, name: string): string | undefined {
  const value = (error.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

function toViolation(error: ErrorObject): Violation {
  let path = error.instancePath;
  let message = error.message ?? `must pass "${error.keyword}"`;
  const missing = paramString(error, 'missingProperty');
  const extra = paramString(error, 'additionalProperty') ?? paramString(error, 'unevaluatedProperty');
  if (missing !== undefined) path += `/${pointerSegment(missing)}`;
  else if (extra !== undefined) {
    path += `/${pointerSegment(extra)}`;
    message = `is not allowed (${message})`;
  } else if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues?: unknown }).allowedValues;
    if (Array.isArray(allowed)) message += `: ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return { path: path === '' ? '/' : path, message, keyword: error.keyword };
}

// ---------------------------------------------------------------------------------------------
// Generate schema from sample payload

export interface GenerateOptions {
  /** Draft of the generated schema; draft-07 by default. */
  draft?: 'draft-04' | 'draft-07' | '2019-09' | '2020-12';
  /** List every property present in the sample as required (default true). */
  required?: boolean;
}

type SchemaNode = Record<string, unknown>;

const TYPE_ORDER = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];

/** Formats recognised in sample strings, tested in this order with ajv-formats' own validators. */
const SAMPLE_FORMATS: [string, (s: string) => boolean][] = [
  ['date-time', (s) => formatTest('iso-date-time', s)],
  ['date', (s) => formatTest('date', s)],
  ['email', (s) => formatTest('email', s)],
  ['uuid', (s) => formatTest('uuid', s)],
  ['uri', (s) => s.includes('://') && formatTest('uri', s)],
];

function formatTest(name: keyof typeof fullFormats, text: string): boolean {
  const format: unknown = fullFormats[name];
  if (format instanceof RegExp) return format.test(text);
  if (typeof format === 'function') return Boolean((format as (s: string) => unknown)(text));
  if (format !== null && typeof format === 'object' && 'validate' in format) {
    const validate = (format as { validate: unknown }).validate;
    if (validate instanceof RegExp) return validate.test(text);
    if (typeof validate === 'function') return Boolean((validate as (s: string) => unknown)(text));
  }
  return false;
}

function typesOf(node: SchemaNode): string[] {
  const t = node.type;
  if (typeof t === 'string') return [t];
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : [];
}

function infer(value: unknown, required: boolean): SchemaNode {
  if (value === null || value === undefined) return { type: 'null' };
  switch (typeof value) {
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      return { type: Number.isInteger(value) ? 'integer' : 'number' };
    case 'bigint':
      return { type: 'integer' };
    case 'string': {
      const format = SAMPLE_FORMATS.find(([, test]) => test(value))?.[0];
      return format ? { type: 'string', format } : { type: 'string' };
    }
    case 'object':
      break;
    default:
      return {};
  }
  if (value instanceof Date) return { type: 'string', format: 'date-time' };
  if (Array.isArray(value)) {
    const node: SchemaNode = { type: 'array' };
    const elements = value.map((element) => infer(element, required));
    if (elements.length > 0) node.items = elements.reduce((a, b) => merge(a, b, required));
    return node;
  }
  const properties: Record<string, SchemaNode> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (child === undefined || typeof child === 'function') continue; // absent from JSON
    properties[key] = infer(child, required);
  }
  const node: SchemaNode = { type: 'object', properties };
  const keys = Object.keys(properties);
  if (required && keys.length > 0) node.required = keys; // draft-04 forbids an empty `required`
  return node;
}

/** One schema that accepts what either accepts (used for the elements of an array). */
function merge(a: SchemaNode, b: SchemaNode, required: boolean): SchemaNode {
  const ta = typesOf(a);
  const tb = typesOf(b);
  if (ta.length === 0 || tb.length === 0) return {}; // something untyped: anything goes
  let types = [...new Set([...ta, ...tb])];
  if (types.includes('number')) types = types.filter((t) => t !== 'integer');
  types.sort((x, y) => TYPE_ORDER.indexOf(x) - TYPE_ORDER.indexOf(y));
  const out: SchemaNode = { type: types.length === 1 ? types[0] : types };

  if (types.includes('string')) {
    const fa = ta.includes('string') ? a.format : undefined;
    const fb = tb.includes('string') ? b.format : undefined;
    const format = !ta.includes('string') ? fb : !tb.includes('string') ? fa : fa === fb ? fa : undefined;
    if (format !== undefined) out.format = format;
  }

  if (types.includes('object')) {
    const pa = (ta.includes('object') ? a.properties : undefined) as Record<string, SchemaNode> | undefined;
    const pb = (tb.includes('object') ? b.properties : undefined) as Record<string, SchemaNode> | undefined;
    const properties: Record<string, SchemaNode> = { ...pa };
    for (const [key, schema] of Object.entries(pb ?? {})) {
      properties[key] = properties[key] ? merge(properties[key], schema, required) : schema;
    }
    out.properties = properties;
    if (required) {
      const ra = (a.required as string[] | undefined) ?? [];
      const rb = (b.required as string[] | undefined) ?? [];
      const req = !pa ? rb : !pb ? ra : ra.filter((key) => rb.includes(key));
      if (req.length > 0) out.required = req;
    }
  }

  if (types.includes('array')) {
    const ia = ta.includes('array') ? (a.items as SchemaNode | undefined) : undefined;
    const ib = tb.includes('array') ? (b.items as SchemaNode | undefined) : undefined;
    const items = ia && ib ? merge(ia, ib, required) : (ia ?? ib);
    if (items) out.items = items;
  }
  return out;
}

/**
 * "Generate schema from sample payload": a schema that the sample satisfies, with the draft's
 * `$schema`, every present property required (unless `required: false`), integer vs number,
 * array items merged from all elements, and `format` for strings that look like a date-time,
 * date, email, uuid or uri.
 */
export function generateSchema(sample: unknown, opts: GenerateOptions = {}): Record<string, unknown> {
  const draft = opts.draft ?? 'draft-07';
  return { $schema: DRAFT_URIS[draft], ...infer(sample, opts.required !== false) };
}
