import type { ImisClient } from './client.js';
import { decodeEntity, decodePagedResult } from './generic-entity.js';
import type { PagedResult } from './generic-entity.js';

/** iMIS serves at most 500 rows per page (docs/imis-api.md §4). */
export const MAX_PAGE_SIZE = 500;

/**
 * GETs every page of a paged list (`limit`/`offset`, following `NextOffset` while `HasNext`,
 * docs/imis-api.md §4) and returns all items as sent.
 */
export async function fetchAllPages(
  client: ImisClient,
  path: string,
  opts: {
    params?: Record<string, string | number | string[]>;
    pageSize?: number;
    maxPages?: number;
    /** Where the first page starts (default 0). */
    offset?: number;
    /** Attempts per page request (see RequestOptions.attempts). */
    attempts?: number;
    /** After each page, with the page as read. */
    onPage?: (page: PagedResult, itemsSoFar: number) => void;
  } = {},
): Promise<unknown[]> {
  const limit = Math.min(Math.max(1, opts.pageSize ?? MAX_PAGE_SIZE), MAX_PAGE_SIZE);
  const maxPages = opts.maxPages ?? 10_000;
  const items: unknown[] = [];
  let offset = Math.max(0, Math.floor(opts.offset ?? 0));
  for (let page = 0; page < maxPages; page++) {
    const result = decodePagedResult(
      await client.request('GET', path, {
        params: { ...opts.params, limit, offset },
        ...(opts.attempts === undefined ? {} : { attempts: opts.attempts }),
      }),
    );
    for (const item of result.items) items.push(item);
    opts.onPage?.(result, items.length);
    // NextOffset is 0 on the last page; a server that does not move on must not loop forever.
    if (!result.hasNext || result.nextOffset <= offset || result.items.length === 0) break;
    offset = result.nextOffset;
  }
  return items;
}

/**
 * The first record of `entityTypeName` whose properties equal `where` (`GET /api/X?Prop=eq:value`,
 * docs/imis-api.md §2.4), as a flat object; undefined when none does.
 */
export async function findRecord(
  client: ImisClient,
  entityTypeName: string,
  where: Record<string, string>,
): Promise<Record<string, unknown> | undefined> {
  const params = Object.fromEntries(Object.entries(where).map(([name, value]) => [name, `eq:${value}`]));
  const page = decodePagedResult(
    await client.request('GET', `/api/${encodeURIComponent(entityTypeName)}`, {
      params: { ...params, limit: 1, offset: 0 },
    }),
  );
  return page.items.length > 0 ? decodeEntity(page.items[0]) : undefined;
}
