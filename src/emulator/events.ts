/**
 * A minimal `/api/Event`, enough for `Event.Created` / `Event.Updated` change notifications
 * (docs/imis-api.md §5 confirms "creating and updating events" among them) and for check-in examples.
 * iMIS's EventData is far richer; the fields kept here and their names are INFERRED.
 */
import { normalizeDate } from './coerce.js';
import { invalid, methodNotAllowed, notFound, ValidationError, type Issue } from './errors.js';
import type { ApiRequest, Reply } from './http.js';
import { applyFilters, keyResolver, readFilters, readPaging } from './query.js';
import type { EmulatorState } from './state.js';
import { isRecord } from '../imis/json-net.js';
import { decodeEntity, pagedResult } from './wire.js';

export const EVENT_TYPE = 'Asi.Soa.Events.DataContracts.EventData, Asi.Contracts';

/** Stored fields, in rendering order. */
export const EVENT_FIELDS = [
  'EventCode',
  'Name',
  'Description',
  'StartDateTime',
  'EndDateTime',
  'Status',
] as const;
type EventField = (typeof EVENT_FIELDS)[number];

/** Accepted spellings of each field on input, lower-case. */
const ALIASES: Record<string, EventField> = {
  eventcode: 'EventCode',
  eventid: 'EventCode',
  code: 'EventCode',
  name: 'Name',
  description: 'Description',
  startdatetime: 'StartDateTime',
  startdate: 'StartDateTime',
  enddatetime: 'EndDateTime',
  enddate: 'EndDateTime',
  status: 'Status',
};
const DATES = new Set<EventField>(['StartDateTime', 'EndDateTime']);

export function seedEvents(): Record<string, unknown>[] {
  return [
    {
      EventCode: 'ANNUAL2026',
      Name: 'Annual Conference 2026',
      Description: 'Three days of sessions and workshops',
      StartDateTime: '2026-09-14T09:00:00',
      EndDateTime: '2026-09-16T17:00:00',
      Status: 'A',
    },
    {
      EventCode: 'WEB0611',
      Name: 'Ethics webinar',
      StartDateTime: '2026-06-11T12:00:00',
      EndDateTime: '2026-06-11T13:00:00',
      Status: 'A',
    },
  ];
}

/** A stored event as EventData. */
export function renderEvent(event: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = { $type: EVENT_TYPE, EventId: event.EventCode };
  for (const name of EVENT_FIELDS) if (event[name] !== undefined) body[name] = event[name];
  return body;
}

/** The fields a body sets: GenericEntityData or a plain EventData-like object. */
function readEventBody(body: unknown): Map<EventField, string | null> {
  if (!isRecord(body))
    throw invalid('The request body must be an EventData or GenericEntityData JSON object');
  const pairs: [string, unknown][] =
    body.Properties !== undefined
      ? decodeEntity(body).properties.map((property) => [property.name, property.value])
      : Object.entries(body).filter(([key]) => !key.startsWith('$') && key !== 'EntityTypeName');
  const issues: Issue[] = [];
  const values = new Map<EventField, string | null>();
  for (const [key, raw] of pairs) {
    const name = ALIASES[key.toLowerCase()];
    if (name === undefined) {
      issues.push({ message: `${key} is not a property of Event`, propertyName: key });
      continue;
    }
    if (raw === null || raw === undefined || raw === '') {
      values.set(name, null);
      continue;
    }
    if (typeof raw !== 'string') {
      issues.push({ message: `${name} must be text`, propertyName: name });
      continue;
    }
    if (DATES.has(name)) {
      const date = normalizeDate(raw);
      if (date === undefined)
        issues.push({ message: `${name} is not a valid date: '${raw}'`, propertyName: name });
      else values.set(name, date);
      continue;
    }
    values.set(name, raw.trim());
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return values;
}

function findEvent(state: EmulatorState, code: string): Record<string, unknown> | undefined {
  const lower = code.toLowerCase();
  for (const [key, event] of state.events) if (key.toLowerCase() === lower) return event;
  return undefined;
}

function create(state: EmulatorState, request: ApiRequest): Reply {
  const values = readEventBody(request.body);
  const code = values.get('EventCode');
  const issues: Issue[] = [];
  if (!code) issues.push({ message: 'EventCode is required', propertyName: 'EventCode' });
  else if (code.length > 10)
    issues.push({ message: 'EventCode is longer than 10 characters', propertyName: 'EventCode' });
  else if (findEvent(state, code) !== undefined) {
    issues.push({ message: `An event with the code ${code} already exists`, propertyName: 'EventCode' });
  }
  if (!values.get('Name')) issues.push({ message: 'Name is required', propertyName: 'Name' });
  if (issues.length > 0 || !code) throw new ValidationError(issues);
  const event: Record<string, unknown> = { Status: 'A' };
  for (const name of EVENT_FIELDS) {
    const value = values.get(name);
    if (value !== null && value !== undefined) event[name] = value;
  }
  state.events.set(code, event);
  const rendered = renderEvent(event);
  state.notifications.publish('Event.Created', code, rendered);
  return {
    status: state.config.createdStatus,
    body: rendered,
    headers: { Location: `${request.baseUrl}/api/Event/${encodeURIComponent(code)}` },
  };
}

function update(state: EmulatorState, request: ApiRequest, code: string): Reply {
  const event = findEvent(state, code);
  if (event === undefined) throw notFound(`Event ${code} was not found`);
  const values = readEventBody(request.body);
  const sent = values.get('EventCode');
  if (sent && sent.toLowerCase() !== String(event.EventCode).toLowerCase()) {
    throw invalid(`EventCode ${sent} does not match the id in the URL`, 'EventCode');
  }
  values.delete('EventCode');
  if (values.get('Name') === null) throw invalid('Name is required', 'Name');
  for (const [name, value] of values) {
    if (value === null) delete event[name];
    else event[name] = value;
  }
  const rendered = renderEvent(event);
  state.notifications.publish('Event.Updated', String(event.EventCode), rendered);
  return { status: 200, body: rendered };
}

export function eventRoute(state: EmulatorState, request: ApiRequest): Reply {
  if (request.id === undefined) {
    if (request.method === 'POST') return create(state, request);
    if (request.method !== 'GET') throw methodNotAllowed(request.method, ['GET', 'POST']);
    const events = applyFilters(
      [...state.events.values()],
      readFilters(request.query),
      (key) => (key.toLowerCase() === 'eventid' ? 'EventCode' : keyResolver(EVENT_FIELDS)(key)),
      'Event',
    ).map(renderEvent);
    return { status: 200, body: pagedResult(EVENT_TYPE, events, readPaging(request.query)) };
  }
  let code: string;
  try {
    code = decodeURIComponent(request.id);
  } catch {
    throw invalid(`The id ${request.id} is not valid URL encoding`);
  }
  if (request.method === 'PUT') return update(state, request, code);
  if (request.method !== 'GET') throw methodNotAllowed(request.method, ['GET', 'PUT']);
  const event = findEvent(state, code);
  if (event === undefined) throw notFound(`Event ${code} was not found`);
  return { status: 200, body: renderEvent(event) };
}
