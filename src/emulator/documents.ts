/**
 * The document system as a query picker sees it (docs/imis-api.md §2.4, §4), through GenericExecuteRequest:
 *
 * - `POST /api/DocumentSummary/_execute` `FindByPath` [path] → the DocumentSummaryData of a folder
 *   or query, or `Result: null`; `FindDocumentsInFolder` [folder DocumentId or path, document type
 *   codes (e.g. ["IQD", "FOL"]), include subfolders] → a collection of DocumentSummaryData.
 * - `POST /api/QueryDefinition/_execute` `FindByPath` [path] → IqaQueryDefinitionData (Parameters as
 *   CriteriaData, Properties as QueryPropertyData, Sources, Relations), or `Result: null`.
 *
 * Operations, parameter order and field names are 3P-CONFIRMED by public clients; the meaning of
 * FindDocumentsInFolder's third parameter (taken here as "include subfolders"), the `$type`s of the
 * collections and the numeric CriteriaData.Operation codes are INFERRED.
 */
import { invalid, methodNotAllowed, notFound } from './errors.js';
import type { ApiRequest, Reply } from './http.js';
import { stableGuid, type IqaQuery } from './iqa.js';
import type { Operator } from './query.js';
import type { PropertyType } from './definitions.js';
import type { EmulatorState } from './state.js';
import { collectionItems, isRecord, typedValue } from '../imis/json-net.js';
import { TYPES } from './wire.js';

const CONTRACTS = 'Asi.Soa.Core.DataContracts';
export const DOCUMENT_TYPES = {
  executeResult: `${CONTRACTS}.GenericExecuteResult, Asi.Contracts`,
  documentSummary: `${CONTRACTS}.DocumentSummaryData, Asi.Contracts`,
  document: `${CONTRACTS}.DocumentData, Asi.Contracts`,
  queryDefinition: `${CONTRACTS}.IqaQueryDefinitionData, Asi.Contracts`,
  criteria: `${CONTRACTS}.CriteriaData, Asi.Contracts`,
  queryProperty: `${CONTRACTS}.QueryPropertyData, Asi.Contracts`,
  querySource: `${CONTRACTS}.QuerySourceData, Asi.Contracts`,
  updateInfo: `${CONTRACTS}.EntityUpdateInformationData, Asi.Contracts`,
} as const;

/** CriteriaData.Operation codes (INFERRED numbering; the field is a number in iMIS's answers). */
export const OPERATION_CODES: Record<Operator, number> = {
  eq: 1,
  ne: 2,
  lt: 3,
  le: 4,
  gt: 5,
  ge: 6,
  contains: 7,
  startswith: 8,
};

/** IQA DataTypeName per property type (names as seen in QueryPropertyData, 3P-CONFIRMED). */
const DATA_TYPE_NAMES: Record<PropertyType, string> = {
  String: 'String',
  Integer: 'Int32',
  Decimal: 'Decimal',
  Monetary: 'Decimal',
  Double: 'Double',
  Boolean: 'Boolean',
  Date: 'DateTime',
  Binary: 'Byte[]',
};

const SEED_TIME = '2024-01-15T09:30:00';

function collection(itemType: string, values: unknown[]): Record<string, unknown> {
  return { $type: `System.Collections.Generic.List\`1[[${itemType}]], mscorlib`, $values: values };
}

function executeResult(result: unknown): Record<string, unknown> {
  return {
    $type: DOCUMENT_TYPES.executeResult,
    Result: result,
    IsSuccessStatusCode: true,
    Message: null,
    ReasonPhrase: null,
    StatusCode: 200,
    ValidationResults: {
      $type: TYPES.validateResults,
      Errors: { $type: TYPES.validationResults, $values: [] },
      Warnings: { $type: TYPES.validationResults, $values: [] },
    },
    IsCachedResult: false,
  };
}

interface ExecuteRequest {
  operation: string;
  parameters: unknown[];
}

/** A GenericExecuteRequest body; parameter values unwrapped from `{$type, $value}` / `{$type, $values}`. */
function readExecute(body: unknown, entity: string): ExecuteRequest {
  if (!isRecord(body) || typeof body.OperationName !== 'string' || body.OperationName.trim() === '') {
    throw invalid(
      `The body must be a GenericExecuteRequest with an OperationName for ${entity}`,
      'OperationName',
    );
  }
  const raw =
    body.Parameters === undefined || body.Parameters === null ? [] : collectionItems(body.Parameters);
  if (raw === undefined) throw invalid('Parameters must be a collection', 'Parameters');
  const parameters = raw.map((value) => collectionItems(value) ?? typedValue(value));
  return { operation: body.OperationName.trim(), parameters };
}

function stringParameter(parameters: unknown[], index: number, name: string): string {
  const value = parameters[index];
  if (typeof value !== 'string' || value.trim() === '')
    throw invalid(`${name} is required (parameter ${index + 1})`, name);
  return value.trim().replace(/\/+$/, '');
}

interface DocumentEntry {
  path: string;
  name: string;
  folder: string;
  typeCode: 'FOL' | 'IQD';
  description: string;
  query?: IqaQuery;
}

function entries(state: EmulatorState): DocumentEntry[] {
  const folders: DocumentEntry[] = state.iqa.folders().map((path) => {
    const cut = path.lastIndexOf('/');
    return {
      path,
      name: cut < 0 ? path : path.slice(cut + 1),
      folder: cut < 0 ? '' : path.slice(0, cut),
      typeCode: 'FOL',
      description: '',
    };
  });
  const queries: DocumentEntry[] = state.iqa.queries.map((query) => ({
    path: query.path,
    name: query.name,
    folder: query.folder,
    typeCode: 'IQD',
    description: query.description ?? '',
    query,
  }));
  return [...folders, ...queries];
}

function summary(entry: DocumentEntry): Record<string, unknown> {
  const lower = entry.path.toLowerCase();
  return {
    $type: DOCUMENT_TYPES.documentSummary,
    Description: entry.description,
    DocumentId: entry.query?.documentId ?? stableGuid(`document:${lower}`),
    DocumentVersionId: entry.query?.documentVersionId ?? stableGuid(`version:${lower}`),
    DocumentTypeId: entry.typeCode,
    Name: entry.name,
    AlternateName: '',
    Path: entry.path,
    FolderPath: entry.folder,
    Status: 'Published',
    IsSystem: false,
    IsFolder: entry.typeCode === 'FOL',
  };
}

/** A folder by path or DocumentId. */
function findEntry(all: DocumentEntry[], key: string): DocumentEntry | undefined {
  const lower = key.toLowerCase();
  return all.find((entry) => entry.path.toLowerCase() === lower || summary(entry).DocumentId === lower);
}

export function documentSummaryRoute(state: EmulatorState, request: ApiRequest): Reply {
  if (request.id?.toLowerCase() !== '_execute') {
    throw notFound('Only POST /api/DocumentSummary/_execute is available on this emulator');
  }
  if (request.method !== 'POST') throw methodNotAllowed(request.method, ['POST']);
  const { operation, parameters } = readExecute(request.body, 'DocumentSummary');
  const all = entries(state);
  switch (operation.toLowerCase()) {
    case 'findbypath': {
      const entry = findEntry(all, stringParameter(parameters, 0, 'path'));
      return { status: 200, body: executeResult(entry === undefined ? null : summary(entry)) };
    }
    case 'finddocumentsinfolder': {
      const folder = findEntry(all, stringParameter(parameters, 0, 'folder'));
      const types = Array.isArray(parameters[1])
        ? new Set(parameters[1].filter((type) => typeof type === 'string').map((type) => type.toUpperCase()))
        : undefined;
      const recursive = parameters[2] === true;
      const items =
        folder === undefined || folder.typeCode !== 'FOL'
          ? []
          : all
              .filter((entry) =>
                recursive
                  ? entry.path.toLowerCase().startsWith(`${folder.path.toLowerCase()}/`)
                  : entry.folder === folder.path,
              )
              .filter((entry) => types === undefined || types.has(entry.typeCode))
              .sort((a, b) =>
                a.typeCode === b.typeCode ? a.path.localeCompare(b.path) : a.typeCode === 'FOL' ? -1 : 1,
              )
              .map(summary);
      return { status: 200, body: executeResult(collection(DOCUMENT_TYPES.documentSummary, items)) };
    }
  }
  throw invalid(
    `DocumentSummary has no operation ${operation}: use FindByPath or FindDocumentsInFolder`,
    'OperationName',
  );
}

/** IqaQueryDefinitionData (3P-CONFIRMED field names). */
export function renderQueryDefinition(query: IqaQuery): Record<string, unknown> {
  const source = query.source ?? 'CsContact';
  const sourceId = stableGuid(`source:${query.path.toLowerCase()}:${source}`);
  return {
    $type: DOCUMENT_TYPES.queryDefinition,
    Document: {
      $type: DOCUMENT_TYPES.document,
      AccessId: '',
      StatusUpdatedByUserId: 'MANAGER',
      StatusUpdatedOn: SEED_TIME,
      Description: query.description ?? '',
      DocumentId: query.documentId,
      DocumentVersionId: query.documentVersionId,
      DocumentTypeId: 'IQD',
      Name: query.name,
      AlternateName: '',
      Path: query.path,
      FolderPath: query.folder,
      Status: 'Published',
      IsSystem: false,
      UpdateInfo: {
        $type: DOCUMENT_TYPES.updateInfo,
        CreatedBy: 'MANAGER',
        CreatedOn: SEED_TIME,
        UpdatedBy: 'MANAGER',
        UpdatedOn: SEED_TIME,
      },
    },
    Parameters: collection(
      DOCUMENT_TYPES.criteria,
      (query.parameters ?? []).map((parameter) => ({
        $type: DOCUMENT_TYPES.criteria,
        Operation: OPERATION_CODES[parameter.op ?? 'eq'],
        PropertyName: parameter.name,
        Prompt: parameter.prompt ?? 'Optional',
        AllowMultiple: parameter.allowMultiple ?? false,
        Values: { $type: TYPES.stringCollection, $values: [] },
      })),
    ),
    Path: query.path,
    Properties: collection(
      DOCUMENT_TYPES.queryProperty,
      query.columns.map((column, index) => {
        const propertyName = column.propertyName ?? column.alias.replace(/\s+/g, '');
        return {
          $type: DOCUMENT_TYPES.queryProperty,
          QuerySourceId: sourceId,
          Name: `${source}.${propertyName}`,
          PropertyName: propertyName,
          Alias: column.alias,
          Caption: column.caption ?? column.alias,
          DisplayFormat: '',
          DisplayOrder: index + 1,
          Link: '',
          DataTypeName: DATA_TYPE_NAMES[column.type],
        };
      }),
    ),
    Relations: collection(`${CONTRACTS}.QueryRelationData, Asi.Contracts`, []),
    Sources: collection(DOCUMENT_TYPES.querySource, [
      {
        $type: DOCUMENT_TYPES.querySource,
        QuerySourceId: sourceId,
        QuerySourceType: 1,
        Name: source,
        Description: '',
        BusinessControllerName: source,
      },
    ]),
    QueryDefinitionId: query.queryDefinitionId,
  };
}

export function queryDefinitionRoute(state: EmulatorState, request: ApiRequest): Reply {
  if (request.id?.toLowerCase() !== '_execute') {
    throw notFound('Only POST /api/QueryDefinition/_execute is available on this emulator');
  }
  if (request.method !== 'POST') throw methodNotAllowed(request.method, ['POST']);
  const { operation, parameters } = readExecute(request.body, 'QueryDefinition');
  if (operation.toLowerCase() !== 'findbypath') {
    throw invalid(`QueryDefinition has no operation ${operation}: use FindByPath`, 'OperationName');
  }
  const query = state.iqa.find(stringParameter(parameters, 0, 'path'));
  return { status: 200, body: executeResult(query === undefined ? null : renderQueryDefinition(query)) };
}
