/**
 * The IQA queries the emulator starts with: two over live data (contacts, activities), and two large
 * deterministic synthetic ones for paging and performance, generated row by row on demand.
 */
import type { IqaQuerySpec, IqaRow } from './iqa.js';
import type { EmulatorState } from './state.js';

export const CONTACTS_QUERY = '$/Common/Queries/Search/Contact/All';
export const ACTIVITIES_QUERY = '$/Common/Queries/Activities/By Type';
export const MEMBERS_QUERY = '$/Emulator/Large/Members 25000';
export const ROWS_QUERY = '$/Emulator/Large/Rows 100000x10';

export const MEMBERS_COUNT = 25_000;
export const ROWS_COUNT = 100_000;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** A well-mixed 32-bit hash of (index, salt): deterministic pseudo-random values per row. */
export function mix(index: number, salt: number): number {
  let h = Math.imul(index ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

const FIRST_NAMES =
  'Aisha Ben Carla Dmitri Elena Farid Grace Hiro Ines Jonas Keiko Liam Maya Nils Olga Pedro Quinn Rosa Sanjay Tara'.split(
    ' ',
  );
const LAST_NAMES = (
  'Abbott Baker Chen Diaz Eriksen Fischer Gupta Hughes Ito Jensen Kowalski Lopez Moreau Nakamura ' +
  'Okafor Patel Quist Rossi Silva Tanaka Umar Varga Weber Xu Young'
).split(' ');
const MEMBER_TYPES = ['M', 'M', 'NM', 'STU', 'M', 'CM', 'M', 'NM'];
const CATEGORIES = ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo', 'Foxtrot', 'Golf', 'Hotel'];
const DAY_MS = 86_400_000;
const EPOCH_2000 = Date.UTC(2000, 0, 1);

const pad = (value: number, width: number): string => String(value).padStart(width, '0');
const isoDay = (ms: number): string => `${new Date(ms).toISOString().slice(0, 10)}T00:00:00`;

/** Row `index` (0-based) of the 25,000-member query. */
export function memberRow(index: number): IqaRow {
  const first = FIRST_NAMES[mix(index, 1) % FIRST_NAMES.length];
  const last = LAST_NAMES[mix(index, 2) % LAST_NAMES.length];
  const id = String(200_001 + index);
  return {
    ID: id,
    'Full Name': `${first} ${last}`,
    Email: `${first}.${last}.${id}@example.org`.toLowerCase(),
    'Member Type': MEMBER_TYPES[mix(index, 3) % MEMBER_TYPES.length],
    Status: mix(index, 4) % 10 === 0 ? 'I' : 'A',
    'Join Date': isoDay(EPOCH_2000 + (mix(index, 5) % 9000) * DAY_MS),
  };
}

/** Row `index` (0-based) of the 100,000 × 10 query. */
export function syntheticRow(index: number): IqaRow {
  const number = index + 1;
  return {
    Row: number,
    Code: `R${pad(number, 6)}`,
    Name: `Item ${number}`,
    Category: CATEGORIES[mix(index, 11) % CATEGORIES.length],
    Amount: (mix(index, 12) % 1_000_000) / 100,
    Quantity: mix(index, 13) % 1000,
    Ratio: (mix(index, 14) % 10_000) / 10_000,
    Active: mix(index, 15) % 3 !== 0,
    'Created On': isoDay(EPOCH_2000 + (mix(index, 16) % 9000) * DAY_MS),
    Notes: mix(index, 17) % 5 === 0 ? null : `Note ${mix(index, 18).toString(36)}`,
  };
}

function* indexed(count: number, row: (index: number) => IqaRow): Generator<IqaRow> {
  for (let index = 0; index < count; index++) yield row(index);
}

export function seedQueries(state: EmulatorState): IqaQuerySpec[] {
  return [
    {
      path: CONTACTS_QUERY,
      description: 'All contacts',
      source: 'CsContact',
      columns: [
        { alias: 'ID', type: 'String', caption: 'ID', propertyName: 'Id' },
        { alias: 'Full Name', type: 'String', propertyName: 'FullName' },
        { alias: 'Email', type: 'String' },
        { alias: 'Member Type', type: 'String', propertyName: 'MemberType' },
        { alias: 'Status', type: 'String' },
      ],
      rows: function* (): Generator<IqaRow> {
        for (const party of state.parties.values()) {
          const organization = party.PartyType === 'Organization';
          yield {
            ID: text(party.PartyId),
            'Full Name': organization
              ? text(party.OrganizationName)
              : [text(party.FirstName), text(party.LastName)].filter(Boolean).join(' '),
            Email: text(party.Email),
            'Member Type': text(party.MemberType),
            Status: text(party.Status) || 'A',
          };
        }
      },
    },
    {
      path: ACTIVITIES_QUERY,
      description: 'Activities, optionally of one type',
      source: 'CsActivity',
      entityTypeName: '60',
      columns: [
        { alias: 'ID', type: 'String', propertyName: 'Id' },
        { alias: 'SEQN', type: 'Integer', propertyName: 'Seqn' },
        { alias: 'Activity Type', type: 'String', propertyName: 'ActivityType' },
        { alias: 'Transaction Date', type: 'Date', propertyName: 'TransactionDate' },
        { alias: 'Product Code', type: 'String', propertyName: 'ProductCode' },
        { alias: 'Amount', type: 'Monetary' },
      ],
      parameters: [{ name: 'CsActivity.ActivityType', property: 'Activity Type', op: 'eq' }],
      rows: () =>
        state.activities.map((activity) => ({
          ID: activity.PartyId,
          SEQN: activity.SEQN,
          'Activity Type': activity.ACTIVITY_TYPE,
          'Transaction Date': activity.TRANSACTION_DATE,
          'Product Code': activity.PRODUCT_CODE,
          Amount: activity.AMOUNT,
        })),
    },
    {
      path: MEMBERS_QUERY,
      description: `${MEMBERS_COUNT} synthetic members (deterministic)`,
      source: 'CsContact',
      entityTypeName: '61',
      columns: [
        { alias: 'ID', type: 'String', propertyName: 'Id' },
        { alias: 'Full Name', type: 'String', propertyName: 'FullName' },
        { alias: 'Email', type: 'String' },
        { alias: 'Member Type', type: 'String', propertyName: 'MemberType' },
        { alias: 'Status', type: 'String' },
        { alias: 'Join Date', type: 'Date', propertyName: 'JoinDate' },
      ],
      parameters: [
        { name: 'CsContact.MemberType', property: 'Member Type', op: 'eq' },
        { name: 'CsContact.Status', property: 'Status', op: 'eq' },
      ],
      rows: () => indexed(MEMBERS_COUNT, memberRow),
      size: () => MEMBERS_COUNT,
      rowAt: memberRow,
    },
    {
      path: ROWS_QUERY,
      description: `${ROWS_COUNT} synthetic rows of 10 columns (deterministic)`,
      source: 'Emulator_Synthetic',
      entityTypeName: '62',
      columns: [
        { alias: 'Row', type: 'Integer' },
        { alias: 'Code', type: 'String' },
        { alias: 'Name', type: 'String' },
        { alias: 'Category', type: 'String' },
        { alias: 'Amount', type: 'Monetary' },
        { alias: 'Quantity', type: 'Integer' },
        { alias: 'Ratio', type: 'Double' },
        { alias: 'Active', type: 'Boolean' },
        { alias: 'Created On', type: 'Date', propertyName: 'CreatedOn' },
        { alias: 'Notes', type: 'String' },
      ],
      parameters: [{ name: 'Emulator_Synthetic.Category', property: 'Category', op: 'eq' }],
      rows: () => indexed(ROWS_COUNT, syntheticRow),
      size: () => ROWS_COUNT,
      rowAt: syntheticRow,
    },
  ];
}
