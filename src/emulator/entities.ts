/**
 * GenericEntityData endpoints, one implementation for Activity and every panel source
 * (docs/imis-api.md §2.2, §2.4, §3.1): `GET|POST /api/{Entity}`, `GET|PUT|DELETE /api/{Entity}/{identity}`.
 */
import { coerce, encodeValue, today } from './coerce.js';
import { findProperty, identityProperties, type EntityDefinition } from './definitions.js';
import { HttpError, invalid, methodNotAllowed, notFound, ValidationError, type Issue } from './errors.js';
import type { ApiRequest, Reply } from './http.js';
import { applyFilters, readFilters, readPaging } from './query.js';
import type { EmulatorState } from './state.js';
import { decodeEntity, genericEntity, pagedResult, TYPES, type WireEntity } from './wire.js';

type Row = Record<string, unknown>;

/** Encodes a stored row as a response GenericEntityData; `ordinal` overrides the row number shown. */
export function encodeRow(def: EntityDefinition, row: Row, ordinal?: number): Record<string, unknown> {
  const shown =
    ordinal !== undefined && def.ordinalProperty !== undefined
      ? { ...row, [def.ordinalProperty]: ordinal }
      : row;
  return genericEntity({
    entityTypeName: def.entityTypeName,
    primaryParentEntityTypeName: def.primaryParentEntityTypeName,
    identity: identityProperties(def).map((name) => String(shown[name] ?? '')),
    parentIdentity:
      def.parentIdProperty === undefined ? undefined : [String(shown[def.parentIdProperty] ?? '')],
    properties: def.properties.map((prop) => ({
      name: prop.name,
      value: encodeValue(prop.type, shown[prop.name]),
    })),
  });
}

/** Coerces the body's properties by the definition; the map holds canonical names, null = cleared. */
function readValues(def: EntityDefinition, entity: WireEntity, issues: Issue[]): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const wire of entity.properties) {
    const prop = findProperty(def, wire.name);
    if (prop === undefined) {
      issues.push({
        message: `${wire.name} is not a property of ${def.entityTypeName}`,
        propertyName: wire.name,
      });
      continue;
    }
    const coerced = coerce(prop, wire.value);
    if (!coerced.ok) {
      issues.push({ message: coerced.message, propertyName: prop.name });
      continue;
    }
    if (values.has(prop.name) && values.get(prop.name) !== coerced.value) {
      issues.push({ message: `${prop.name} is given twice with different values`, propertyName: prop.name });
      continue;
    }
    values.set(prop.name, coerced.value);
  }
  if (
    entity.entityTypeName !== undefined &&
    entity.entityTypeName.toLowerCase() !== def.entityTypeName.toLowerCase()
  ) {
    issues.unshift({
      message: `EntityTypeName ${entity.entityTypeName} does not match ${def.entityTypeName}`,
    });
  }
  return values;
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

/** Required properties left empty, skipping the server-assigned ordinal. */
function missingRequired(def: EntityDefinition, row: Row, issues: Issue[]): Issue[] {
  const reported = new Set(issues.map((issue) => issue.propertyName));
  return def.properties
    .filter(
      (prop) =>
        prop.required === true &&
        prop.name !== def.ordinalProperty &&
        !reported.has(prop.name) &&
        isEmpty(row[prop.name]),
    )
    .map((prop) => ({ message: `${prop.name} is required`, propertyName: prop.name }));
}

/** The parent id of an insert: from PartyId/ID, PrimaryParentIdentity or Identity (docs/imis-api.md §3.1). */
function resolveParentId(
  def: EntityDefinition,
  entity: WireEntity,
  values: Map<string, unknown>,
): string | undefined {
  const parentProperty = def.parentIdProperty;
  if (parentProperty === undefined) return undefined;
  const fromProperty = values.get(parentProperty);
  const candidates = [
    typeof fromProperty === 'string' && fromProperty.trim() !== '' ? fromProperty.trim() : undefined,
    entity.parentIdentity?.[0]?.trim() || undefined,
    identityProperties(def)[0] === parentProperty ? entity.identity?.[0]?.trim() || undefined : undefined,
  ].filter((candidate): candidate is string => candidate !== undefined);
  const distinct = [...new Set(candidates)];
  if (distinct.length > 1) {
    throw invalid(`The parent id is given as both ${distinct.join(' and ')}`, parentProperty);
  }
  return distinct[0];
}

function insert(state: EmulatorState, def: EntityDefinition, request: ApiRequest): Reply {
  const entity = decodeEntity(request.body);
  const issues: Issue[] = [];
  const values = readValues(def, entity, issues);
  const row: Row = {};
  for (const prop of def.properties) {
    const value = values.get(prop.name);
    if (value !== null && value !== undefined) row[prop.name] = value;
    else if (prop.defaultToday === true) row[prop.name] = today(); // TRANSACTION_DATE defaults to today (docs/imis-api.md §2.2)
  }

  const parentProperty = def.parentIdProperty;
  const parentId = resolveParentId(def, entity, values);
  if (parentProperty !== undefined && parentId !== undefined) {
    row[parentProperty] = parentId;
    if (def.primaryParentEntityTypeName === 'Party' && !state.parties.has(parentId)) {
      issues.push({ message: `Party ${parentId} does not exist`, propertyName: parentProperty });
    }
  }
  issues.push(...missingRequired(def, row, issues));
  // A second insert with the same key fails on a single-instance source (docs/imis-api.md §3.1).
  if (issues.length === 0 && def.objectTypeName === 'Single' && parentId !== undefined) {
    if (state.findRow(def, [parentId]) !== undefined) {
      issues.push({
        message: `${def.entityTypeName} already has a record for ${parentId}; update it with PUT instead`,
        propertyName: parentProperty,
      });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);

  // The server assigns SEQN / Ordinal, whatever the body says.
  if (def.ordinalProperty !== undefined) row[def.ordinalProperty] = state.nextOrdinal(def, parentId);
  const ordered: Row = {};
  for (const prop of def.properties) if (prop.name in row) ordered[prop.name] = row[prop.name];
  state.rowsOf(def).push(ordered);

  // Multi-instance POSTs answer Ordinal/SEQN = 0, a reported iMIS bug, behind a flag (docs/imis-api.md §2.2).
  const zero = state.config.zeroOrdinalBug && def.objectTypeName === 'Multi' ? 0 : undefined;
  const identity = identityProperties(def).map((name) => String(ordered[name]));
  // The event carries the real identity, whatever the zeroOrdinalBug answer says.
  state.notifications.publish(
    `${def.entityTypeName}.Created`,
    identityText(identity),
    encodeRow(def, ordered),
  );
  return {
    status: state.config.createdStatus,
    body: encodeRow(def, ordered, zero),
    headers: { Location: `${request.baseUrl}/api/${def.entityTypeName}/${identityPath(identity)}` },
  };
}

/** An identity as `/api/{Entity}/{id}` takes it, unencoded: `23179` or `~23179|2` (docs/imis-api.md §3.1). */
export function identityText(elements: string[]): string {
  return elements.length === 1 ? elements[0] : `~${elements.join('|')}`;
}

function identityPath(elements: string[]): string {
  const encoded = elements.map(encodeURIComponent);
  return encoded.length === 1 ? encoded[0] : `~${encoded.join('%7C')}`;
}

/** `23179`, `~23179|2` or `~23179%7C2` → identity elements (docs/imis-api.md §3.1). */
function parseIdentity(segment: string): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw invalid(`The identity ${segment} is not valid URL encoding`);
  }
  return decoded.startsWith('~') ? decoded.slice(1).split('|') : [decoded];
}

function requireIdentity(def: EntityDefinition, elements: string[]): void {
  if (elements.length !== identityProperties(def).length) {
    // Message quoted from iMIS forum threads (docs/imis-api.md §2.3).
    throw invalid(
      `ArgumentFault: Incorrect number of identity elements: ${def.entityTypeName} expects ${identityProperties(def).join(' | ')}`,
    );
  }
}

function missingRow(def: EntityDefinition, elements: string[]): HttpError {
  return notFound(
    `${def.entityTypeName} ${elements.length > 1 ? `~${elements.join('|')}` : elements[0]} was not found`,
  );
}

function list(def: EntityDefinition, request: ApiRequest, rows: Row[]): Reply {
  const matching = applyFilters(
    rows,
    readFilters(request.query),
    (key) => findProperty(def, key)?.name,
    def.entityTypeName,
  );
  return {
    status: 200,
    body: pagedResult(
      TYPES.genericEntity,
      matching.map((row) => encodeRow(def, row)),
      readPaging(request.query),
    ),
  };
}

function get(state: EmulatorState, def: EntityDefinition, request: ApiRequest, segment: string): Reply {
  const elements = parseIdentity(segment);
  const parentProperty = def.parentIdProperty;
  // `GET /api/Name_CEU/{ID}` lists every row of that ID on a multi-instance source (docs/imis-api.md §3.1).
  if (elements.length === 1 && identityProperties(def).length === 2 && parentProperty !== undefined) {
    const parentId = elements[0];
    if (def.primaryParentEntityTypeName === 'Party' && !state.parties.has(parentId)) {
      throw notFound(`Party ${parentId} does not exist`);
    }
    return list(
      def,
      request,
      state.rowsOf(def).filter((row) => row[parentProperty] === parentId),
    );
  }
  requireIdentity(def, elements);
  const row = state.findRow(def, elements);
  if (row === undefined) throw missingRow(def, elements);
  return { status: 200, body: encodeRow(def, row) };
}

function update(state: EmulatorState, def: EntityDefinition, request: ApiRequest, segment: string): Reply {
  const elements = parseIdentity(segment);
  requireIdentity(def, elements);
  const entity = decodeEntity(request.body);
  const issues: Issue[] = [];
  const values = readValues(def, entity, issues);
  let row = state.findRow(def, elements);
  const names = identityProperties(def);
  if (row === undefined) {
    // A single-instance row exists for every party in iMIS, so PUT is how it is filled in (docs/imis-api.md §3.1).
    const parentProperty = def.parentIdProperty;
    if (def.objectTypeName !== 'Single' || parentProperty === undefined || !state.parties.has(elements[0])) {
      throw missingRow(def, elements);
    }
    row = { [parentProperty]: elements[0] };
  }
  const stored = state.rowsOf(def).includes(row);
  names.forEach((name, index) => {
    const sent = values.get(name);
    if (sent !== undefined && sent !== null && String(sent) !== elements[index]) {
      issues.push({
        message: `${name} ${String(sent)} does not match the identity in the URL`,
        propertyName: name,
      });
    }
    values.delete(name);
  });
  const next: Row = { ...row };
  for (const [name, value] of values) {
    if (value === null) delete next[name];
    else next[name] = value;
  }
  const parentProperty = def.parentIdProperty;
  if (parentProperty !== undefined && def.primaryParentEntityTypeName === 'Party') {
    const parentId = next[parentProperty];
    if (typeof parentId === 'string' && !state.parties.has(parentId)) {
      issues.push({ message: `Party ${parentId} does not exist`, propertyName: parentProperty });
    }
  }
  issues.push(...missingRequired(def, next, issues));
  if (issues.length > 0) throw new ValidationError(issues);
  for (const key of Object.keys(row)) delete row[key];
  for (const prop of def.properties) if (prop.name in next) row[prop.name] = next[prop.name];
  if (!stored) state.rowsOf(def).push(row);
  const encoded = encodeRow(def, row);
  const identity = identityProperties(def).map((name) => String(row[name] ?? ''));
  state.notifications.publish(`${def.entityTypeName}.Updated`, identityText(identity), encoded);
  return { status: 200, body: encoded };
}

function remove(state: EmulatorState, def: EntityDefinition, segment: string): Reply {
  const elements = parseIdentity(segment);
  requireIdentity(def, elements);
  const row = state.findRow(def, elements);
  if (row === undefined) throw missingRow(def, elements);
  const rows = state.rowsOf(def);
  rows.splice(rows.indexOf(row), 1);
  return { status: 200 };
}

export function entityRoute(state: EmulatorState, def: EntityDefinition, request: ApiRequest): Reply {
  const segment = request.id;
  if (segment === undefined) {
    if (request.method === 'GET') return list(def, request, state.rowsOf(def));
    if (request.method === 'POST') return insert(state, def, request);
    throw methodNotAllowed(request.method, ['GET', 'POST']);
  }
  if (request.method === 'GET') return get(state, def, request, segment);
  if (request.method === 'PUT') return update(state, def, request, segment);
  if (request.method === 'DELETE') return remove(state, def, segment);
  throw methodNotAllowed(request.method, ['GET', 'PUT', 'DELETE']);
}
