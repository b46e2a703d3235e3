import { createHash } from 'node:crypto';
import type { ExportsRepository } from '../store/repositories/exports.js';
import type { StoredExport } from '../store/types.js';
import { InputError } from './errors.js';
import { lazy } from './lazy.js';

/** Loaded by the first CSV export (lazy.ts). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const papaparse = lazy(() => require('papaparse') as typeof import('papaparse'));

/** Data published by "Export Data to URL" (docs/nodes.md §8). */
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
  return [...csvPieces(rows, opts)].join(CSV_NEWLINE);
}

/**
 * Rows per piece of a large body (about 100 KB for 10 columns). A body is made, hashed, stored and
 * served a piece at a time, never whole: held whole (papaparse's text, its bytes, the copy bound to
 * the store's statement, the copy served), a body of 100,000 rows left tens of MB in the old
 * generation and in malloc's heap at each publish, and memory grew from run to run (npm run bench,
 * export). A piece is turned into bytes at once, while papaparse's string parts are still young.
 */
const PIECE_ROWS = 1000;
const CSV_NEWLINE = '\r\n';

/**
 * The CSV of toCsv as UTF-8 bytes, PIECE_ROWS rows per piece: the pieces joined are the same bytes.
 * Each piece is made when it is asked for, so that a body is never whole in memory.
 */
export function* csvBody(rows: unknown[], opts: CsvOptions = {}): Generator<Buffer> {
  let first = true;
  for (const piece of csvPieces(rows, opts)) {
    yield Buffer.from(first ? piece : CSV_NEWLINE + piece, 'utf8');
    first = false;
  }
}

/** The JSON of toJson as UTF-8 bytes, PIECE_ROWS rows per piece (see csvBody). */
export function* jsonBody(rows: unknown[]): Generator<Buffer> {
  if (rows.length <= PIECE_ROWS) {
    yield Buffer.from(toJson(rows), 'utf8');
    return;
  }
  yield Buffer.from('[', 'utf8');
  for (let start = 0; start < rows.length; start += PIECE_ROWS) {
    // Each piece is a JSON array: its elements, without the brackets, are the body's next ones.
    const piece = toJson(rows.slice(start, start + PIECE_ROWS)).slice(1, -1);
    yield Buffer.from(start === 0 ? piece : `,${piece}`, 'utf8');
  }
  yield Buffer.from(']', 'utf8');
}

/** The CSV's lines, PIECE_ROWS rows per piece (the first with the BOM and the header), to be joined by CRLF. */
function* csvPieces(rows: unknown[], opts: CsvOptions): Generator<string> {
  const nested = opts.nested ?? 'flatten';
  const config = {
    quotes: false,
    quoteChar: '"',
    escapeChar: '"',
    delimiter: ',',
    newline: CSV_NEWLINE,
    skipEmptyLines: false,
    escapeFormulae: opts.escapeFormulae ?? false,
  } as const;
  const { unparse } = papaparse();
  // Fast path, the usual IQA result: plain objects whose values are all scalars. papaparse then
  // reads the rows as they are, column by column, without a converted copy of the data.
  const header = flatHeader(rows);
  if (header) {
    for (let start = 0; start === 0 || start < rows.length; start += PIECE_ROWS) {
      const piece = rows.slice(start, start + PIECE_ROWS) as Record<string, unknown>[];
      const text = unparse(piece, { ...config, header: start === 0, columns: header });
      yield start === 0 ? withBom(text, opts) : text;
    }
    return;
  }

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
  for (let start = 0; start === 0 || start < flat.length; start += PIECE_ROWS) {
    const data = flat
      .slice(start, start + PIECE_ROWS)
      .map((cells) => columns.map((key) => cells.get(key) ?? ''));
    const text = unparse({ fields: columns, data }, { ...config, header: start === 0 });
    yield start === 0 ? withBom(text, opts) : text;
  }
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
  /** Names the body in the store (PublishedStore.body reads it). */
  bodyId: string;
  /** The body's length in bytes. */
  bytes: number;
  contentType: string;
  /** Strong validator: quoted base64url SHA-256 of the body. */
  etag: string;
  /** Whole seconds (HTTP dates have no milliseconds); unchanged when a publish changes nothing. */
  lastModified: Date;
  rows: number;
  format: ExportFormat;
  /** When the link stops answering and the data is deleted; absent: never. */
  expiresAt?: Date;
}

/** How long a public link lives (Export Data to URL's "Link expires"). */
export const EXPIRY_CHOICES = ['never', '1d', '3d', '1w', '2w', '1M', '3M'] as const;
export type ExpiryChoice = (typeof EXPIRY_CHOICES)[number];

export interface Expiry {
  after: ExpiryChoice;
  /**
   * true: each publish starts the period again (a link that runs keep fresh stays alive).
   * false: the period runs from the publish that found no live data; later runs replace the data
   * but do not extend it, so no data is served longer than the period.
   */
  renew: boolean;
}

/** The end of a period of `after` that starts at `from` (months are calendar months, in UTC); undefined for never. */
export function expiryFrom(after: ExpiryChoice, from: Date): Date | undefined {
  const end = new Date(from.getTime());
  const amount = Number.parseInt(after, 10);
  switch (after.slice(-1)) {
    case 'd':
      end.setUTCDate(end.getUTCDate() + amount);
      return end;
    case 'w':
      end.setUTCDate(end.getUTCDate() + 7 * amount);
      return end;
    case 'M':
      end.setUTCMonth(end.getUTCMonth() + amount);
      return end;
    default:
      return undefined;
  }
}

/** Where published exports are kept: the package's store (docs/store.md). */
export type ExportStorage = Pick<ExportsRepository, 'replace' | 'get' | 'parts' | 'delete'>;

/** Parts of a body read from the store at a time when it is served (about 100 KB each, PIECE_ROWS). */
const PARTS_PER_READ = 4;

/**
 * The published datasets, kept in the store so they survive restarts and are shared by processes
 * on one PostgreSQL store. Each is stored under the SHA-256 of its key (the URL's secret), never
 * the key itself, with the body exactly as served, in parts: a publish writes its body a piece at a
 * time as it makes it, and a GET sends it a part at a time as it reads it, so that no process holds
 * a whole body. What the newest of each key is (not its body) is also kept in memory. A reader gets
 * the old body or the new one, never part of one: the body a publish replaces stays readable until
 * the next publish, and a reader whose body went meanwhile gets an error (see body).
 */
export class PublishedStore {
  private readonly entries = new Map<string, Published>();

  /**
   * `shared`: other processes publish to the same store (PostgreSQL), so nothing is kept in memory
   * and every read comes from the store: each process serves the newest bytes.
   */
  constructor(
    private readonly storage: ExportStorage,
    private readonly shared = false,
  ) {}

  /** Replaces what `key` serves, once the store has committed it; `expiry` defaults to never. */
  async publish(
    key: string,
    format: ExportFormat,
    rows: unknown[],
    opts: CsvOptions = {},
    expiry: Expiry = { after: 'never', renew: true },
    now: Date = new Date(),
  ): Promise<Published> {
    if (!Array.isArray(rows)) {
      throw new InputError(`the data to export must be an array of rows, got ${describeType(rows)}`);
    }
    if (format !== 'json' && format !== 'csv') {
      throw new InputError(`unknown export format "${String(format)}": use json or csv`);
    }
    const previous = await this.get(key, now);
    const expiresAt =
      !expiry.renew && previous?.expiresAt && expiry.after !== 'never'
        ? previous.expiresAt
        : expiryFrom(expiry.after, now);
    // The ETag is the SHA-256 of the body, hashed piece by piece as the pieces are stored.
    const sha256 = createHash('sha256');
    const pieces = format === 'csv' ? csvBody(rows, opts) : jsonBody(rows);
    const hashed = (function* () {
      for (const piece of pieces) {
        sha256.update(piece);
        yield piece;
      }
    })();
    const name = keyHash(key);
    const stored = await this.storage.replace(name, hashed, () => {
      const etag = `"${sha256.digest('base64url')}"`;
      const same =
        previous &&
        previous.etag === etag &&
        previous.format === format &&
        previous.rows === rows.length &&
        previous.expiresAt?.getTime() === expiresAt?.getTime();
      // The same data, rows and expiry as served: what was written is rolled back.
      if (same) return undefined;
      return {
        format,
        etag,
        lastModified: (previous?.etag === etag ? previous.lastModified : wholeSeconds(now)).toISOString(),
        rows: rows.length,
        ...(expiresAt ? { expiresAt: expiresAt.getTime() } : {}),
      };
    });
    // Nothing stored: the same as `previous`, which is served on.
    if (!stored) return previous as Published;
    const published = publishedOf(stored);
    if (!this.shared) this.entries.set(key, published);
    return published;
  }

  /**
   * What `key` serves, read from the store the first time after a restart; undefined when nothing
   * or when its link expired (its data is then deleted).
   */
  async get(key: string, now: Date = new Date()): Promise<Published | undefined> {
    const cached = this.entries.get(key);
    if (cached && !expired(cached, now)) return cached;
    if (cached) {
      this.entries.delete(key);
      await this.storage.delete(keyHash(key));
      return undefined;
    }
    const stored = await this.storage.get(keyHash(key), now);
    if (!stored) return undefined;
    const published = publishedOf(stored);
    if (this.shared) return published;
    // A publish that finished meanwhile wins.
    if (!this.entries.has(key)) this.entries.set(key, published);
    return this.entries.get(key);
  }

  /**
   * The body `published` (as publish or get answered it for `key`) serves, read from the store a
   * few parts at a time as it is consumed. Throws when its parts are gone before its last byte (two
   * publishes replaced it meanwhile): a reader gets the whole of one body, or an error, never a part.
   */
  async *body(key: string, published: Published): AsyncGenerator<Buffer> {
    const hash = keyHash(key);
    let from = 0;
    let bytes = 0;
    while (bytes < published.bytes) {
      const parts = await this.storage.parts(hash, published.bodyId, from, PARTS_PER_READ);
      if (parts.length === 0) break;
      from += parts.length;
      for (const part of parts) {
        bytes += part.byteLength;
        yield part;
      }
    }
    if (bytes !== published.bytes) {
      throw new Error(
        `the export was published again while it was read (${bytes} of ${published.bytes} bytes)`,
      );
    }
  }

  /** Stops serving `key` (e.g. the link was regenerated) and deletes its data. */
  async remove(key: string): Promise<void> {
    this.entries.delete(key);
    await this.storage.delete(keyHash(key));
  }
}

function publishedOf(stored: StoredExport): Published {
  return {
    bodyId: stored.bodyId,
    bytes: stored.bytes,
    contentType: CONTENT_TYPES[stored.format],
    etag: stored.etag,
    lastModified: new Date(stored.lastModified),
    rows: stored.rows,
    format: stored.format,
    ...(stored.expiresAt === undefined ? {} : { expiresAt: new Date(stored.expiresAt) }),
  };
}

function expired(p: Published, now: Date): boolean {
  return p.expiresAt !== undefined && p.expiresAt.getTime() <= now.getTime();
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

/** An HTTP answer of the export's public URL. */
export interface ExportAnswer {
  status: number;
  headers: Record<string, string>;
  /** None for a 304 or a HEAD; a published body comes in parts, read as they are sent. */
  body?: string | AsyncIterable<Buffer>;
}

/**
 * The answer to a GET or HEAD of a published export: 304 with the validators when the client's
 * copy is current (conditionalStatus), else 200 with the body `body` gives (none for HEAD).
 */
export function servePublished(
  p: Published,
  method: string,
  requestHeaders: Parameters<typeof conditionalStatus>[1],
  body: () => AsyncIterable<Buffer>,
): ExportAnswer {
  const headers = responseHeaders(p);
  if (conditionalStatus(p, requestHeaders) === 304) {
    const { ETag, 'Last-Modified': lastModified, 'Cache-Control': cacheControl } = headers;
    return { status: 304, headers: { ETag, 'Last-Modified': lastModified, 'Cache-Control': cacheControl } };
  }
  const length = { 'Content-Length': String(p.bytes) };
  return { status: 200, headers: { ...headers, ...length }, ...(method === 'HEAD' ? {} : { body: body() }) };
}

/** An error answer of the public URL (unknown link, nothing published, store down): JSON, never cached. */
export function exportError(status: 404 | 503, message: string): ExportAnswer {
  return {
    status,
    headers: { 'Cache-Control': 'no-store', 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error: true, message }),
  };
}

/** Where the flows' HTTP routes are reached, from the node's setting and Node-RED's. */
export interface PublicOrigin {
  /** The node's "Public base URL" ('' = this Node-RED's own address). */
  publicBase: string;
  /** Node-RED's httpNodeRoot (default '/'). */
  httpNodeRoot?: string | false;
  /** Node-RED's uiHost and uiPort: its own address (any-interface hosts read as 127.0.0.1). */
  uiHost?: string;
  uiPort?: number;
}

/** The public URL of `path` (e.g. `/imis/export/<token>`): base, then httpNodeRoot, then path. */
export function publicUrl(origin: PublicOrigin, path: string): string {
  const host = origin.uiHost && !['0.0.0.0', '::'].includes(origin.uiHost) ? origin.uiHost : '127.0.0.1';
  const base = origin.publicBase.replace(/\/$/, '') || `http://${host}:${origin.uiPort ?? 1880}`;
  const root = typeof origin.httpNodeRoot === 'string' ? origin.httpNodeRoot.replace(/\/+$/, '') : '';
  return `${base}${root}${path}`;
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

/** The tag without quotes and without a W/ prefix (weak comparison). */
function opaque(tag: string): string {
  return tag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** The stored name of a key: its SHA-256 (the key is the secret of a public URL). */
export function keyHash(key: string): string {
  return createHash('sha256').update(String(key), 'utf8').digest('hex');
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  return typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}
