/**
 * Definition listings (docs/imis-api.md §3.2): `GET /api/BOEntityDefinition[/{name}]`, with property types,
 * and `GET /api/PanelDefinitionSummary`, the panels made in Panel Designer.
 */
import {
  BO_ENTITY_DEFINITION_TYPE,
  PANEL_DEFINITION_SUMMARY_TYPE,
  renderDefinition,
  renderPanelSummary,
} from './definitions.js';
import { invalid, methodNotAllowed, notFound } from './errors.js';
import type { ApiRequest, Reply } from './http.js';
import { applyFilters, keyResolver, readFilters, readPaging } from './query.js';
import type { EmulatorState } from './state.js';
import { pagedResult } from './wire.js';

function listing(
  items: Record<string, unknown>[],
  request: ApiRequest,
  itemType: string,
  entity: string,
): Reply {
  const keys = new Set(items.flatMap((item) => Object.keys(item)));
  const matching = applyFilters(items, readFilters(request.query), keyResolver(keys), entity);
  return { status: 200, body: pagedResult(itemType, matching, readPaging(request.query)) };
}

export function boEntityDefinitionRoute(state: EmulatorState, request: ApiRequest): Reply {
  if (request.method !== 'GET') throw methodNotAllowed(request.method, ['GET']);
  if (request.id === undefined) {
    const items = [...state.definitions.values()].map(renderDefinition);
    return listing(items, request, BO_ENTITY_DEFINITION_TYPE, 'BOEntityDefinition');
  }
  let name: string;
  try {
    name = decodeURIComponent(request.id);
  } catch {
    throw invalid(`The id ${request.id} is not valid URL encoding`);
  }
  const def = state.definition(name);
  if (def === undefined) throw notFound(`BOEntityDefinition ${name} was not found`);
  return { status: 200, body: renderDefinition(def) };
}

export function panelDefinitionSummaryRoute(state: EmulatorState, request: ApiRequest): Reply {
  if (request.method !== 'GET') throw methodNotAllowed(request.method, ['GET']);
  if (request.id !== undefined) throw notFound('PanelDefinitionSummary has no single-item endpoint');
  const items = [...state.definitions.values()].filter((def) => def.isDesignable).map(renderPanelSummary);
  return listing(items, request, PANEL_DEFINITION_SUMMARY_TYPE, 'PanelDefinitionSummary');
}
