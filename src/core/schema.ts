/**
 * JSON Schema validation for the JSON Schema Validation node (docs/nodes.md §4; docs/idms.md §iHook workflow).
 *
 * ajv validates draft-04 (ajv-draft-04), draft-06, draft-07, 2019-09 and 2020-12: a fixed draft,
 * or the schema's `$schema` (draft-07 when absent). Every instance has ajv-formats' formats. The
 * official JSON-Schema-Test-Suite runs against this module (test/core/schema-suite.test.ts; its
 * few exceptions in test/fixtures/json-schema-test-suite/README.md). Compiled validators are
 * cached by the canonical JSON text of the schema (bounded LRU), so equal schemas share one
 * validator. This module has no Node-RED dependency.
 */
import type Ajv from 'ajv';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import type Ajv2019 from 'ajv/dist/2019';
import type Ajv2020 from 'ajv/dist/2020';
import type AjvDraft04 from 'ajv-draft-04';
import { ExpectedError } from './errors.js';
import { lazy } from './lazy.js';

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

/** A node's draft setting: a fixed draft, or `auto` (the schema's `$schema`; draft-07 without one). */
export type DraftChoice = 'auto' | Draft;

/** The `$schema` URI each draft is written with (and that generateSchema emits). */
export const DRAFT_URIS: Readonly<Record<Draft, string>> = {
  'draft-04': 'http://json-schema.org/draft-04/schema#',
  'draft-06': 'http://json-schema.org/draft-06/schema#',
  'draft-07': 'http://json-schema.org/draft-07/schema#',
  '2019-09': 'https://json-schema.org/draft/2019-09/schema',
  '2020-12': 'https://json-schema.org/draft/2020-12/schema',
};

const DRAFTS = Object.keys(DRAFT_URIS) as Draft[];

/** true for a draft name or `auto` (e.g. a node's config as saved). */
export function isDraftChoice(value: unknown): value is DraftChoice {
  return value === 'auto' || DRAFTS.includes(value as Draft);
}

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
};

/**
 * Until 2019-09 a `$ref` replaces its schema: keywords beside it are ignored (draft-07 §8.3,
 * draft-04 §7 of the core spec). From 2019-09 on they apply with it, ajv's default.
 */
const REF_ONLY: Options = { ...AJV_OPTIONS, ignoreKeywordsWithRef: true };

/** The drafts in which a `$ref` replaces its schema (REF_ONLY). */
const REF_REPLACES = new Set<Draft>(['draft-04', 'draft-06', 'draft-07']);

/**
 * The names every JavaScript object inherits. `{}` must not satisfy `required: ["constructor"]`:
 * only a payload's own properties count, as JSON has no others (JSON-Schema-Test-Suite,
 * required.json and properties.json). ajv's `ownProperties` does that at a cost on every property
 * check (about a fifth of the seed payload's validation, `npm run bench` schema), so a schema is
 * compiled with it only when it names one of these; for any other name, an inherited property is
 * `undefined` and ajv's plain check is already exact.
 */
const INHERITED = Object.getOwnPropertyNames(Object.prototype).map((name) => JSON.stringify(name));

function namesInherited(canonicalText: string): boolean {
  return INHERITED.some((quoted) => canonicalText.includes(quoted));
}

type AnyAjv = Ajv | Ajv2019 | Ajv2020 | AjvDraft04;

// ajv, each draft's class and ajv-formats are loaded when a schema of that draft is first compiled
// (lazy.ts): a Node-RED that has not validated anything yet does not hold them.
/* eslint-disable @typescript-eslint/no-require-imports */
const ajvFormats = lazy(() => require('ajv-formats') as typeof import('ajv-formats'));
const fullFormats = lazy(
  () => (require('ajv-formats/dist/formats') as typeof import('ajv-formats/dist/formats')).fullFormats,
);

function newAjv(draft: Draft, options: Options): AnyAjv {
  switch (draft) {
    case 'draft-04': {
      const AjvDraft04 = (require('ajv-draft-04') as typeof import('ajv-draft-04')).default;
      return new AjvDraft04(options);
    }
    case 'draft-06': {
      const Ajv07 = (require('ajv') as typeof import('ajv')).default;
      const ajv = new Ajv07(options);
      ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
      return ajv;
    }
    case 'draft-07': {
      const Ajv07 = (require('ajv') as typeof import('ajv')).default;
      return new Ajv07(options);
    }
    case '2019-09': {
      const Ajv2019 = (require('ajv/dist/2019') as typeof import('ajv/dist/2019')).default;
      return new Ajv2019(options);
    }
    case '2020-12': {
      const Ajv2020 = (require('ajv/dist/2020') as typeof import('ajv/dist/2020')).default;
      return new Ajv2020(options);
    }
  }
}
/* eslint-enable @typescript-eslint/no-require-imports */

function withFormats<T extends AnyAjv>(ajv: T): T {
  ajvFormats().default(ajv);
  // ajv-formats' `date-time` is RFC 3339 and demands a time zone. iHook's documented valid payload
  // has `"checkInTime": "2026-05-27T09:15:00"` (no zone), which iWorkflow accepts; so `date-time`
  // here is ajv-formats' ISO date-time, where the zone is optional. `not-a-date` still fails.
  ajv.addFormat('date-time', fullFormats()['iso-date-time']);
  return ajv;
}

/** Per draft, the instance with `ownProperties` and the one without (see INHERITED). */
const instances = new Map<string, AnyAjv>();

function ajvFor(draft: Draft, ownProperties: boolean): AnyAjv {
  const key = `${draft} ${ownProperties}`;
  let ajv = instances.get(key);
  if (!ajv) {
    const options = { ...(REF_REPLACES.has(draft) ? REF_ONLY : AJV_OPTIONS), ownProperties };
    ajv = withFormats(newAjv(draft, options));
    instances.set(key, ajv);
  }
  return ajv;
}

// ---------------------------------------------------------------------------------------------
// Canonical text (cache key) and the validator cache

function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalize);
  if (value !== null && typeof value === 'object') {
    // No prototype: a property named `__proto__` (as JSON.parse makes it) stays a property.
    const out: Record<string, unknown> = Object.create(null);
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

export interface CompileOptions {
  /** The draft to validate by; `auto` (the default) reads the schema's `$schema`, draft-07 without one. */
  draft?: DraftChoice;
  /**
   * Other schema documents the schema's `$ref`s may name, by their URI (e.g. a shared
   * definitions file). Nothing is fetched over the network: a `$ref` to a URI absent here fails.
   */
  resources?: Readonly<Record<string, unknown>>;
}

type SchemaDocument = boolean | Record<string, unknown>;

function asDocument(schema: unknown, what: string): SchemaDocument {
  if (
    typeof schema !== 'boolean' &&
    (schema === null || typeof schema !== 'object' || Array.isArray(schema))
  ) {
    throw new SchemaCompileError(`${what} must be a JSON object (or true / false)`);
  }
  return schema as SchemaDocument;
}

/**
 * Compiles a schema (object, boolean or JSON text) into a validator that returns the violations
 * ([] when the data is valid). Equal schemas (same JSON, any key order, same options) share one
 * cached validator. Throws SchemaCompileError for a schema that cannot be used.
 */
export function compileSchema(schema: unknown, opts: CompileOptions = {}): (data: unknown) => Violation[] {
  const draft = opts.draft ?? 'auto';
  if (!isDraftChoice(draft)) throw new SchemaCompileError(`Unknown draft ${JSON.stringify(draft)}`);
  const parsed = asDocument(parseSchema(schema), 'Schema');
  const resources = Object.entries(opts.resources ?? {}).map(
    ([uri, doc]) => [uri, asDocument(doc, `Resource ${uri}`)] as const,
  );
  const key = canonicalText([draft, parsed, resources.length > 0 ? resources : undefined]);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const [, copy, copies] = JSON.parse(key) as [
    DraftChoice,
    SchemaDocument,
    [string, SchemaDocument][] | null,
  ];
  const fn = build(copy, draft, copies ?? [], namesInherited(key));
  cache.set(key, fn);
  if (cache.size > CACHE_MAX) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return fn;
}

/** Validates data against a schema (compiled once and cached); [] when valid. */
export function validateAgainst(schema: unknown, data: unknown, opts?: CompileOptions): Violation[] {
  return compileSchema(schema, opts)(data);
}

/** The draft a schema is validated by: its `$schema`, which must agree with a fixed choice. */
function draftFor(schema: SchemaDocument, choice: DraftChoice): Draft {
  if (typeof schema !== 'object' || schema.$schema === undefined) {
    return choice === 'auto' ? 'draft-07' : choice;
  }
  if (typeof schema.$schema !== 'string') throw new SchemaCompileError('"$schema" must be a string');
  const found = draftOf(schema.$schema);
  if (!found) {
    throw new SchemaCompileError(
      `Unsupported "$schema" ${JSON.stringify(schema.$schema)}: use draft-04, draft-06, draft-07, 2019-09 or 2020-12`,
    );
  }
  if (choice !== 'auto' && found !== choice) {
    throw new SchemaCompileError(
      `The schema's "$schema" is ${found} but the node validates by ${choice}: change one of them, or let the node read "$schema"`,
    );
  }
  schema.$schema = DRAFT_URIS[found]; // the exact id ajv knows the meta-schema by
  return found;
}

/**
 * `schema` and `resources` are private copies (parsed from the canonical text), so they may be
 * adjusted here. The draft's ajv instance is shared, so what compiling registers in it (the
 * schema and the `$id`s inside it, the resources) is taken out again at once: two flows may use
 * different schemas with the same `$id`, and our cache, not ajv, holds the validator.
 */
function build(
  schema: SchemaDocument,
  choice: DraftChoice,
  resources: readonly [string, SchemaDocument][],
  ownProperties: boolean,
): (data: unknown) => Violation[] {
  const draft = draftFor(schema, choice);
  if (REF_REPLACES.has(draft)) dropTypeBesideRef(schema);
  const ajv = ajvFor(draft, ownProperties);
  const refs = { ...ajv.refs };
  const schemas = { ...ajv.schemas };
  let validate: ValidateFunction;
  try {
    for (const [uri, doc] of resources) ajv.addSchema(doc, uri);
    if (!ajv.validateSchema(schema)) throw new SchemaCompileError(metaSchemaErrors(ajv.errors ?? []));
    validate = ajv.compile(schema);
  } catch (err) {
    if (err instanceof SchemaCompileError) {
      throw new SchemaCompileError(`Invalid JSON Schema (${draft}) ${err.message}`, err);
    }
    const at = locate(schema, err);
    throw new SchemaCompileError(
      `Invalid JSON Schema (${draft})${at ? ` at ${at}` : ''}: ${errorText(err)}`,
      err,
    );
  } finally {
    for (const doc of [schema, ...resources.map(([, doc]) => doc)]) {
      if (typeof doc === 'object') ajv.removeSchema(doc);
    }
    restore(ajv.refs, refs);
    restore(ajv.schemas, schemas);
  }
  return (data: unknown): Violation[] => {
    if (validate(data)) return [];
    return (validate.errors ?? []).map(toViolation);
  };
}

/** The draft-04/06/07 keywords whose value is a schema, a list of schemas, or a map of them. */
const SUBSCHEMA = [
  'additionalItems',
  'additionalProperties',
  'not',
  'contains',
  'propertyNames',
  'if',
  'then',
  'else',
];
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'items'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', 'definitions', 'dependencies'];

/**
 * ajv checks `type` before it looks at `$ref`, even with ignoreKeywordsWithRef (ajv
 * lib/compile/validate/index.ts, typeAndKeywords), so a `type` beside a `$ref` is taken out here,
 * at every place of the schema that holds a schema (not in `enum`, `const` or `default` values).
 */
function dropTypeBesideRef(node: unknown): void {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
  const schema = node as Record<string, unknown>;
  if (typeof schema.$ref === 'string') delete schema.type;
  for (const key of SUBSCHEMA) dropTypeBesideRef(schema[key]);
  for (const key of SUBSCHEMA_LISTS) {
    const value = schema[key];
    if (Array.isArray(value)) value.forEach(dropTypeBesideRef);
    else dropTypeBesideRef(value);
  }
  for (const key of SUBSCHEMA_MAPS) {
    const value = schema[key];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      Object.values(value).forEach(dropTypeBesideRef);
    }
  }
}

/** Puts a registry of ajv's back as it was. */
function restore<T>(registry: Record<string, T>, saved: Readonly<Record<string, T>>): void {
  for (const key of Object.keys(registry)) if (!(key in saved)) delete registry[key];
  Object.assign(registry, saved);
}

/** `at /properties/checkInTime/type: must be equal to one of the allowed values` (one per path). */
function metaSchemaErrors(errors: readonly ErrorObject[]): string {
  const byPath = new Map<string, ErrorObject>();
  for (const error of errors) {
    const seen = byPath.get(error.instancePath);
    // anyOf/oneOf only say "must match a schema in anyOf": the branch's own error says more.
    if (!seen || (['anyOf', 'oneOf'].includes(seen.keyword) && !['anyOf', 'oneOf'].includes(error.keyword))) {
      byPath.set(error.instancePath, error);
    }
  }
  return [...byPath]
    .map(([path, error]) => `at ${path === '' ? '/' : path}: ${error.message ?? error.keyword}`)
    .join('; ');
}

/**
 * Where in the schema an error of ajv's compiler arose, when its message says enough to find it:
 * an unresolvable `$ref`, or a `pattern` that JavaScript's unicode regular expressions refuse.
 */
function locate(schema: SchemaDocument, err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : '';
  const ref = /can't resolve reference (.*) from id/.exec(message)?.[1];
  const pattern = /^Invalid regular expression: \/(.*)\/u?: /.exec(message)?.[1];
  const here = (key: string, value: unknown): boolean =>
    ref !== undefined
      ? ['$ref', '$dynamicRef', '$recursiveRef'].includes(key) && value === ref
      : key === 'pattern' && value === pattern;
  if (ref === undefined && pattern === undefined) return undefined;
  const find = (node: unknown, path: string): string | undefined => {
    if (node === null || typeof node !== 'object') return undefined;
    const entries = Object.entries(node as Record<string, unknown>);
    const hit = entries.find(([k, v]) => here(k, v));
    if (hit) return ref !== undefined ? path || '/' : `${path}/${hit[0]}`;
    if (pattern !== undefined && !Array.isArray(node) && path.endsWith('/patternProperties')) {
      const key = entries.find(([k]) => k === pattern)?.[0];
      if (key !== undefined) return `${path}/${pointerSegment(key)}`;
    }
    for (const [k, v] of entries) {
      const found = find(v, `${path}/${pointerSegment(k)}`);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return find(schema, '');
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

function formatTest(name: keyof ReturnType<typeof fullFormats>, text: string): boolean {
  const format: unknown = fullFormats()[name];
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
