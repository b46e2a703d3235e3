/** Small HTTP helpers for the emulator tests: real sockets on 127.0.0.1 with global fetch. */
import { startEmulator, type Emulator } from '../../src/emulator/server.js';

export const GENERIC_ENTITY = 'Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts';
export const PROPERTY_COLLECTION = 'Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts';
export const PROPERTY = 'Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts';

export interface JsonReply {
  status: number;
  headers: Headers;
  body: any;
}

async function reply(response: Response): Promise<JsonReply> {
  const text = await response.text();
  let body: unknown = text;
  if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body };
}

export async function requestToken(
  emulator: Emulator,
  form: Record<string, string>,
  path = '/token',
): Promise<JsonReply> {
  const response = await fetch(emulator.url + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return reply(response);
}

export async function tokenFor(
  emulator: Emulator,
  username = 'MANAGER',
  password = 'manager',
): Promise<string> {
  const { status, body } = await requestToken(emulator, { grant_type: 'password', username, password });
  if (status !== 200) throw new Error(`token request failed: ${status} ${JSON.stringify(body)}`);
  return body.access_token as string;
}

/**
 * The emulator the tests of a describe block share: started before them with a MANAGER token
 * (`use` receives both), its state reset before each test, closed after them.
 */
export function sharedEmulator(use: (shared: { emulator: Emulator; token: string }) => void): void {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
    use({ emulator, token: await tokenFor(emulator) });
  });
  beforeEach(() => emulator.state.reset());
  after(() => emulator.close());
}

/** Calls `/api/...` with a bearer token; an object body is sent as JSON, a string as is. */
export async function api(
  emulator: Emulator,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<JsonReply> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(emulator.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return reply(response);
}

/** A GenericEntityData request body with `$type`s as ASI's Postman collection sends it (docs/imis-api.md §2.2). */
export function entityBody(
  properties: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): unknown {
  return {
    $type: GENERIC_ENTITY,
    ...extra,
    Properties: {
      $type: PROPERTY_COLLECTION,
      $values: Object.entries(properties).map(([Name, Value]) =>
        Value === undefined ? { $type: PROPERTY, Name } : { $type: PROPERTY, Name, Value },
      ),
    },
  };
}

/** The raw wire Value of each property of a GenericEntityData (undefined when Value is omitted). */
export function wireValues(entity: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { Properties } = entity as { Properties: { $values: { Name: string; Value?: unknown }[] } };
  for (const property of Properties.$values) out[property.Name] = property.Value;
  return out;
}

/** Property values with `{"$type", "$value"}` unwrapped. */
export function plainValues(entity: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(wireValues(entity))) {
    out[name] = value !== null && typeof value === 'object' && '$value' in value ? value.$value : value;
  }
  return out;
}

export function firstError(body: unknown): string {
  return (body as { Errors: { $values: { Message: string }[] } }).Errors.$values[0].Message;
}
