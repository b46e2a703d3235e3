// IQA queries through the REST API (docs/imis-api.md §4): every row of a query, page by page, from
// `/api/Query` (flat rows keyed by display alias; iMIS 20.3.77+) or the older `/api/iqa`
// (GenericEntityData rows); and the document system calls an editor needs to pick a query and
// show its prompts (`DocumentSummary` / `QueryDefinition` `_execute`, docs/imis-api.md §2.4).
import type { ImisClient } from './client.js';
import { ImisError } from './errors.js';
import { decodeEntity, decodePagedResult } from './generic-entity.js';
import { collectionItems, isRecord, typedValue } from './json-net.js';
import { MAX_PAGE_SIZE } from './paging.js';

export type IqaEndpoint = 'iqa' | 'query';

export interface FetchIqaOptions {
  /** Document path of the query, e.g. `$/Common/Queries/Search/Contact/All`. */
  path: string;
  /**
   * Values of the query's prompts, in the order of its filters (positional, docs/imis-api.md §4), each
   * optionally with an operator prefix such as `eq:` or `contains:`; '' leaves a prompt empty.
   */
  parameters?: string[];
  /** `query` (default): `/api/Query`; `iqa`: `/api/iqa`. */
  endpoint?: IqaEndpoint;
  /** Rows per request, 1 to 500 (iMIS's maximum). Default 500. */
  pageSize?: number;
  /** Stop after this many rows. Default: all. */
  maxRows?: number;
  /** After each page: rows fetched so far and the query's total. */
  onPage?: (rowsSoFar: number, total: number) => void;
  /**
   * `/api/iqa` rows start with a `ResultRow` property (the row's number in the result, 1-based).
   * It is kept by default, so that rows look the same as iMIS sends them; true drops it.
   */
  dropResultRow?: boolean;
}

export interface IqaResult {
  /** Plain objects keyed by the query's display aliases, in result order. */
  rows: Record<string, unknown>[];
  /** The query's total row count as iMIS reported it (may exceed rows.length with maxRows). */
  totalCount: number;
  /** Requests made. */
  pages: number;
}

/** A `/api/Query` row as sent, minus Json.NET's `$type`, typed values `{ $type, $value }` unwrapped. */
function plainRow(item: unknown): Record<string, unknown> {
  if (!isRecord(item)) return { value: item };
  const row: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (key === '$type') continue;
    row[key] = typedValue(value);
  }
  return row;
}

function clampPageSize(size: number | undefined): number {
  const n = Math.floor(Number(size ?? MAX_PAGE_SIZE));
  return Number.isFinite(n) ? Math.min(Math.max(1, n), MAX_PAGE_SIZE) : MAX_PAGE_SIZE;
}

/**
 * Runs an IQA query and returns all its rows, following `NextOffset` until iMIS reports no next
 * page (docs/imis-api.md §4). `/api/iqa` rows are flattened to plain objects (ResultRow kept unless
 * `dropResultRow`); `/api/Query` rows are passed as they are minus `$type`.
 */
export async function fetchIqa(client: ImisClient, opts: FetchIqaOptions): Promise<IqaResult> {
  const path = String(opts.path ?? '').trim();
  if (path === '')
    throw new ImisError(
      'rejected',
      'An IQA query path is required, e.g. $/Common/Queries/Search/Contact/All',
    );
  const endpoint = opts.endpoint ?? 'query';
  const apiPath = endpoint === 'iqa' ? '/api/iqa' : '/api/Query';
  const pageSize = clampPageSize(opts.pageSize);
  const maxRows = opts.maxRows !== undefined && opts.maxRows > 0 ? Math.floor(opts.maxRows) : Infinity;
  const parameters = (opts.parameters ?? []).map((value) => String(value ?? ''));
  // Trailing empty prompts are left out: positional values need only reach the last one given.
  while (parameters.length > 0 && parameters[parameters.length - 1] === '') parameters.pop();

  const rows: Record<string, unknown>[] = [];
  let totalCount = 0;
  let pages = 0;
  let offset = 0;
  while (rows.length < maxRows) {
    const limit = Math.min(pageSize, maxRows - rows.length);
    const params: Record<string, string | number | string[]> = { QueryName: path, limit, offset };
    if (parameters.length > 0) params.parameter = parameters;
    let wire: unknown;
    try {
      wire = await client.request('GET', apiPath, { params });
    } catch (err) {
      if (err instanceof ImisError && err.kind === 'not-found') {
        const said = err.imisMessages.length > 0 ? `: ${err.imisMessages.join('; ')}` : '';
        throw new ImisError(
          'not-found',
          `iMIS has no IQA query "${path}" (GET ${apiPath})${said}. Check the path and the user's access to it`,
          {
            status: err.status,
            imisMessages: err.imisMessages,
            body: err.body,
            method: 'GET',
            path: apiPath,
            cause: err,
          },
        );
      }
      throw err;
    }
    const page = decodePagedResult(wire);
    pages += 1;
    totalCount = page.totalCount;
    for (const item of page.items) {
      if (endpoint === 'iqa') {
        const row = isRecord(item) ? decodeEntity(item) : plainRow(item);
        if (opts.dropResultRow) delete row.ResultRow;
        rows.push(row);
      } else {
        rows.push(plainRow(item));
      }
    }
    opts.onPage?.(Math.min(rows.length, maxRows), totalCount);
    // NextOffset is 0 on the last page (docs/imis-api.md §4); never loop on a server that does not move on.
    const next = page.nextOffset > offset ? page.nextOffset : offset + page.items.length;
    if (!page.hasNext || page.items.length === 0 || next <= offset) break;
    offset = next;
  }
  if (rows.length > maxRows) rows.length = maxRows;
  return { rows, totalCount, pages };
}

// ----- The document system: picking a query and describing its prompts ---------------------------

const EXECUTE_REQUEST = 'Asi.Soa.Core.DataContracts.GenericExecuteRequest, Asi.Contracts';
const OBJECT_COLLECTION = 'System.Collections.ObjectModel.Collection`1[[System.Object, mscorlib]], mscorlib';
const STRING_COLLECTION = 'System.Collections.ObjectModel.Collection`1[[System.String, mscorlib]], mscorlib';

type ExecuteParameter = string | boolean | string[];

/** A GenericExecuteRequest as public clients send it (docs/imis-api.md §2.4). */
function executeRequest(entity: string, operation: string, parameters: ExecuteParameter[]): unknown {
  const wrap = (value: ExecuteParameter) =>
    Array.isArray(value)
      ? { $type: 'System.String[]', $values: value }
      : { $type: typeof value === 'boolean' ? 'System.Boolean' : 'System.String', $value: value };
  return {
    $type: EXECUTE_REQUEST,
    EntityTypeName: entity,
    OperationName: operation,
    Parameters: { $type: OBJECT_COLLECTION, $values: parameters.map(wrap) },
    ParameterTypeName: {
      $type: STRING_COLLECTION,
      $values: parameters.map((value) =>
        Array.isArray(value)
          ? 'System.String[]'
          : typeof value === 'boolean'
            ? 'System.Boolean'
            : 'System.String',
      ),
    },
    UseJson: false,
  };
}

async function execute(
  client: ImisClient,
  entity: string,
  operation: string,
  parameters: ExecuteParameter[],
) {
  const answer = await client.request('POST', `/api/${entity}/_execute`, {
    data: executeRequest(entity, operation, parameters),
  });
  return isRecord(answer) ? answer.Result : undefined;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

export interface QueryDocument {
  /** Full document path, e.g. `$/Common/Queries/Search/Contact/All`. */
  path: string;
  name: string;
  /** 'query' (DocumentTypeId IQD) or 'folder' (FOL, or CFL for a content folder). */
  type: 'query' | 'folder';
  documentTypeId: string;
  documentId: string;
  /** Usable as `QueryDocumentVersionKey` on `/api/iqa`. */
  documentVersionId: string;
  description: string;
}

function toDocument(raw: unknown, parentPath: string): QueryDocument | undefined {
  if (!isRecord(raw)) return undefined;
  // DocumentTypeId is what iMIS sends (3P-CONFIRMED); DocumentTypeCode is accepted as well.
  const typeId = (text(raw.DocumentTypeId) || text(raw.DocumentTypeCode)).toUpperCase();
  const name = text(raw.Name);
  const path = text(raw.Path) || (name ? `${parentPath}/${name}` : '');
  if (!path) return undefined;
  const folder = typeId === 'FOL' || typeId === 'CFL' || raw.IsFolder === true;
  if (!folder && typeId !== 'IQD') return undefined;
  return {
    path,
    name: name || path.slice(path.lastIndexOf('/') + 1),
    type: folder ? 'folder' : 'query',
    documentTypeId: typeId,
    documentId: text(raw.DocumentId),
    documentVersionId: text(raw.DocumentVersionId),
    description: text(raw.Description),
  };
}

export interface ListQueriesOptions {
  /** Descend into subfolders (default true): the queries of `$/Common/Queries` sit in subfolders. */
  recursive?: boolean;
  /** Also return the folders themselves (default false). */
  includeFolders?: boolean;
  /** Folders read at most, the starting one included (default 50): one request each. */
  maxFolders?: number;
}

/**
 * The IQA queries in a folder of the document system, sorted by path: `DocumentSummary`
 * `FindByPath` for the folder's DocumentId, then `FindDocumentsInFolder` per folder (docs/imis-api.md §2.4).
 */
export async function listQueries(
  client: ImisClient,
  folder: string,
  opts: ListQueriesOptions = {},
): Promise<QueryDocument[]> {
  const root = String(folder ?? '')
    .trim()
    .replace(/\/+$/, '');
  if (!root.startsWith('$')) {
    throw new ImisError(
      'rejected',
      `A document folder path starts with $, e.g. $/Common/Queries, not "${folder}"`,
    );
  }
  const found = await execute(client, 'DocumentSummary', 'FindByPath', [root]);
  const start = toDocument(found, root);
  if (start === undefined || start.type !== 'folder') {
    throw new ImisError('not-found', `iMIS has no document folder "${root}"`, {
      path: '/api/DocumentSummary/_execute',
    });
  }
  const recursive = opts.recursive ?? true;
  const maxFolders = Math.max(1, opts.maxFolders ?? 50);
  const out: QueryDocument[] = [];
  const queue: QueryDocument[] = [start];
  const visited = new Set<string>();
  while (queue.length > 0 && visited.size < maxFolders) {
    const current = queue.shift() as QueryDocument;
    if (visited.has(current.path.toLowerCase())) continue;
    visited.add(current.path.toLowerCase());
    // Parameters: folder DocumentId, document types, and false (immediate children), as public clients send.
    const result = await execute(client, 'DocumentSummary', 'FindDocumentsInFolder', [
      current.documentId || current.path,
      ['IQD', 'FOL', 'CFL'],
      false,
    ]);
    for (const raw of collectionItems(result) ?? []) {
      const document = toDocument(raw, current.path);
      if (document === undefined) continue;
      if (document.type === 'folder') {
        if (opts.includeFolders) out.push(document);
        if (recursive) queue.push(document);
      } else {
        out.push(document);
      }
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** CriteriaData.Operation numbers as the emulator sends them (INFERRED numbering). */
const OPERATIONS: Record<number, string> = {
  1: 'eq',
  2: 'ne',
  3: 'lt',
  4: 'le',
  5: 'gt',
  6: 'ge',
  7: 'contains',
  8: 'startswith',
};

export interface QueryPrompt {
  /** The filter's property, e.g. `CsContact.LastName`; its last part is the iUpdate QueryParameters key. */
  propertyName: string;
  /** CriteriaData.Operation as iMIS sent it. */
  operation?: number;
  /** The `eq:`-style prefix for that operation, when known. */
  operator?: string;
  /** 'Optional', 'Required', ... as iMIS sent it. */
  prompt: string;
  allowMultiple: boolean;
  /** Default values in the query. */
  values: string[];
}

export interface QueryColumn {
  alias: string;
  caption: string;
  /** e.g. String, Int32, Decimal, DateTime, Boolean. */
  dataTypeName: string;
  displayOrder: number;
  propertyName: string;
}

export interface QueryDescription {
  path: string;
  name: string;
  description: string;
  documentVersionId: string;
  /** The prompts, in the order positional `parameter=` values fill them (docs/imis-api.md §4). */
  parameters: QueryPrompt[];
  /** The result columns, by display order. */
  properties: QueryColumn[];
}

/** A query's prompts and columns: `QueryDefinition` `FindByPath` (IqaQueryDefinitionData, docs/imis-api.md §4). */
export async function describeQuery(client: ImisClient, path: string): Promise<QueryDescription> {
  const queryPath = String(path ?? '').trim();
  if (queryPath === '') throw new ImisError('rejected', 'An IQA query path is required');
  const result = await execute(client, 'QueryDefinition', 'FindByPath', [queryPath]);
  if (!isRecord(result)) {
    throw new ImisError('not-found', `iMIS has no IQA query "${queryPath}"`, {
      path: '/api/QueryDefinition/_execute',
    });
  }
  const document = isRecord(result.Document) ? result.Document : {};
  const parameters = (collectionItems(result.Parameters) ?? []).filter(isRecord).map((raw): QueryPrompt => {
    const operation = typeof raw.Operation === 'number' ? raw.Operation : undefined;
    const prompt: QueryPrompt = {
      propertyName: text(raw.PropertyName),
      prompt: text(raw.Prompt),
      allowMultiple: raw.AllowMultiple === true,
      values: (collectionItems(raw.Values) ?? []).map((value) => String(typedValue(value))),
    };
    if (operation !== undefined) {
      prompt.operation = operation;
      if (OPERATIONS[operation] !== undefined) prompt.operator = OPERATIONS[operation];
    }
    return prompt;
  });
  const properties = (collectionItems(result.Properties) ?? [])
    .filter(isRecord)
    .map((raw, index): QueryColumn => ({
      alias: text(raw.Alias) || text(raw.PropertyName) || text(raw.Name),
      caption: text(raw.Caption) || text(raw.Alias) || text(raw.Name),
      dataTypeName: text(raw.DataTypeName),
      displayOrder: typeof raw.DisplayOrder === 'number' ? raw.DisplayOrder : index + 1,
      propertyName: text(raw.PropertyName),
    }))
    .sort((a, b) => a.displayOrder - b.displayOrder);
  const resolvedPath = text(result.Path) || queryPath;
  return {
    path: resolvedPath,
    name: text(document.Name) || resolvedPath.slice(resolvedPath.lastIndexOf('/') + 1),
    description: text(document.Description),
    documentVersionId: text(document.DocumentVersionId),
    parameters,
    properties,
  };
}
