import { InputError } from '../core/errors.js';
import type { ImisClient } from './client.js';
import { ImisError } from './errors.js';
import { decodeEntity, encodeEntity, positiveKey, toWireValue } from './generic-entity.js';
import type { PropertyType, WireValue } from './generic-entity.js';
import { collectionItems, isRecord } from './json-net.js';
import { fetchAllPages, findRecord } from './paging.js';

export interface PanelProperty {
  name: string;
  /** iMIS PropertyTypeName: String, Integer, Boolean, Date, Decimal, Monetary, Binary (docs/imis-api.md §3.2). */
  type: string;
  caption: string;
  isIdentity: boolean;
  required: boolean;
  maxLength?: number;
}

export interface PanelInfo {
  /** The panel source / business object name, also its endpoint: `/api/{name}`. */
  name: string;
  description: string;
  objectType: 'Multi' | 'Single' | string;
  /** Party (contacts), Event, Invoice or Standalone (docs/imis-api.md §3.1). */
  parentType: string;
  properties: PanelProperty[];
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** `Asi.Soa.Core.DataContracts.PropertyTypeDateTimeData, ...` → `DateTime`. */
function typeFromDollarType(value: unknown): string {
  return /PropertyType(\w+?)Data\b/.exec(text(value))?.[1] ?? 'String';
}

function toProperty(raw: unknown): PanelProperty | undefined {
  if (!isRecord(raw) || !text(raw.Name)) return undefined;
  const property: PanelProperty = {
    name: text(raw.Name),
    type: text(raw.PropertyTypeName) || typeFromDollarType(raw.$type),
    caption: text(raw.Caption) || text(raw.Name),
    isIdentity: raw.IsIdentity === true,
    required: raw.Required === true,
  };
  if (typeof raw.MaxLength === 'number') property.maxLength = raw.MaxLength;
  return property;
}

/** A BOEntityDefinitionData (docs/imis-api.md §3.2) as a PanelInfo; undefined when it is not one. */
export function toPanelInfo(raw: unknown): PanelInfo | undefined {
  if (!isRecord(raw) || !text(raw.EntityTypeName)) return undefined;
  return {
    name: text(raw.EntityTypeName),
    description: text(raw.Description),
    objectType: text(raw.ObjectTypeName),
    parentType: text(raw.PrimaryParentEntityTypeName),
    properties: (collectionItems(raw.Properties) ?? [])
      .map(toProperty)
      .filter((p): p is PanelProperty => p !== undefined),
  };
}

/** Panels are single- or multi-instance sources; `Standard` objects (Party, Activity...) are not. */
function isPanel(panel: PanelInfo): boolean {
  return /^(multi|single)$/i.test(panel.objectType);
}

/** Every panel source of the site, by name (`GET /api/BOEntityDefinition`, all pages). */
export async function listPanels(client: ImisClient): Promise<PanelInfo[]> {
  const all = await fetchAllPages(client, '/api/BOEntityDefinition');
  return all
    .map(toPanelInfo)
    .filter((p): p is PanelInfo => p !== undefined && isPanel(p))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** One panel source's definition, by name (case-insensitive). */
export async function getPanel(client: ImisClient, name: string): Promise<PanelInfo> {
  try {
    const raw = await client.request('GET', `/api/BOEntityDefinition/${encodeURIComponent(name)}`);
    const panel = toPanelInfo(raw);
    if (panel) return panel;
  } catch (err) {
    // Some sites key definitions differently: fall back to the list below.
    if (!(err instanceof ImisError) || (err.kind !== 'not-found' && err.kind !== 'rejected')) throw err;
  }
  const wanted = name.toLowerCase();
  const panel = (await listPanels(client)).find((p) => p.name.toLowerCase() === wanted);
  if (!panel) {
    throw new ImisError('not-found', `iMIS has no panel source named "${name}"`, {
      method: 'GET',
      path: '/api/BOEntityDefinition',
    });
  }
  return panel;
}

/** Codec type of an iMIS PropertyTypeName; Binary cannot come from a template. */
function codecType(panel: PanelInfo, property: PanelProperty): PropertyType {
  switch (property.type.toLowerCase()) {
    case 'integer':
    case 'int32':
      return 'Integer';
    case 'boolean':
      return 'Boolean';
    case 'date':
    case 'datetime':
      return 'Date';
    case 'decimal':
    case 'monetary':
      return 'Decimal';
    case 'double':
      return 'Double';
    case 'binary':
      throw new InputError(`${panel.name}.${property.name} is a binary column and cannot be set from text`);
    default:
      return 'String';
  }
}

/** ID columns in order of preference: Panel Designer `ID`, legacy `PartyId`, Event and Invoice parents (docs/imis-api.md §3.1). */
const ID_COLUMNS = ['ID', 'PartyId', 'EventKey', 'InvoiceId'];

/** The property that carries the parent's ID, or undefined for a Standalone panel. */
export function idPropertyOf(panel: PanelInfo): string | undefined {
  for (const candidate of ID_COLUMNS) {
    const found = panel.properties.find((p) => p.name.toLowerCase() === candidate.toLowerCase());
    if (found) return found.name;
  }
  const parent = panel.parentType.toLowerCase();
  if (parent === 'standalone') return undefined;
  if (parent === 'event') return 'EventKey';
  if (parent === 'invoice') return 'InvoiceId';
  return 'PartyId';
}

export interface InsertedPanelRow {
  /** The created row as a flat object. */
  record: Record<string, unknown>;
  /** Ordinal (Panel Designer) or SEQN (legacy tables) of a multi-instance row; null when unknown or 0 (docs/imis-api.md §2.2 quirk). */
  ordinal: number | null;
  raw: unknown;
}

/**
 * Inserts one row into a panel for the given ID (`POST /api/{panel}`, docs/imis-api.md §3.1).
 * `values` are text by column name; empty ones are left out, the others converted to the column's
 * type (dates as in `toImisDateTime`).
 */
export async function insertPanelRow(
  client: ImisClient,
  panel: PanelInfo,
  id: string,
  values: Record<string, string | undefined>,
  opts: { timeZone?: string } = {},
): Promise<InsertedPanelRow> {
  const idProperty = idPropertyOf(panel);
  const parentId = id.trim();
  if (idProperty && parentId === '') {
    throw new InputError(`An ID is required to insert a row into panel ${panel.name}, but it is empty`);
  }
  const columns = new Map(panel.properties.map((p) => [p.name.toLowerCase(), p]));
  const unknown = Object.keys(values).filter((k) => !columns.has(k.toLowerCase()));
  if (unknown.length > 0) {
    throw new InputError(
      `Panel ${panel.name} has no column ${unknown.map((k) => `"${k}"`).join(', ')}; ` +
        `its columns are ${panel.properties.map((p) => p.name).join(', ')}`,
    );
  }

  const properties: Record<string, WireValue | undefined> = {};
  if (idProperty) properties[idProperty] = parentId;
  for (const [key, value] of Object.entries(values)) {
    const column = columns.get(key.toLowerCase());
    if (!column || column.name === idProperty || value === undefined || value.trim() === '') continue;
    const type = codecType(panel, column);
    properties[column.name] = toWireValue(type === 'String' ? value : value.trim(), type, {
      name: `${panel.name}.${column.name}`,
      timeZone: opts.timeZone,
    });
  }
  const entity = encodeEntity({
    entityTypeName: panel.name,
    parentEntityTypeName: panel.parentType || 'Party',
    parentId: idProperty ? parentId : undefined,
    properties,
  });
  const raw = await client.request('POST', `/api/${encodeURIComponent(panel.name)}`, { data: entity });
  const record = isRecord(raw) ? decodeEntity(raw) : decodeEntity(entity);
  return { record, ordinal: positiveKey(record.Ordinal ?? record.SEQN), raw };
}

/**
 * The row of `panel` for `id` whose column `column` holds `value`, as a flat object; undefined when
 * there is none.
 */
export async function findPanelRow(
  client: ImisClient,
  panel: PanelInfo,
  id: string,
  column: string,
  value: string,
): Promise<Record<string, unknown> | undefined> {
  const property = panel.properties.find((p) => p.name.toLowerCase() === column.trim().toLowerCase());
  if (!property) throw new InputError(`Panel ${panel.name} has no column "${column}" to keep the key in`);
  const idProperty = idPropertyOf(panel);
  return findRecord(client, panel.name, {
    ...(idProperty ? { [idProperty]: id.trim() } : {}),
    [property.name]: value,
  });
}
