import { InputError } from '../core/errors.js';
import type { ImisClient } from './client.js';
import { decodeEntity, encodeEntity, positiveKey, toWireValue } from './generic-entity.js';
import type { GenericEntityData, WireValue } from './generic-entity.js';
import { isRecord } from './json-net.js';
import { MAX_PAGE_SIZE, fetchAllPages, findRecord } from './paging.js';

export type ActivityFieldType = 'String' | 'Decimal' | 'Integer' | 'Date' | 'Boolean';

export interface ActivityField {
  /** Node config key (camelCase). */
  key: string;
  /** REST property name on the Activity business object. */
  property: string;
  label: string;
  type: ActivityFieldType;
  required?: boolean;
  /** True where docs/imis-api.md §2.2 marks the REST name as INFERRED (only PartyId and ACTIVITY_TYPE are confirmed). */
  inferred: boolean;
}

const field = (
  key: string,
  property: string,
  label: string,
  type: ActivityFieldType = 'String',
  extra: { required?: boolean; inferred?: boolean } = {},
): ActivityField => ({ key, property, label, type, ...extra, inferred: extra.inferred ?? true });

/**
 * Every field of an iMIS activity, in the order an editor shows them. The field set and its typing
 * are CONFIRMED (docs/imis-api.md §2.2, CSI "Create an activity"); the REST spelling is INFERRED from
 * the Activity table's column names except for PartyId and ACTIVITY_TYPE.
 */
export const ACTIVITY_FIELDS: readonly ActivityField[] = [
  field('partyId', 'PartyId', 'iMIS ID', 'String', { required: true, inferred: false }),
  field('activityType', 'ACTIVITY_TYPE', 'Activity Type', 'String', { required: true, inferred: false }),
  // Required by iMIS too, but today's date is used when it is left empty (docs/imis-api.md §2.2).
  field('transactionDate', 'TRANSACTION_DATE', 'Transaction Date', 'Date'),
  field('effectiveDate', 'EFFECTIVE_DATE', 'Effective Date', 'Date'),
  field('thruDate', 'THRU_DATE', 'Thru Date', 'Date'),
  field('ticklerDate', 'TICKLER_DATE', 'Tickler Date', 'Date'),
  field('nextInstallDate', 'NEXT_INSTALL_DATE', 'Next Install Date', 'Date'),
  field('description', 'DESCRIPTION', 'Description'),
  field('productCode', 'PRODUCT_CODE', 'Product Code'),
  field('otherCode', 'OTHER_CODE', 'Other Code'),
  field('category', 'CATEGORY', 'Category'),
  field('note', 'NOTE', 'Note'),
  field('note2', 'NOTE_2', 'Note 2'),
  field('quantity', 'QUANTITY', 'Quantity', 'Decimal'),
  field('amount', 'AMOUNT', 'Amount', 'Decimal'),
  field('units', 'UNITS', 'Units', 'Decimal'),
  field('taxableValue', 'TAXABLE_VALUE', 'Taxable Value', 'Decimal'),
  field('memberType', 'MEMBER_TYPE', 'Member Type'),
  field('actionCodes', 'ACTION_CODES', 'Action Codes'),
  field('sourceSystem', 'SOURCE_SYSTEM', 'Source System'),
  field('sourceCode', 'SOURCE_CODE', 'Source Code'),
  field('campaignCode', 'CAMPAIGN_CODE', 'Campaign Code'),
  field('statusCode', 'STATUS_CODE', 'Status Code'),
  field('payMethod', 'PAY_METHOD', 'Pay Method'),
  field('batchNumber', 'BATCH_NUM', 'Batch Number'),
  field('orgCode', 'ORG_CODE', 'Org Code'),
  field('coId', 'CO_ID', 'Co ID'),
  field('otherId', 'OTHER_ID', 'Other ID'),
  field('solicitorId', 'SOLICITOR_ID', 'Solicitor ID'),
  field('object', 'OBJECT', 'Object'),
  field('intentToEdit', 'INTENT_TO_EDIT', 'Intent To Edit'),
  field('originatingTransNumber', 'ORIGINATING_TRANS_NUM', 'Originating Trans Number', 'Integer'),
  field('attachmentSequence', 'ATTACH_SEQN', 'Attachment Sequence', 'Integer'),
  field('attachmentTotal', 'ATTACH_TOTAL', 'Attachment Total', 'Decimal'),
  field('memorialTributeCode', 'MEM_TRIB_CODE', 'Memorial/Tribute Code'),
  field('gracePeriod', 'GRACE_PERIOD', 'Grace Period', 'Integer'),
  field('recurringRequest', 'RECURRING_REQUEST', 'Recurring Request', 'Boolean'),
  field('uf1', 'UF_1', 'User Field 1'),
  field('uf2', 'UF_2', 'User Field 2'),
  field('uf3', 'UF_3', 'User Field 3'),
  field('uf4', 'UF_4', 'User Field 4', 'Decimal'),
  field('uf5', 'UF_5', 'User Field 5', 'Decimal'),
  field('uf6', 'UF_6', 'User Field 6', 'Date'),
  field('uf7', 'UF_7', 'User Field 7', 'Date'),
];

/** Free text where leading/trailing white space may matter; every other value is trimmed. */
const FREE_TEXT = new Set(['description', 'note', 'note2']);

export interface BuildActivityOptions {
  /** Today in the iMIS site's zone, used when Transaction Date is empty (e.g. `2026-05-27`). */
  today: string;
  /** IANA zone of the iMIS site, for date-times that carry an offset (default: this host's). */
  timeZone?: string;
}

/**
 * The GenericEntityData that creates one activity (docs/imis-api.md §2.2), from text values keyed as in
 * ACTIVITY_FIELDS. Empty values are left out; numbers, yes/no and dates are converted to their
 * field's type. Dates follow `toImisDateTime`: a date or a date-time without zone is taken as
 * iMIS local time as written; a date-time with a zone is converted to `timeZone`'s wall clock.
 * Throws an InputError naming the field when a value does not fit, or when ID/Activity Type is empty.
 */
export function buildActivity(
  values: Record<string, string | undefined>,
  opts: BuildActivityOptions,
): GenericEntityData {
  const known = new Map(ACTIVITY_FIELDS.map((f) => [f.key, f]));
  const unknown = Object.keys(values).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new InputError(`Unknown activity field(s): ${unknown.join(', ')}`);
  }
  const properties: Record<string, WireValue | undefined> = {};
  for (const f of ACTIVITY_FIELDS) {
    const raw = values[f.key];
    let value = raw === undefined || FREE_TEXT.has(f.key) ? raw : raw.trim();
    if (value !== undefined && value.trim() === '') value = undefined;
    if (value === undefined && f.key === 'transactionDate') value = opts.today;
    if (value === undefined) {
      if (f.required) throw new InputError(`${f.label} is required to insert an activity, but it is empty`);
      continue;
    }
    properties[f.property] = toWireValue(value, f.type, {
      name: `${f.label} (${f.property})`,
      timeZone: opts.timeZone,
    });
  }
  return encodeEntity({
    entityTypeName: 'Activity',
    parentEntityTypeName: 'Party',
    parentId: values.partyId?.trim(),
    properties,
  });
}

export interface InsertedActivity {
  /** The new activity's SEQN (primary key); null when iMIS did not report it. */
  seqn: number | null;
  /** The created activity as a flat object. */
  record: Record<string, unknown>;
  /** iMIS's answer as received. */
  raw: unknown;
}

/** Inserts one new activity (`POST /api/Activity`); never updates or de-duplicates. */
export async function insertActivity(
  client: ImisClient,
  values: Record<string, string | undefined>,
  opts: BuildActivityOptions,
): Promise<InsertedActivity> {
  const entity = buildActivity(values, opts);
  const raw = await client.request('POST', '/api/Activity', { data: entity });
  // iMIS answers with the created entity; should a server answer without a body, report what was sent.
  const record = isRecord(raw) ? decodeEntity(raw) : decodeEntity(entity);
  return { seqn: positiveKey(record.SEQN), record, raw };
}

/** The fields a de-duplication key can be written into: free text ones, but the required ones. */
export const KEY_FIELDS: readonly ActivityField[] = ACTIVITY_FIELDS.filter(
  (f) => f.type === 'String' && !f.required,
);

/**
 * The activity of `partyId` whose field `fieldKey` (a KEY_FIELDS key) holds `value`, as a flat
 * object; undefined when there is none.
 */
export async function findActivity(
  client: ImisClient,
  partyId: string,
  fieldKey: string,
  value: string,
): Promise<Record<string, unknown> | undefined> {
  const f = KEY_FIELDS.find((k) => k.key === fieldKey);
  if (!f) throw new InputError(`An activity's key cannot be kept in "${fieldKey}": choose a text field`);
  return findRecord(client, 'Activity', { PartyId: partyId.trim(), [f.property]: value });
}

/**
 * The activity types the site uses, most used first: iMIS documents no list of activity types
 * (docs/imis-api.md §2.2 names only the Activity endpoints), so they are read from the first page of
 * `GET /api/Activity` (at most `sample` activities). Suggestions for the editor, not a validation.
 */
export async function listActivityTypes(client: ImisClient, sample = MAX_PAGE_SIZE): Promise<string[]> {
  const rows = await fetchAllPages(client, '/api/Activity', { pageSize: sample, maxPages: 1 });
  const counts = new Map<string, number>();
  for (const row of rows) {
    const type = decodeEntity(row).ACTIVITY_TYPE;
    if (typeof type === 'string' && type.trim() !== '') counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([type]) => type);
}
