// Reading one record by its ID: a contact (Party) or any entity the REST API serves by ID.
import { InputError } from '../core/errors.js';
import type { ImisClient } from './client.js';
import { ImisError } from './errors.js';
import { decodeEntity } from './generic-entity.js';

/** One contact (`GET /api/Party/{id}`, docs/imis-api.md §2.4) as plain JSON. */
export async function getParty(client: ImisClient, id: string): Promise<Record<string, unknown>> {
  return readById(client, 'Party', id, 'contact', 'An iMIS ID');
}

/**
 * One record of any entity type (`GET /api/{entityType}/{id}`, docs/imis-api.md §2.1), flattened by
 * decodeEntity. A panel row's ID is its identity elements as iMIS writes them, e.g. `~23179|2`.
 */
export async function getEntity(
  client: ImisClient,
  entityType: string,
  id: string,
): Promise<Record<string, unknown>> {
  const type = entityType.trim();
  if (type === '') throw new InputError('An entity type is required to read a record, but it is empty');
  return readById(client, type, id, type, 'An ID');
}

async function readById(
  client: ImisClient,
  entityType: string,
  id: string,
  noun: string,
  idName: string,
): Promise<Record<string, unknown>> {
  const key = id.trim();
  if (key === '') throw new InputError(`${idName} is required to read a ${noun}, but it is empty`);
  const path = `/api/${encodeURIComponent(entityType)}/${encodeURIComponent(key)}`;
  try {
    return decodeEntity(await client.request('GET', path));
  } catch (err) {
    if (err instanceof ImisError && err.kind === 'not-found') {
      // iMIS's own words are kept: a 404 may also mean that the entity type is unknown.
      const said = err.imisMessages.length ? `: ${err.imisMessages.join('; ')}` : '';
      throw new ImisError('not-found', `iMIS has no ${noun} with ID ${key}${said}`, {
        status: err.status,
        imisMessages: err.imisMessages,
        body: err.body,
        method: err.method,
        path: err.path,
        cause: err,
      });
    }
    throw err;
  }
}
