import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { parse, unparse } from 'papaparse';
import { makePrivateDir, openPrivate } from './private-files.js';

/** Data published by "Export Data to URL" (SPEC node 8). */
export type ExportFormat = 'json' | 'csv';

export interface CsvOptions {
  /**
   * Nested objects: 'flatten' (default) gives one column per leaf with dotted keys
   * (`address.city`); 'json' gives one column holding the object as JSON. Arrays are always JSON.
   */
  nested?: 'flatten' | 'json';
  /** Prefix a UTF-8 byte order mark (helps old Excel detect UTF-8). Default false. */
  bom?: boolean;
  /**
   * Prefix cells starting with = + - @ (tab, CR) with a quote so spreadsheets do not run them
   * as formulas (papaparse `escapeFormulae`). Default false: the data is published as it is.
   */
  escapeFormulae?: boolean;
}

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/**
 * CSV per RFC 4180, written by papaparse: header = union of the rows' keys in first-seen order;
 * comma delimiter; CRLF line ends; a field is quoted only when it needs it (delimiter, quote,
 * CR/LF, or leading/trailing space: papaparse `quotes: false`), a quote inside is doubled;
 * null/undefined are empty; Dates are ISO 8601. A row that is not an object goes in a `value`
 * column.
 */
export function toCsv(rows: unknown[], opts: CsvOptions = {}): string {
  const nested = opts.nested ?? 'flatten';
  const config = {
    quotes: false,
    quoteChar: '"',
    escapeChar: '"',
    delimiter: ',',
    newline: '\r\n',
    header: true,
    skipEmptyLines: false,
    escapeFormulae: opts.escapeFormulae ?? false,
  } as const;
  // Fast path, the usual IQA result: plain objects whose values are all scalars. papaparse then
  // reads the rows as they are, column by column, without a converted copy of the data.
  const header = flatHeader(rows);
  if (header)
    return withBom(unparse(rows as Record<string, unknown>[], { ...config, columns: header }), opts);

  const fields = new Map<string, number>();
  const flat: Map<string, string>[] = [];
  for (const row of rows) {
    const cells = new Map<string, string>();
    if (isPlainObject(row)) flattenInto(cells, '', row, nested);
    else cells.set('value', cell(row));
    for (const key of cells.keys()) if (!fields.has(key)) fields.set(key, fields.size);
    flat.push(cells);
  }
  const columns = [...fields.keys()];
  const data = flat.map((cells) => columns.map((key) => cells.get(key) ?? ''));
  return withBom(unparse({ fields: columns, data }, config), opts);
}

/**
 * The union of the rows' keys in first-seen order when every row is a plain object holding only
 * values papaparse writes as toCsv would (strings, finite numbers, booleans, null/undefined, valid
 * Dates); undefined otherwise.
 */
function flatHeader(rows: unknown[]): string[] | undefined {
  const seen = new Set<string>();
  for (const row of rows) {
    if (!isPlainObject(row)) return undefined;
    for (const key in row) {
      const v = row[key];
      if (v !== null && v !== undefined && typeof v !== 'string' && typeof v !== 'boolean') {
        if (
          typeof v === 'number' ? !Number.isFinite(v) : !(v instanceof Date && !Number.isNaN(v.getTime()))
        ) {
          return undefined;
        }
      }
      seen.add(key);
    }
  }
  return [...seen];
}

function withBom(csv: string, opts: CsvOptions): string {
  return opts.bom ? `\ufeff${csv}` : csv;
}

/** The rows as a JSON array (Dates ISO, bigints as strings). */
export function toJson(rows: unknown[]): string {
  return JSON.stringify(rows, jsonValue);
}

function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export interface Published {
  body: Buffer;
  contentType: string;
  /** Strong validator: quoted base64url SHA-256 of the body. */
  etag: string;
  /** Whole seconds (HTTP dates have no milliseconds); unchanged when a publish changes nothing. */
  lastModified: Date;
  rows: number;
  format: ExportFormat;
}

interface Meta {
  v: 1;
  format: ExportFormat;
  etag: string;
  lastModified: string;
  rows: number;
}

/**
 * The published datasets of one data folder, kept on disk so they survive restarts. Files are
 * named by the SHA-256 of the key (the URL's secret), never by the key itself: `<hash>.data` holds
 * the body exactly as served, `<hash>.meta.json` its format, ETag, Last-Modified and row count.
 */
export class PublishedStore {
  private readonly entries = new Map<string, Published>();

  constructor(readonly dir: string) {
    sweepTemporaryFiles(dir);
  }

  /**
   * Replaces what `key` serves. Each file is written to a temporary name, fsynced and renamed
   * over the old one, then the in-memory entry is swapped: a reader, from memory or from disk,
   * sees the old body or the new one, never part of one.
   */
  publish(key: string, format: ExportFormat, rows: unknown[], opts: CsvOptions = {}): Published {
    if (!Array.isArray(rows)) {
      throw new TypeError(`the data to export must be an array of rows, got ${describeType(rows)}`);
    }
    if (format !== 'json' && format !== 'csv') {
      throw new TypeError(`unknown export format "${String(format)}": use json or csv`);
    }
    const body = Buffer.from(format === 'csv' ? toCsv(rows, opts) : toJson(rows), 'utf8');
    const etag = etagOf(body);
    const previous = this.get(key);
    if (previous && previous.etag === etag && previous.format === format && previous.rows === rows.length) {
      return previous;
    }

    const published: Published = {
      body,
      contentType: CONTENT_TYPES[format],
      etag,
      lastModified: wholeSeconds(new Date()),
      rows: rows.length,
      format,
    };
    makePrivateDir(this.dir);
    // Data first, then metadata: a crash in between leaves a body whose ETag is recomputed on load.
    writeAtomically(this.dataPath(key), body);
    writeAtomically(this.metaPath(key), Buffer.from(JSON.stringify(toMeta(published)), 'utf8'));
    syncDirectory(this.dir);
    this.entries.set(key, published);
    return published;
  }

  /** What `key` serves, read from disk the first time after a restart; undefined when nothing. */
  get(key: string): Published | undefined {
    const cached = this.entries.get(key);
    if (cached) return cached;
    const loaded = this.load(key);
    if (loaded) this.entries.set(key, loaded);
    return loaded;
  }

  /** Stops serving `key` (e.g. the link was regenerated) and deletes its files. */
  remove(key: string): void {
    this.entries.delete(key);
    for (const file of [this.metaPath(key), this.dataPath(key)]) unlinkQuietly(file);
  }

  /** The file holding the body served for `key`. */
  dataPath(key: string): string {
    return join(this.dir, `${fileStem(key)}.data`);
  }

  private metaPath(key: string): string {
    return join(this.dir, `${fileStem(key)}.meta.json`);
  }

  private load(key: string): Published | undefined {
    let body: Buffer;
    try {
      body = readFileSync(this.dataPath(key));
    } catch {
      return undefined;
    }
    const meta = readMeta(this.metaPath(key));
    const etag = etagOf(body);
    if (meta && meta.etag === etag) {
      return {
        body,
        contentType: CONTENT_TYPES[meta.format],
        etag,
        lastModified: new Date(meta.lastModified),
        rows: meta.rows,
        format: meta.format,
      };
    }
    // The metadata is missing or older than the body (a crash between the two renames).
    const format = sniffFormat(body);
    const published: Published = {
      body,
      contentType: CONTENT_TYPES[format],
      etag,
      lastModified: wholeSeconds(statSync(this.dataPath(key)).mtime),
      rows: countRows(body, format),
      format,
    };
    try {
      writeAtomically(this.metaPath(key), Buffer.from(JSON.stringify(toMeta(published)), 'utf8'));
    } catch {
      // Serving is what matters; the metadata is rebuilt again next time.
    }
    return published;
  }
}

/**
 * 304 when the client's copy is current: If-None-Match (weak comparison, `*` matches) wins over
 * If-Modified-Since, as RFC 9110 §13.1.3 orders them; otherwise 200.
 */
export function conditionalStatus(
  p: Published,
  headers: { 'if-none-match'?: string | string[]; 'if-modified-since'?: string | string[] },
): 200 | 304 {
  const inm = headers['if-none-match'];
  if (inm !== undefined) {
    const tags = (Array.isArray(inm) ? inm.join(',') : inm).split(',').map((t) => t.trim());
    const mine = opaque(p.etag);
    return tags.some((t) => t === '*' || opaque(t) === mine) ? 304 : 200;
  }
  const ims = headers['if-modified-since'];
  const since = Date.parse(Array.isArray(ims) ? (ims[0] ?? '') : (ims ?? ''));
  if (Number.isFinite(since) && p.lastModified.getTime() <= since) return 304;
  return 200;
}

/** The headers to serve a Published with (200 or 304). */
export function responseHeaders(p: Published): Record<string, string> {
  return {
    'Content-Type': p.contentType,
    ETag: p.etag,
    'Last-Modified': p.lastModified.toUTCString(),
    // Revalidate every time: every run may replace the data.
    'Cache-Control': 'no-cache',
  };
}

// ---------------------------------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return Object.prototype.toString.call(v) === '[object Object]';
}

function flattenInto(
  out: Map<string, string>,
  prefix: string,
  obj: Record<string, unknown>,
  nested: 'flatten' | 'json',
): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    if (nested === 'flatten' && isPlainObject(v)) flattenInto(out, `${key}.`, v, nested);
    else out.set(key, cell(v));
  }
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v, jsonValue) ?? '';
  // Functions and symbols have no data.
  return '';
}

function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url')}"`;
}

/** The tag without quotes and without a W/ prefix (weak comparison). */
function opaque(tag: string): string {
  return tag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function fileStem(key: string): string {
  return createHash('sha256').update(String(key), 'utf8').digest('hex');
}

function toMeta(p: Published): Meta {
  return { v: 1, format: p.format, etag: p.etag, lastModified: p.lastModified.toISOString(), rows: p.rows };
}

function readMeta(file: string): Meta | undefined {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Partial<Meta>;
    if (
      (m.format === 'json' || m.format === 'csv') &&
      typeof m.etag === 'string' &&
      typeof m.lastModified === 'string' &&
      Number.isFinite(Date.parse(m.lastModified)) &&
      typeof m.rows === 'number'
    ) {
      return m as Meta;
    }
  } catch {
    // Missing or torn: rebuilt from the body.
  }
  return undefined;
}

function sniffFormat(body: Buffer): ExportFormat {
  try {
    return Array.isArray(JSON.parse(body.toString('utf8'))) ? 'json' : 'csv';
  } catch {
    return 'csv';
  }
}

function countRows(body: Buffer, format: ExportFormat): number {
  const text = body.toString('utf8');
  if (format === 'json') return (JSON.parse(text) as unknown[]).length;
  if (text.replace(/^\ufeff/, '') === '') return 0;
  return Math.max(0, parse(text.replace(/^\ufeff/, ''), { skipEmptyLines: false }).data.length - 1);
}

const TEMP_SUFFIX = '.tmp';

function writeAtomically(file: string, data: Buffer): void {
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
  const fd = openPrivate(temp, 'w');
  try {
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkQuietly(temp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, file);
  } catch (err) {
    unlinkQuietly(temp);
    throw err;
  }
}

/** Makes the renames themselves durable (POSIX); not possible, nor needed, everywhere. */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows cannot open a directory.
  }
}

/** Temporary files left by a process killed mid-publish. */
function sweepTemporaryFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (name.endsWith(TEMP_SUFFIX)) unlinkQuietly(join(dir, name));
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  return typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}
