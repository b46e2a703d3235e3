// Any call to iMIS's REST API (`/api/...`) through the one client (token, limits, retries), for the
// iMIS API node: method, path, query string and JSON body, optionally every page of a paged GET
// (`limit`/`offset`, following `NextOffset`, docs/imis-api.md §4) and Json.NET output flattened to
// plain objects (GenericEntityData, docs/imis-api.md §2.1). No Node-RED in here.
import { ExpectedError } from '../core/errors.js';
import type { ImisClient } from './client.js';
import { decodeEntity } from './generic-entity.js';
import type { PagedResult } from './generic-entity.js';
import { isRecord } from './json-net.js';
import { MAX_PAGE_SIZE, fetchAllPages } from './paging.js';

export const API_METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export type ApiMethod = (typeof API_METHODS)[number];

/** Attempt Count's range, the first attempt included. */
export const MIN_ATTEMPTS = 1;
export const MAX_ATTEMPTS = 10;

/** A call the node was asked to make that cannot be made as written (before anything is sent). */
export class ApiCallError extends ExpectedError {
  override readonly name = 'ApiCallError';
}

export type QueryParams = Record<string, string | string[]>;

export interface ApiCall {
  method: ApiMethod;
  /** `/api/...`; a query string after `?` is merged with `query`. */
  path: string;
  /** URL-encoded query string, `a=1&b=2` (a leading `?` is allowed); a repeated key repeats. */
  query?: string;
  /** JSON body of a POST or PUT; ignored for GET and DELETE. */
  body?: unknown;
  /** Attempts, 1 to 10, the first included; default: the server's retries + 1. */
  attempts?: number;
  /** GET only: read every page of a paged result and return its items. */
  fetchAllPages?: boolean;
  /** GenericEntityData to plain objects, Json.NET's `$type` / `$value(s)` markup removed. */
  simplify?: boolean;
  /** With fetchAllPages, after each page: items so far and iMIS's total. */
  onPage?: (itemsSoFar: number, totalCount: number) => void;
}

export interface ApiResult {
  /** iMIS's answer (null for an empty one), or every item of every page with fetchAllPages. */
  result: unknown;
  /** The path called, without its query string. */
  path: string;
  /** With fetchAllPages: pages read and iMIS's total count. */
  pages?: number;
  totalCount?: number;
}

/** A method name as the node's config holds it, or an error listing the methods. */
export function apiMethod(value: unknown): ApiMethod {
  const method = String(value ?? '')
    .trim()
    .toUpperCase();
  if ((API_METHODS as readonly string[]).includes(method)) return method as ApiMethod;
  throw new ApiCallError(`Method must be one of ${API_METHODS.join(', ')}, not "${String(value)}"`);
}

/** Attempt Count as a whole number from 1 to 10, or undefined (the server's setting) for 0 or empty. */
export function attemptCount(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '' || Number(value) === 0) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < MIN_ATTEMPTS || n > MAX_ATTEMPTS) {
    throw new ApiCallError(
      `Attempt Count must be a whole number from ${MIN_ATTEMPTS} to ${MAX_ATTEMPTS}, not "${String(value)}"`,
    );
  }
  return n;
}

/** `a=1&b=x&b=y` → `{ a: '1', b: ['x', 'y'] }` (URL decoding included). */
export function parseQuery(text: string | undefined): QueryParams {
  const params: QueryParams = {};
  const source = String(text ?? '')
    .trim()
    .replace(/^\?/, '');
  for (const [key, value] of new URLSearchParams(source)) {
    if (key === '') continue;
    const had = params[key];
    params[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  return params;
}

function mergeQuery(into: QueryParams, more: QueryParams): QueryParams {
  const out: QueryParams = { ...into };
  for (const [key, value] of Object.entries(more)) {
    const had = out[key];
    const added = Array.isArray(value) ? value : [value];
    out[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), ...added];
  }
  return out;
}

/**
 * The `/api/...` path of a call and the query string written after it. Only `/api/` is reachable
 * (not `/token`, nor anything outside the iMIS site: no full URLs, no `..` segments).
 */
export function apiPath(text: string): { path: string; params: QueryParams } {
  let source = String(text ?? '').trim();
  if (source === '') throw new ApiCallError('No path: set the iMIS API path to call, e.g. /api/Party/101');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    throw new ApiCallError(
      `Path "${source}" is a full URL: give only the part from /api/ on; the iMIS server configuration holds the site address`,
    );
  }
  const hash = source.indexOf('#');
  if (hash >= 0) source = source.slice(0, hash);
  const question = source.indexOf('?');
  const query = question >= 0 ? source.slice(question + 1) : '';
  let path = question >= 0 ? source.slice(0, question) : source;
  if (!path.startsWith('/')) path = `/${path}`;
  const segments = path.split('/').slice(1);
  const decoded = segments.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (decoded.some((s) => s === '.' || s === '..')) {
    throw new ApiCallError(`Path "${path}" must not contain . or .. segments`);
  }
  if (segments[0]?.toLowerCase() !== 'api' || segments.length < 2 || segments[1] === '') {
    throw new ApiCallError(
      `Path "${path}" is not an iMIS REST API path: it starts with /api/, e.g. /api/Party/101`,
    );
  }
  return { path, params: parseQuery(query) };
}

/** JSON text of a Body field (already rendered) → the value to send; empty text → no body. */
export function parseBody(text: string | undefined): unknown {
  const source = String(text ?? '').trim();
  if (source === '') return undefined;
  try {
    return JSON.parse(source) as unknown;
  } catch (err) {
    throw new ApiCallError(
      `Body is not JSON (${(err as Error).message}); write JSON, e.g. {"PartyId": {{ input.id | json }}}`,
    );
  }
}

/**
 * Json.NET output as plain JSON: a GenericEntityData becomes `{ PropertyName: value }` (as Fetch IQA
 * Data gives rows), typed values and collections are unwrapped, `$type` goes; arrays element by element.
 */
export function simplifyResult(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(simplifyResult);
  if (isRecord(value)) return decodeEntity(value);
  return value;
}

/** `limit` / `offset` of a query, matched without regard to case as iMIS does, taken out of it. */
function takePaging(params: QueryParams): { rest: QueryParams; limit?: number; offset?: number } {
  const rest: QueryParams = {};
  let limit: number | undefined;
  let offset: number | undefined;
  for (const [key, value] of Object.entries(params)) {
    const first = Array.isArray(value) ? value[0] : value;
    const n = Number(first);
    if (key.toLowerCase() === 'limit' && Number.isInteger(n) && n > 0) limit = n;
    else if (key.toLowerCase() === 'offset' && Number.isInteger(n) && n >= 0) offset = n;
    else rest[key] = value;
  }
  return { rest, limit, offset };
}

/**
 * Makes one iMIS API call (or, with fetchAllPages on a GET, one call per page) and returns iMIS's
 * answer. Failures are the client's ImisError, with iMIS's own message; a POST or PUT is retried
 * only when iMIS said it did not apply it (429, 503, or no connection made), never after a timeout,
 * a reset connection or another 5xx, where it may have been applied (client.ts, `retrying`).
 */
export async function callImisApi(client: ImisClient, call: ApiCall): Promise<ApiResult> {
  const method = apiMethod(call.method);
  const { path, params: fromPath } = apiPath(call.path);
  const params = mergeQuery(fromPath, parseQuery(call.query));
  const attempts = attemptCount(call.attempts);
  const idempotent = method === 'GET' || method === 'DELETE';
  const simplify = (value: unknown) => (call.simplify ? simplifyResult(value) : value);

  if (method === 'GET' && call.fetchAllPages) {
    const { rest, limit, offset } = takePaging(params);
    let pages = 0;
    let totalCount = 0;
    let items: unknown[];
    try {
      items = await fetchAllPages(client, path, {
        params: rest,
        pageSize: Math.min(limit ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE),
        offset,
        attempts,
        onPage: (page: PagedResult, soFar: number) => {
          pages += 1;
          totalCount = page.totalCount;
          call.onPage?.(soFar, page.totalCount);
        },
      });
    } catch (err) {
      if (err instanceof TypeError) {
        throw new ApiCallError(
          `GET ${path} did not answer a paged result (Items, Offset, NextOffset): turn Fetch All Pages off for this call`,
          { cause: err },
        );
      }
      throw err;
    }
    return { result: call.simplify ? items.map(simplifyResult) : items, path, pages, totalCount };
  }

  const body = method === 'POST' || method === 'PUT' ? call.body : undefined;
  const answer = await client.request(method, path, {
    params,
    ...(body === undefined ? {} : { data: body }),
    ...(attempts === undefined ? {} : { attempts }),
    idempotent,
  });
  return { result: answer === undefined ? null : simplify(answer), path };
}
