/**
 * iMIS change notifications arrive through Azure Event Grid (docs/imis-api.md §5): a POST whose body is
 * a JSON array of events in the Event Grid schema. This module reads such a body, recognises the
 * "Verify and Save" validation handshake, filters by event type and drops duplicate deliveries.
 */

import { InputError } from './errors.js';

export const VALIDATION_EVENT = 'Microsoft.EventGrid.SubscriptionValidationEvent';

export interface GridEvent {
  id: string;
  eventType: string;
  subject?: string;
  topic?: string;
  eventTime?: string;
  dataVersion?: string;
  metadataVersion?: string;
  data?: unknown;
}

export type GridBody =
  | { kind: 'validation'; validationCode: string; validationUrl?: string }
  | { kind: 'events'; events: GridEvent[] }
  | { kind: 'invalid'; message: string };

/** Reads a parsed JSON body as Event Grid delivers it. */
export function readGridBody(body: unknown): GridBody {
  const list = Array.isArray(body) ? body : body !== null && typeof body === 'object' ? [body] : undefined;
  if (!list) return { kind: 'invalid', message: 'The body must be a JSON array of Event Grid events' };
  const events: GridEvent[] = [];
  for (const [index, item] of list.entries()) {
    if (item === null || typeof item !== 'object')
      return { kind: 'invalid', message: `Event ${index} is not an object` };
    const event = item as Record<string, unknown>;
    if (typeof event.eventType !== 'string' || !event.eventType) {
      return { kind: 'invalid', message: `Event ${index} has no eventType` };
    }
    if (typeof event.id !== 'string' || !event.id)
      return { kind: 'invalid', message: `Event ${index} has no id` };
    // Event Grid validation handshake ("Verify and Save"), docs/imis-api.md §5.
    if (event.eventType === VALIDATION_EVENT) {
      const data = (event.data ?? {}) as Record<string, unknown>;
      if (typeof data.validationCode !== 'string') {
        return { kind: 'invalid', message: 'The validation event has no data.validationCode' };
      }
      const validationUrl = typeof data.validationUrl === 'string' ? data.validationUrl : undefined;
      return { kind: 'validation', validationCode: data.validationCode, validationUrl };
    }
    events.push(event as unknown as GridEvent);
  }
  return { kind: 'events', events };
}

/**
 * An Event Types entry, `Entity.Action` or `Entity.*`, as a RegExp source: the editor checks its
 * field with the same pattern (exposed through the node type's settings).
 */
export const EVENT_TYPE_ENTRY_PATTERN = '^[A-Za-z][A-Za-z0-9_]*\\.(\\*|[A-Za-z][A-Za-z0-9_]*)$';
const ENTRY = new RegExp(EVENT_TYPE_ENTRY_PATTERN);

/** Checks one Event Types entry: `Entity.Action` or `Entity.*`. */
export function isValidEventTypeEntry(entry: string): boolean {
  return ENTRY.test(entry.trim());
}

/**
 * Event Types filter: `Entity.Action` entries, `Entity.*` for every action of an entity, empty
 * list = every event. Matching ignores case on both parts.
 */
export function eventTypeFilter(entries: readonly string[]): (eventType: string) => boolean {
  const cleaned = entries.map((e) => e.trim()).filter(Boolean);
  for (const entry of cleaned) {
    if (!isValidEventTypeEntry(entry))
      throw new InputError(`Invalid event type "${entry}": use Entity.Action or Entity.*`);
  }
  if (cleaned.length === 0) return () => true;
  const exact = new Set<string>();
  const wildcard = new Set<string>();
  for (const entry of cleaned) {
    const [entity, action] = entry.toLowerCase().split('.');
    if (action === '*') wildcard.add(entity);
    else exact.add(`${entity}.${action}`);
  }
  return (eventType: string) => {
    const lower = eventType.toLowerCase();
    return exact.has(lower) || wildcard.has(lower.split('.')[0]);
  };
}

/** The record an event carries itself in `data.Subject` (as iMIS wrote it), if any. */
export function carriedSubject(event: GridEvent): Record<string, unknown> | undefined {
  const data = event.data;
  if (data === null || typeof data !== 'object' || !('Subject' in data)) return undefined;
  const subject = data.Subject;
  return subject !== null && typeof subject === 'object' && !Array.isArray(subject)
    ? (subject as Record<string, unknown>)
    : undefined;
}

/** Entity type and identity of an event, from `data` or else from `subject` ("Party/101"). */
export function eventSubject(event: GridEvent): { entityType: string; id?: string } {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const entityType =
    typeof data.EntityTypeName === 'string' ? data.EntityTypeName : event.eventType.split('.')[0];
  if (typeof data.Identity === 'string' && data.Identity) return { entityType, id: data.Identity };
  const fromSubject = (event.subject ?? '').split('/').filter(Boolean);
  return { entityType, id: fromSubject.length > 1 ? fromSubject[fromSubject.length - 1] : undefined };
}
