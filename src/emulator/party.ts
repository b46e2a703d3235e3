/**
 * `/api/Party`: contacts as PersonData / OrganizationData (docs/imis-api.md §2.4). Parties are stored as
 * flat records (see seed.ts); only the fields the emulator keeps are rendered and updated.
 */
import { invalid, methodNotAllowed, notFound, ValidationError, type Issue } from './errors.js';
import type { ApiRequest, Reply } from './http.js';
import { applyFilters, keyResolver, readFilters, readPaging } from './query.js';
import type { EmulatorState } from './state.js';
import { collectionItems, isRecord } from '../imis/json-net.js';
import { pagedResult, TYPES } from './wire.js';

const MEMBERSHIP = 'Asi.Soa.Membership.DataContracts';
export const PARTY_TYPES = {
  person: `${MEMBERSHIP}.PersonData, Asi.Contracts`,
  organization: `${MEMBERSHIP}.OrganizationData, Asi.Contracts`,
  party: `${MEMBERSHIP}.PartyData, Asi.Contracts`,
} as const;

const STATUS_NAMES: Record<string, string> = { A: 'Active', I: 'Inactive', S: 'Suspended', D: 'Deceased' };
const PARTY_FIELDS = [
  'PartyId',
  'PartyType',
  'FirstName',
  'LastName',
  'OrganizationName',
  'Email',
  'MemberType',
  'Status',
];

const partyField = keyResolver(PARTY_FIELDS);

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** A stored party as iMIS renders it. */
export function renderParty(party: Record<string, unknown>): Record<string, unknown> {
  const partyId = text(party.PartyId);
  const organization = party.PartyType === 'Organization';
  const firstName = text(party.FirstName);
  const lastName = text(party.LastName);
  const name = organization ? text(party.OrganizationName) : [firstName, lastName].filter(Boolean).join(' ');
  const status = text(party.Status) || 'A';
  const body: Record<string, unknown> = {
    $type: organization ? PARTY_TYPES.organization : PARTY_TYPES.person,
  };
  if (organization) {
    body.OrganizationName = name;
  } else {
    body.PersonName = {
      $type: `${MEMBERSHIP}.PersonNameData, Asi.Contracts`,
      FirstName: firstName,
      LastName: lastName,
      FullName: name,
    };
  }
  Object.assign(body, {
    AdditionalAttributes: {
      $type: TYPES.properties,
      $values: [
        { $type: TYPES.property, Name: 'CustomerTypeCode', Value: text(party.MemberType) },
        {
          $type: TYPES.property,
          Name: 'IsCompany',
          Value: { $type: 'System.Boolean', $value: organization },
        },
      ],
    },
    Emails: {
      $type: `${MEMBERSHIP}.EmailDataCollection, Asi.Contracts`,
      $values: text(party.Email)
        ? [
            {
              $type: `${MEMBERSHIP}.EmailData, Asi.Contracts`,
              Address: text(party.Email),
              EmailType: '_Primary',
              IsPrimary: true,
            },
          ]
        : [],
    },
    Id: partyId,
    PartyId: partyId,
    Name: name,
    Sort: organization ? name : [lastName, firstName].filter(Boolean).join(', '),
    SortIsOverridden: false,
    Status: {
      $type: `${MEMBERSHIP}.PartyStatusData, Asi.Contracts`,
      PartyStatusId: status,
      Name: STATUS_NAMES[status] ?? status,
      Description: STATUS_NAMES[status] ?? status,
    },
  });
  return body;
}

function stringField(value: unknown, field: string, issues: Issue[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  issues.push({ message: `${field} must be a string`, propertyName: field });
  return undefined;
}

/** The flat fields a PersonData / OrganizationData body sets. */
function readPartyBody(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw invalid('The request body must be a PersonData or OrganizationData JSON object');
  const issues: Issue[] = [];
  const updates: Record<string, unknown> = {};
  const set = (key: string, value: string | undefined): void => {
    if (value !== undefined) updates[key] = value;
  };
  if (isRecord(body.PersonName)) {
    set('FirstName', stringField(body.PersonName.FirstName, 'FirstName', issues));
    set('LastName', stringField(body.PersonName.LastName, 'LastName', issues));
  }
  set('OrganizationName', stringField(body.OrganizationName, 'OrganizationName', issues));
  const emails = collectionItems(body.Emails);
  if (emails !== undefined) {
    const primary = emails.find((email) => isRecord(email) && email.IsPrimary === true) ?? emails[0];
    set('Email', isRecord(primary) ? stringField(primary.Address, 'Address', issues) : '');
  }
  for (const attribute of collectionItems(body.AdditionalAttributes) ?? []) {
    if (!isRecord(attribute) || attribute.Name !== 'CustomerTypeCode') continue;
    const value = isRecord(attribute.Value) ? attribute.Value.$value : attribute.Value;
    set('MemberType', stringField(value, 'CustomerTypeCode', issues));
  }
  if (isRecord(body.Status)) set('Status', stringField(body.Status.PartyStatusId, 'PartyStatusId', issues));
  if (issues.length > 0) throw new ValidationError(issues);
  return updates;
}

function create(state: EmulatorState, request: ApiRequest): Reply {
  const updates = readPartyBody(request.body);
  const body = request.body as Record<string, unknown>;
  const organization = typeof body.$type === 'string' && body.$type.includes('OrganizationData');
  if (organization ? !updates.OrganizationName : !updates.LastName && !updates.FirstName) {
    throw invalid(organization ? 'OrganizationName is required' : 'PersonName.LastName is required');
  }
  let highest = 0;
  for (const id of state.parties.keys()) highest = Math.max(highest, Number.parseInt(id, 10) || 0);
  const partyId = String(highest + 1);
  const party = {
    PartyId: partyId,
    PartyType: organization ? 'Organization' : 'Person',
    Status: 'A',
    ...updates,
  };
  state.parties.set(partyId, party);
  const rendered = renderParty(party);
  state.notifications.publish('Party.Created', partyId, rendered);
  return {
    status: state.config.createdStatus,
    body: rendered,
    headers: { Location: `${request.baseUrl}/api/Party/${partyId}` },
  };
}

function update(state: EmulatorState, request: ApiRequest, partyId: string): Reply {
  const party = state.parties.get(partyId);
  if (party === undefined) throw notFound(`Party ${partyId} does not exist`);
  const updates = readPartyBody(request.body);
  const body = request.body as Record<string, unknown>;
  for (const key of ['PartyId', 'Id']) {
    if (body[key] !== undefined && body[key] !== null && String(body[key]) !== partyId) {
      throw invalid(`${key} ${String(body[key])} does not match the id in the URL`, key);
    }
  }
  Object.assign(party, updates);
  const rendered = renderParty(party);
  state.notifications.publish('Party.Updated', partyId, rendered);
  return { status: 200, body: rendered };
}

export function partyRoute(state: EmulatorState, request: ApiRequest): Reply {
  if (request.id === undefined) {
    if (request.method === 'POST') return create(state, request);
    if (request.method !== 'GET') throw methodNotAllowed(request.method, ['GET', 'POST']);
    const parties = applyFilters(
      [...state.parties.values()],
      readFilters(request.query),
      (key) => (key.toLowerCase() === 'id' ? 'PartyId' : partyField(key)),
      'Party',
    ).map(renderParty);
    return { status: 200, body: pagedResult(PARTY_TYPES.party, parties, readPaging(request.query)) };
  }
  let partyId: string;
  try {
    partyId = decodeURIComponent(request.id);
  } catch {
    throw invalid(`The id ${request.id} is not valid URL encoding`);
  }
  if (request.method === 'PUT') return update(state, request, partyId);
  if (request.method !== 'GET') throw methodNotAllowed(request.method, ['GET', 'PUT']);
  const party = state.parties.get(partyId);
  if (party === undefined) throw notFound(`Party ${partyId} does not exist`);
  return { status: 200, body: renderParty(party) };
}
