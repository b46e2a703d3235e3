import type { ImisClient } from './client.js';
import { ImisError } from './errors.js';
import { decodeEntity } from './generic-entity.js';

/** One contact (`GET /api/Party/{id}`, IMIS-API.md §2.4) as plain JSON. */
export async function getParty(client: ImisClient, id: string): Promise<Record<string, unknown>> {
  const key = id.trim();
  if (key === '') throw new TypeError('An iMIS ID is required to read a contact, but it is empty');
  const path = `/api/Party/${encodeURIComponent(key)}`;
  try {
    return decodeEntity(await client.request('GET', path));
  } catch (err) {
    if (err instanceof ImisError && err.kind === 'not-found') {
      throw new ImisError('not-found', `iMIS has no contact with ID ${key}`, {
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
