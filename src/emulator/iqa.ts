/**
 * IQA queries (docs/imis-api.md §4): `GET /api/iqa` (rows as GenericEntityData, CONFIRMED) and
 * `GET /api/Query` (the query service: rows as flat objects keyed by display alias, 3P-CONFIRMED),
 * with `QueryName` (or `QueryDocumentVersionKey`), positional `parameter=` values in the order of
 * the query's filters (INFERRED beyond a single example), and `limit`/`offset` paging (default 100,
 * at most 500, `NextOffset` 0 on the last page).
 *
 * A query is a path, typed columns, optional parameters and a row source. Sources that can give
 * their size and any row by index (the large synthetic queries) are paged in O(page); the others
 * are streamed through once per request, holding only the page.
 */
import { createHash } from 'node:crypto';
import { encodeValue } from './coerce.js';
import type { PropertyType } from './definitions.js';
import { invalid, methodNotAllowed, notFound, ValidationError, type Issue } from './errors.js';
import type { ApiRequest, Reply } from './http.js';
import { matches, param, parseFilter, readPaging, type Filter, type Operator } from './query.js';
import type { EmulatorState } from './state.js';
import { pagedPage, TYPES, typed, type Paging } from './wire.js';
import { seedQueries } from './iqa-seed.js';

export type IqaRow = Record<string, unknown>;

export interface IqaColumn {
  /** The display alias: the key of `/api/Query` rows and the property Name of `/api/iqa` rows. */
  alias: string;
  type: PropertyType;
  caption?: string;
  /** The business-object property behind the column, for QueryDefinition (default: the alias without spaces). */
  propertyName?: string;
}

export interface IqaParameter {
  /** The filter's property as QueryDefinition shows it, e.g. `CsActivity.ActivityType`. */
  name: string;
  /** The row key (column alias) the filter tests. */
  property: string;
  /** Comparison when the value carries no `op:` prefix. Default 'eq'. */
  op?: Operator;
  /** Default 'Optional': an empty value means no filter. 'Required': a value must be given. */
  prompt?: 'Optional' | 'Required';
  allowMultiple?: boolean;
}

export interface IqaQuerySpec {
  /** Document path, e.g. `$/Common/Queries/Search/Contact/All`. */
  path: string;
  columns: IqaColumn[];
  parameters?: IqaParameter[];
  /** Every row, keyed by column alias, in result order. Called once per request. */
  rows: () => Iterable<IqaRow> | IqaRow[];
  /** With rowAt: random access, so that an unfiltered page costs O(page) whatever the size. */
  size?: () => number;
  rowAt?: (index: number) => IqaRow;
  description?: string;
  /** EntityTypeName of `/api/iqa` rows; default '59', the value iMIS's migration guide shows. */
  entityTypeName?: string;
  /** The business object the query reads, for QueryDefinition Sources. Default 'CsContact'. */
  source?: string;
}

export interface IqaQuery extends IqaQuerySpec {
  /** The last path segment. */
  name: string;
  /** The path without its last segment. */
  folder: string;
  /** Stable GUIDs derived from the path. */
  documentId: string;
  documentVersionId: string;
  queryDefinitionId: string;
}

export const ITEM_TYPES = {
  object: 'System.Object, mscorlib',
  objectCollection: 'System.Collections.ObjectModel.Collection`1[[System.Object, mscorlib]], mscorlib',
} as const;

/** A GUID-shaped id derived from `seed`: the same across resets and restarts. */
export function stableGuid(seed: string): string {
  const hex = createHash('sha1').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function normalisePath(path: string): string {
  return path.trim().replace(/\/+$/, '');
}

export interface IqaPage {
  rows: IqaRow[];
  totalCount: number;
}

export class IqaQueries {
  readonly queries: IqaQuery[] = [];

  constructor(private readonly state: EmulatorState) {
    this.reset();
  }

  /** Back to the seeded queries. */
  reset(): void {
    this.queries.length = 0;
    for (const spec of seedQueries(this.state)) this.addQuery(spec);
  }

  /** Adds (or replaces, same path in any case) a query. */
  addQuery(spec: IqaQuerySpec): IqaQuery {
    const path = normalisePath(spec.path);
    if (!path.startsWith('$/') || path.split('/').some((segment) => segment === '')) {
      throw new Error(`addQuery: the path must look like $/Folder/Query, not ${spec.path}`);
    }
    if (spec.columns.length === 0) throw new Error('addQuery: a query needs at least one column');
    const cut = path.lastIndexOf('/');
    const query: IqaQuery = {
      ...spec,
      path,
      name: path.slice(cut + 1),
      folder: path.slice(0, cut),
      documentId: stableGuid(`document:${path.toLowerCase()}`),
      documentVersionId: stableGuid(`version:${path.toLowerCase()}`),
      queryDefinitionId: stableGuid(`definition:${path.toLowerCase()}`),
    };
    const existing = this.queries.findIndex(
      (candidate) => candidate.path.toLowerCase() === path.toLowerCase(),
    );
    if (existing >= 0) this.queries.splice(existing, 1, query);
    else this.queries.push(query);
    return query;
  }

  /** By path, ignoring case and a trailing slash. */
  find(path: string): IqaQuery | undefined {
    const lower = normalisePath(path).toLowerCase();
    return this.queries.find((query) => query.path.toLowerCase() === lower);
  }

  /** By DocumentVersionId (`?QueryDocumentVersionKey=`) or DocumentId. */
  findByKey(key: string): IqaQuery | undefined {
    const lower = key.trim().toLowerCase();
    return this.queries.find((query) => query.documentVersionId === lower || query.documentId === lower);
  }

  /** Every folder holding a query, with its ancestors (`$`, `$/Common`, ...). */
  folders(): string[] {
    const folders = new Set<string>();
    for (const query of this.queries) {
      const parts = query.folder.split('/');
      for (let i = 1; i <= parts.length; i++) folders.add(parts.slice(0, i).join('/'));
    }
    return [...folders];
  }

  /** The filters that positional `parameter=` values make (docs/imis-api.md §4). */
  filters(query: IqaQuery, values: string[]): Filter[] {
    const parameters = query.parameters ?? [];
    if (values.length > parameters.length) {
      throw invalid(
        `The query ${query.path} takes ${parameters.length} parameter${parameters.length === 1 ? '' : 's'}, ` +
          `but ${values.length} were given`,
        'parameter',
      );
    }
    const issues: Issue[] = [];
    const filters: Filter[] = [];
    parameters.forEach((parameter, index) => {
      const filter = parseFilter(parameter.property, values[index] ?? '', parameter.op ?? 'eq');
      if (filter.value === '') {
        if (parameter.prompt === 'Required') {
          issues.push({
            message: `The parameter ${parameter.name} is required`,
            propertyName: parameter.name,
          });
        }
        return;
      }
      filters.push(filter);
    });
    if (issues.length > 0) throw new ValidationError(issues);
    return filters;
  }

  /** One page of the query's result, with the total row count. */
  page(query: IqaQuery, values: string[], paging: Paging): IqaPage {
    const filters = this.filters(query, values);
    const { offset, limit } = paging;
    if (filters.length === 0 && query.size !== undefined && query.rowAt !== undefined) {
      const totalCount = query.size();
      const rows: IqaRow[] = [];
      for (let index = offset; index < Math.min(totalCount, offset + limit); index++)
        rows.push(query.rowAt(index));
      return { rows, totalCount };
    }
    const rows: IqaRow[] = [];
    let totalCount = 0;
    for (const row of query.rows()) {
      if (!filters.every((filter) => matches(row[filter.key], filter))) continue;
      if (totalCount >= offset && rows.length < limit) rows.push(row);
      totalCount += 1;
    }
    return { rows, totalCount };
  }
}

/** A `/api/iqa` row: GenericEntityData whose first property is ResultRow (docs/imis-api.md §4, "2017 format"). */
export function iqaRow(query: IqaQuery, row: IqaRow, resultRow: number): Record<string, unknown> {
  const entityTypeName = query.entityTypeName ?? '59';
  const properties: Record<string, unknown>[] = [
    { $type: TYPES.property, Name: 'ResultRow', Value: typed('System.Int32', resultRow) },
  ];
  for (const column of query.columns) {
    const value = encodeValue(column.type, row[column.alias]);
    properties.push(
      value === undefined
        ? { $type: TYPES.property, Name: column.alias }
        : { $type: TYPES.property, Name: column.alias, Value: value },
    );
  }
  return {
    $type: TYPES.genericEntity,
    EntityTypeName: entityTypeName,
    PrimaryParentEntityTypeName: entityTypeName,
    Properties: { $type: TYPES.properties, $values: properties },
  };
}

/** A `/api/Query` row: a flat object keyed by display alias, in column order. */
export function queryRow(query: IqaQuery, row: IqaRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of query.columns) out[column.alias] = row[column.alias] ?? null;
  return out;
}

function parameterValues(query: URLSearchParams): string[] {
  const values: string[] = [];
  for (const [key, value] of query) if (key.toLowerCase() === 'parameter') values.push(value);
  return values;
}

/** `GET /api/iqa` (endpoint 'iqa') and `GET /api/Query` (endpoint 'query'). */
export function iqaRoute(state: EmulatorState, request: ApiRequest, endpoint: 'iqa' | 'query'): Reply {
  const resource = endpoint === 'iqa' ? 'iqa' : 'Query';
  if (request.id !== undefined) {
    throw notFound(
      `No HTTP resource was found that matches the request URI '/api/${resource}/${request.id}'.`,
    );
  }
  if (request.method !== 'GET') throw methodNotAllowed(request.method, ['GET']);
  const name = param(request.query, 'queryname');
  const key = param(request.query, 'querydocumentversionkey');
  if ((name === undefined || name.trim() === '') && (key === undefined || key.trim() === '')) {
    throw invalid(
      'QueryName is required: the path of an IQA query, e.g. $/Common/Queries/Search/Contact/All',
      'QueryName',
    );
  }
  const query =
    name !== undefined && name.trim() !== '' ? state.iqa.find(name) : state.iqa.findByKey(key ?? '');
  if (query === undefined) {
    throw notFound(
      name !== undefined && name.trim() !== ''
        ? `The query '${name}' was not found. Check the path and that the user may run it.`
        : `No query has the document version key '${key}'.`,
    );
  }
  const paging = readPaging(request.query);
  const page = state.iqa.page(query, parameterValues(request.query), paging);
  if (endpoint === 'iqa') {
    const items = page.rows.map((row, index) => iqaRow(query, row, paging.offset + index + 1));
    return { status: 200, body: pagedPage(TYPES.genericEntity, items, paging, page.totalCount) };
  }
  const items = page.rows.map((row) => queryRow(query, row));
  return {
    status: 200,
    body: pagedPage(ITEM_TYPES.object, items, paging, page.totalCount, ITEM_TYPES.objectCollection),
  };
}
