/** Small HTTP helpers for the emulator tests: real sockets on 127.0.0.1 with global fetch. */
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import type { GenericEntityData, IdentityData } from '../../src/imis/generic-entity.js';

export const GENERIC_ENTITY = 'Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts';
export const PROPERTY_COLLECTION = 'Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts';
export const PROPERTY = 'Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts';

/**
 * An answer of the emulator: its JSON body (or its text when it is not JSON) read as `T`, the wire
 * shape the caller expects of that route (one of the types below); `unknown` when it reads no field.
 */
export interface JsonReply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A .NET collection as Json.NET writes it: `{ "$type", "$values": [...] }` (docs/imis-api.md §2). */
export interface Collection<T> {
  $type: string;
  $values: T[];
}

/** IdentityData with its elements, as the emulator writes it on the entities it answers. */
export interface Identity {
  $type: string;
  EntityTypeName: string;
  IdentityElements: Collection<string>;
}

/** A GenericEntityData the emulator answers to an insert or a read, with its identities (docs/imis-api.md §2.2). */
export interface EntityAnswer extends GenericEntityData {
  Identity: Identity;
  /** Without IdentityElements for a Standalone panel row. */
  PrimaryParentIdentity: IdentityData;
}

/** A party as `/api/Party` answers it: PersonData (docs/imis-api.md §3), the fields the tests read. */
export interface PersonAnswer {
  $type: string;
  PartyId: string;
  Id: string;
  PersonName: { FirstName: string; LastName: string; FullName: string };
  Emails: Collection<{ Address: string }>;
}

/** The PagedResult envelope (docs/imis-api.md §4) around items of type `T`. */
export interface Paged<T> {
  $type: string;
  Items: Collection<T>;
  Offset: number;
  Limit: number;
  Count: number;
  TotalCount: number;
  NextPageLink: string | null;
  HasNext: boolean;
  NextOffset: number;
}

/** A 400 ValidateResultsData (docs/imis-api.md §2.3). */
export interface Invalid {
  $type: string;
  IsValid: boolean;
  Errors: Collection<{ $type: string; Message: string; PropertyName?: string }>;
}

/** The `{ "Message" }` of a 401, 404 or 405 answer. */
export interface Refusal {
  Message: string;
}

/** The GenericExecuteResult of `POST /api/<entity>/_execute` (docs/imis-api.md §2.4) with its Result. */
export interface Executed<T> {
  $type: string;
  IsSuccessStatusCode: boolean;
  Result: T;
}

/** What POST /token answers: a bearer token with the OWIN fields (docs/imis-api.md §1). */
export interface TokenGrant {
  access_token: string;
  token_type: string;
  expires_in: number;
  userName: string;
  '.issued': string;
  '.expires': string;
}

/** What POST /token answers to a refused request (OAuth 2.0 error). */
export interface TokenError {
  error: string;
  error_description?: string;
}

async function reply<T>(response: Response): Promise<JsonReply<T>> {
  const text = await response.text();
  let body: unknown = text;
  if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: body as T };
}

/** POSTs `form` to the token endpoint; the answer read as `T` (a TokenGrant unless told). */
export async function requestToken<T = TokenGrant>(
  emulator: Emulator,
  form: Record<string, string>,
  path = '/token',
): Promise<JsonReply<T>> {
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
  return body.access_token;
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

/**
 * Calls `/api/...` with a bearer token; an object body is sent as JSON, a string as is. The answer
 * is read as `T`, the wire type the caller expects (`unknown` unless told).
 */
export async function api<T = unknown>(
  emulator: Emulator,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<JsonReply<T>> {
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

/** The first Message of a 400 ValidateResultsData. */
export function firstError(body: unknown): string {
  return (body as Invalid).Errors.$values[0].Message;
}
