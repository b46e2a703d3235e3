/**
 * The GenericEntityData wire format of the iMIS REST API as the server sees it (docs/imis-api.md §2, §4):
 * decoding request bodies, encoding entities, PagedResult envelopes and ValidateResultsData errors.
 * The client-side codec lives in src/imis; this copy is deliberately separate, the emulator being
 * "the other side" that the client is tested against. Only the neutral Json.NET readers (type guard,
 * collection items) are shared, from src/imis/json-net.ts.
 */
import { collectionItems, isRecord } from '../imis/json-net.js';
import { ValidationError, type Issue } from './errors.js';

export const TYPES = {
  genericEntity: 'Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts',
  properties: 'Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts',
  property: 'Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts',
  identity: 'Asi.Soa.Core.DataContracts.IdentityData, Asi.Contracts',
  stringCollection: 'System.Collections.ObjectModel.Collection`1[[System.String, mscorlib]], mscorlib',
  // Only Errors.$values[].Message is evidenced; these three $type names are guesses (docs/imis-api.md §2.3).
  validateResults: 'Asi.Soa.Core.DataContracts.ValidateResultsData, Asi.Contracts',
  validationResults: 'Asi.Soa.Core.DataContracts.ValidationResultDataCollection, Asi.Contracts',
  validationResult: 'Asi.Soa.Core.DataContracts.ValidationResultData, Asi.Contracts',
} as const;

/** One `{Name, Value}` of a request; `value` is null when Value was omitted (docs/imis-api.md §2.1). */
export interface WireProperty {
  name: string;
  value: unknown;
  /** The `$type` of a wrapped value (`System.Int32`, ...), if it was wrapped. */
  clrType?: string;
}

export interface WireEntity {
  entityTypeName?: string;
  primaryParentEntityTypeName?: string;
  /** Identity.IdentityElements, when sent (optional on insert, docs/imis-api.md §2.1). */
  identity?: string[];
  /** PrimaryParentIdentity.IdentityElements, when sent. */
  parentIdentity?: string[];
  properties: WireProperty[];
}

function optionalString(body: Record<string, unknown>, key: string, issues: Issue[]): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  issues.push({ message: `${key} must be a string` });
  return undefined;
}

function decodeIdentity(value: unknown, field: string, issues: Issue[]): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) {
    issues.push({ message: `${field} must be an IdentityData object` });
    return undefined;
  }
  if (value.IdentityElements === undefined || value.IdentityElements === null) return undefined;
  const elements = collectionItems(value.IdentityElements);
  if (elements === undefined) {
    issues.push({ message: `${field}.IdentityElements must be a collection of strings` });
    return undefined;
  }
  const out: string[] = [];
  for (const element of elements) {
    if (typeof element === 'string' || typeof element === 'number') out.push(String(element));
    else issues.push({ message: `${field}.IdentityElements must be a collection of strings` });
  }
  return out;
}

function decodeProperty(item: unknown, index: number, issues: Issue[]): WireProperty | undefined {
  if (!isRecord(item) || typeof item.Name !== 'string' || item.Name.trim() === '') {
    issues.push({ message: `Properties[${index}] must be an object with a Name` });
    return undefined;
  }
  const name = item.Name.trim();
  const raw = item.Value;
  // Null or empty is shown by omitting Value (docs/imis-api.md §2.1).
  if (raw === undefined || raw === null) return { name, value: null };
  if (Array.isArray(raw)) {
    issues.push({
      message: `The Value of ${name} must be a string or a {"$type", "$value"} object`,
      propertyName: name,
    });
    return undefined;
  }
  if (isRecord(raw)) {
    // Typed values: {"$type": "System.Int32", "$value": 2} (docs/imis-api.md §2.1).
    if (!('$value' in raw)) {
      issues.push({
        message: `The Value of ${name} must be a string or a {"$type", "$value"} object`,
        propertyName: name,
      });
      return undefined;
    }
    const value = raw.$value ?? null;
    return typeof raw.$type === 'string' ? { name, value, clrType: raw.$type } : { name, value };
  }
  return { name, value: raw };
}

/** Reads a GenericEntityData request body; throws ValidationError listing what is wrong with it. */
export function decodeEntity(body: unknown): WireEntity {
  if (!isRecord(body)) {
    throw new ValidationError([{ message: 'The request body must be a GenericEntityData JSON object' }]);
  }
  const issues: Issue[] = [];
  const type = body.$type;
  // The outer $type is kept by every known client; inner $types are optional (docs/imis-api.md §2.1).
  if (
    type !== undefined &&
    (typeof type !== 'string' || !type.startsWith('Asi.Soa.Core.DataContracts.GenericEntityData'))
  ) {
    issues.push({ message: `Expected a body of $type ${TYPES.genericEntity}` });
  }
  const entity: WireEntity = { properties: [] };
  const entityTypeName = optionalString(body, 'EntityTypeName', issues);
  if (entityTypeName !== undefined) entity.entityTypeName = entityTypeName;
  const parentTypeName = optionalString(body, 'PrimaryParentEntityTypeName', issues);
  if (parentTypeName !== undefined) entity.primaryParentEntityTypeName = parentTypeName;
  const identity = decodeIdentity(body.Identity, 'Identity', issues);
  if (identity !== undefined) entity.identity = identity;
  const parentIdentity = decodeIdentity(body.PrimaryParentIdentity, 'PrimaryParentIdentity', issues);
  if (parentIdentity !== undefined) entity.parentIdentity = parentIdentity;

  const items = collectionItems(body.Properties);
  if (items === undefined) {
    issues.push({ message: 'Properties is required: a collection of {"Name", "Value"} objects' });
  } else {
    items.forEach((item, index) => {
      const property = decodeProperty(item, index, issues);
      if (property) entity.properties.push(property);
    });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return entity;
}

export function identityData(entityTypeName: string, elements?: string[]): Record<string, unknown> {
  const identity: Record<string, unknown> = { $type: TYPES.identity, EntityTypeName: entityTypeName };
  if (elements !== undefined)
    identity.IdentityElements = { $type: TYPES.stringCollection, $values: elements };
  return identity;
}

export interface EntityParts {
  entityTypeName: string;
  primaryParentEntityTypeName: string;
  identity: string[];
  /** undefined for a Standalone parent, whose identity has no elements (docs/imis-api.md §2.1). */
  parentIdentity?: string[];
  /** Values already in wire form; undefined = null, written as a property without Value. */
  properties: { name: string; value: unknown }[];
}

/** A response GenericEntityData with full `$type`s everywhere (docs/imis-api.md §2.1). */
export function genericEntity(parts: EntityParts): Record<string, unknown> {
  return {
    $type: TYPES.genericEntity,
    EntityTypeName: parts.entityTypeName,
    PrimaryParentEntityTypeName: parts.primaryParentEntityTypeName,
    Identity: identityData(parts.entityTypeName, parts.identity),
    PrimaryParentIdentity: identityData(parts.primaryParentEntityTypeName, parts.parentIdentity),
    Properties: {
      $type: TYPES.properties,
      $values: parts.properties.map((property) =>
        property.value === undefined
          ? { $type: TYPES.property, Name: property.name }
          : { $type: TYPES.property, Name: property.name, Value: property.value },
      ),
    },
  };
}

export function typed(clrType: string, value: unknown): { $type: string; $value: unknown } {
  return { $type: clrType, $value: value };
}

/** The 400 body of a validation failure (docs/imis-api.md §2.3). */
export function validateResults(issues: Issue[]): Record<string, unknown> {
  return {
    $type: TYPES.validateResults,
    IsValid: false,
    Errors: {
      $type: TYPES.validationResults,
      $values: issues.map((issue) =>
        issue.propertyName === undefined
          ? { $type: TYPES.validationResult, Message: issue.message }
          : { $type: TYPES.validationResult, Message: issue.message, PropertyName: issue.propertyName },
      ),
    },
  };
}

export interface Paging {
  offset: number;
  limit: number;
}

/** The PagedResult envelope (docs/imis-api.md §4); `itemType` is an assembly-qualified name. */
export function pagedResult(itemType: string, all: unknown[], paging: Paging): Record<string, unknown> {
  const items = all.slice(paging.offset, paging.offset + paging.limit);
  const hasNext = paging.offset + items.length < all.length;
  return {
    $type: `Asi.Soa.Core.DataContracts.PagedResult\`1[[${itemType}]], Asi.Contracts`,
    Items: { $type: `System.Collections.Generic.List\`1[[${itemType}]], mscorlib`, $values: items },
    Offset: paging.offset,
    Limit: paging.limit,
    Count: items.length,
    TotalCount: all.length,
    NextPageLink: null,
    HasNext: hasNext,
    // No next page: NextOffset is 0, and clients loop until it is (docs/imis-api.md §4).
    NextOffset: hasNext ? paging.offset + items.length : 0,
  };
}

/**
 * A PagedResult envelope around one page already cut out of a larger result (docs/imis-api.md §4), for
 * results too large to hold in memory. `collectionType` is the `$type` of Items; by default the
 * `List` of pagedResult().
 */
export function pagedPage(
  itemType: string,
  items: unknown[],
  paging: Paging,
  totalCount: number,
  collectionType = `System.Collections.Generic.List\`1[[${itemType}]], mscorlib`,
): Record<string, unknown> {
  const hasNext = paging.offset + items.length < totalCount && items.length > 0;
  return {
    $type: `Asi.Soa.Core.DataContracts.PagedResult\`1[[${itemType}]], Asi.Contracts`,
    Items: { $type: collectionType, $values: items },
    Offset: paging.offset,
    Limit: paging.limit,
    Count: items.length,
    TotalCount: totalCount,
    NextPageLink: null,
    HasNext: hasNext,
    NextOffset: hasNext ? paging.offset + items.length : 0,
  };
}
