/**
 * Business-object definitions the emulator serves: Activity and the seeded panel sources
 * (docs/imis-api.md §2.2, §3), and their BOEntityDefinitionData / PanelDefinitionSummary renderings.
 */

/**
 * Property types of BOEntityDefinition (docs/imis-api.md §3.2). `Double` is our addition for legacy
 * user-defined table columns such as CEU_Hours, whose values travel as System.Double (§2.1).
 */
export type PropertyType =
  'String' | 'Integer' | 'Boolean' | 'Date' | 'Decimal' | 'Monetary' | 'Double' | 'Binary';

export interface PropertyDefinition {
  name: string;
  type: PropertyType;
  caption: string;
  maxLength?: number;
  required?: boolean;
  /** Set to today's date when an insert leaves it empty (Activity TRANSACTION_DATE, docs/imis-api.md §2.2). */
  defaultToday?: boolean;
}

export interface EntityDefinition {
  entityTypeName: string;
  objectTypeName: 'Multi' | 'Single' | 'Standard';
  primaryParentEntityTypeName: 'Party' | 'Standalone';
  description: string;
  /** Made in Panel Designer (it has a PanelDefinition); false for legacy user-defined tables and Activity. */
  isDesignable: boolean;
  /** Property carrying the parent's id: `PartyId` (legacy tables, Activity) or `ID` (Panel Designer). */
  parentIdProperty?: string;
  /** Row number the server assigns on insert: `SEQN` (legacy tables, Activity) or `Ordinal` (Panel Designer). */
  ordinalProperty?: string;
  /** `parent`: 1, 2, ... per parent id; `global`: one sequence for the whole entity. */
  ordinalScope?: 'parent' | 'global';
  /** First value of a global sequence. */
  ordinalStart?: number;
  properties: PropertyDefinition[];
}

/** Names making up Identity.IdentityElements, in order (`~{ID}|{SEQN}` for multi-instance, docs/imis-api.md §3.1). */
export function identityProperties(def: EntityDefinition): string[] {
  if (def.ordinalProperty !== undefined && def.ordinalScope === 'global') return [def.ordinalProperty];
  const names: string[] = [];
  if (def.parentIdProperty !== undefined) names.push(def.parentIdProperty);
  if (def.ordinalProperty !== undefined) names.push(def.ordinalProperty);
  return names;
}

/** Finds a property by name, case-insensitively; `PartyId` and `ID` both reach the parent id (docs/imis-api.md §3.1). */
export function findProperty(def: EntityDefinition, name: string): PropertyDefinition | undefined {
  const lower = name.toLowerCase();
  const exact = def.properties.find((property) => property.name.toLowerCase() === lower);
  if (exact !== undefined || def.parentIdProperty === undefined) return exact;
  if (lower !== 'partyid' && lower !== 'id') return undefined;
  const parentId = def.parentIdProperty;
  return def.properties.find((property) => property.name === parentId);
}

function property(
  name: string,
  type: PropertyType,
  caption: string,
  extra: Partial<Omit<PropertyDefinition, 'name' | 'type' | 'caption'>> = {},
): PropertyDefinition {
  return { name, type, caption, ...extra };
}

const text = (name: string, caption: string, maxLength?: number): PropertyDefinition =>
  maxLength === undefined
    ? property(name, 'String', caption)
    : property(name, 'String', caption, { maxLength });

/**
 * Activity (docs/imis-api.md §2.2). `PartyId` and `ACTIVITY_TYPE` are confirmed REST spellings; the other
 * names follow the Activity table columns (inferred), typed as CSI's connector shows (UF_4-5 decimal,
 * UF_6-7 dates).
 */
function activityDefinition(): EntityDefinition {
  return {
    entityTypeName: 'Activity',
    objectTypeName: 'Standard',
    primaryParentEntityTypeName: 'Party',
    description: 'Activity history of a contact',
    isDesignable: false,
    parentIdProperty: 'PartyId',
    ordinalProperty: 'SEQN',
    ordinalScope: 'global',
    // Postman's example Activity id is 16565 (docs/imis-api.md §2.2): new ones follow it.
    ordinalStart: 16566,
    properties: [
      property('SEQN', 'Integer', 'Sequence'),
      property('PartyId', 'String', 'iMIS ID', { maxLength: 10, required: true }),
      property('ACTIVITY_TYPE', 'String', 'Activity Type', { maxLength: 10, required: true }),
      property('TRANSACTION_DATE', 'Date', 'Transaction Date', { defaultToday: true }),
      property('EFFECTIVE_DATE', 'Date', 'Effective Date'),
      property('THRU_DATE', 'Date', 'Thru Date'),
      property('TICKLER_DATE', 'Date', 'Tickler Date'),
      property('NEXT_INSTALL_DATE', 'Date', 'Next Install Date'),
      text('DESCRIPTION', 'Description', 255),
      text('PRODUCT_CODE', 'Product Code', 31),
      text('OTHER_CODE', 'Other Code', 255),
      text('CATEGORY', 'Category', 15),
      text('NOTE', 'Note'),
      text('NOTE_2', 'Note 2'),
      property('QUANTITY', 'Decimal', 'Quantity'),
      property('AMOUNT', 'Monetary', 'Amount'),
      property('UNITS', 'Decimal', 'Units'),
      property('TAXABLE_VALUE', 'Monetary', 'Taxable Value'),
      text('MEMBER_TYPE', 'Member Type', 5),
      text('ACTION_CODES', 'Action Codes', 255),
      text('SOURCE_SYSTEM', 'Source System', 10),
      text('SOURCE_CODE', 'Source Code', 40),
      text('CAMPAIGN_CODE', 'Campaign Code', 10),
      text('STATUS_CODE', 'Status Code', 5),
      text('PAY_METHOD', 'Pay Method', 10),
      text('BATCH_NUM', 'Batch Number', 15),
      text('ORG_CODE', 'Org Code', 5),
      text('CO_ID', 'Co ID', 10),
      text('OTHER_ID', 'Other ID', 10),
      text('SOLICITOR_ID', 'Solicitor ID', 10),
      text('OBJECT', 'Object'),
      text('INTENT_TO_EDIT', 'Intent To Edit', 80),
      property('ORIGINATING_TRANS_NUM', 'Integer', 'Originating Trans Number'),
      property('ATTACH_SEQN', 'Integer', 'Attachment Sequence'),
      property('ATTACH_TOTAL', 'Monetary', 'Attachment Total'),
      text('MEM_TRIB_CODE', 'Memorial/Tribute Code', 10),
      property('GRACE_PERIOD', 'Integer', 'Grace Period'),
      property('RECURRING_REQUEST', 'Boolean', 'Recurring Request'),
      text('UF_1', 'UF1', 255),
      text('UF_2', 'UF2', 255),
      text('UF_3', 'UF3', 255),
      property('UF_4', 'Decimal', 'UF4'),
      property('UF_5', 'Decimal', 'UF5'),
      property('UF_6', 'Date', 'UF6'),
      property('UF_7', 'Date', 'UF7'),
    ],
  };
}

/**
 * A table owned by a party: its parent id column, plus an ordinal column when multi-instance.
 * Legacy user-defined tables use PartyId + SEQN; Panel Designer sources ID + Ordinal
 * (docs/imis-api.md §3.1).
 */
function partyChild(
  columnsOf: { parentId: string; ordinal: string; isDesignable: boolean },
  entityTypeName: string,
  objectTypeName: 'Multi' | 'Single',
  description: string,
  columns: PropertyDefinition[],
): EntityDefinition {
  const { parentId, ordinal, isDesignable } = columnsOf;
  const def: EntityDefinition = {
    entityTypeName,
    objectTypeName,
    primaryParentEntityTypeName: 'Party',
    description,
    isDesignable,
    parentIdProperty: parentId,
    properties: [property(parentId, 'String', 'ID', { maxLength: 10, required: true })],
  };
  if (objectTypeName === 'Multi') {
    def.ordinalProperty = ordinal;
    def.ordinalScope = 'parent';
    def.properties.push(property(ordinal, 'Integer', ordinal));
  }
  def.properties.push(...columns);
  return def;
}

const legacyTable = partyChild.bind(null, { parentId: 'PartyId', ordinal: 'SEQN', isDesignable: false });
const designerSource = partyChild.bind(null, { parentId: 'ID', ordinal: 'Ordinal', isDesignable: true });

/** Standalone panels are multi-instance only and have no parent id (docs/imis-api.md §3.1). */
function standaloneSource(
  entityTypeName: string,
  description: string,
  columns: PropertyDefinition[],
): EntityDefinition {
  return {
    entityTypeName,
    objectTypeName: 'Multi',
    primaryParentEntityTypeName: 'Standalone',
    description,
    isDesignable: true,
    ordinalProperty: 'Ordinal',
    ordinalScope: 'global',
    ordinalStart: 1,
    properties: [property('Ordinal', 'Integer', 'Ordinal'), ...columns],
  };
}

/** Fresh copies of every definition the emulator starts with. */
export function seedDefinitions(): EntityDefinition[] {
  return [
    activityDefinition(),
    legacyTable('Name_CEU', 'Multi', 'Continuing education units', [
      property('CEU_Hours', 'Double', 'CEU Hours'),
      text('CEU_Notes', 'Notes', 255),
      text('CEU_Course', 'Course', 50),
    ]),
    legacyTable('Name_Demo', 'Single', 'Demographics', [
      text('Favorite_Color', 'Favorite Color', 30),
      property('Years_In_Field', 'Integer', 'Years in Field'),
      property('Newsletter_OptIn', 'Boolean', 'Newsletter Opt-in'),
      property('Joined_Date', 'Date', 'Joined Date'),
    ]),
    designerSource('ABC_EventAttendance', 'Multi', 'Event check-ins', [
      text('EventCode', 'Event Code', 15),
      text('SessionCode', 'Session Code', 15),
      property('CheckInTime', 'Date', 'Check-in Time'),
      text('Notes', 'Notes', 500),
    ]),
    designerSource('ABC_AuditLog', 'Multi', 'Changes made by automations', [
      text('EntityType', 'Entity Type', 50),
      text('Action', 'Action', 20),
      property('ChangedOn', 'Date', 'Changed On'),
      text('Summary', 'Summary', 1000),
    ]),
    designerSource('ABC_Preferences', 'Single', 'Contact preferences', [
      text('PreferredName', 'Preferred Name', 50),
      property('ContactByEmail', 'Boolean', 'Contact by Email'),
      property('MaxEmailsPerMonth', 'Integer', 'Max Emails per Month'),
    ]),
    standaloneSource('ABC_Venues', 'Event venues', [
      text('VenueName', 'Venue Name', 100),
      text('City', 'City', 50),
      property('Capacity', 'Integer', 'Capacity'),
      property('HourlyRate', 'Monetary', 'Hourly Rate'),
      property('Accessible', 'Boolean', 'Wheelchair Accessible'),
    ]),
  ];
}

// PropertyTypeName and $type per property type (docs/imis-api.md §3.2).
const PROPERTY_TYPE_DATA: Record<PropertyType, { typeName: string; dataType: string }> = {
  String: { typeName: 'String', dataType: 'PropertyTypeStringData' },
  Integer: { typeName: 'Integer', dataType: 'PropertyTypeIntegerData' },
  Boolean: { typeName: 'Boolean', dataType: 'PropertyTypeBooleanData' },
  Date: { typeName: 'Date', dataType: 'PropertyTypeDateTimeData' },
  Decimal: { typeName: 'Decimal', dataType: 'PropertyTypeDecimalData' },
  Monetary: { typeName: 'Monetary', dataType: 'PropertyTypeMonetaryData' },
  Double: { typeName: 'Decimal', dataType: 'PropertyTypeDecimalData' },
  Binary: { typeName: 'Binary', dataType: 'PropertyTypeBinaryData' },
};

export const BO_ENTITY_DEFINITION_TYPE = 'Asi.Soa.Core.DataContracts.BOEntityDefinitionData, Asi.Contracts';

/** BOEntityDefinitionData (docs/imis-api.md §3.2). */
export function renderDefinition(def: EntityDefinition): Record<string, unknown> {
  const identity = identityProperties(def);
  return {
    $type: BO_ENTITY_DEFINITION_TYPE,
    EntityTypeName: def.entityTypeName,
    ObjectTypeName: def.objectTypeName,
    PrimaryParentEntityTypeName: def.primaryParentEntityTypeName,
    Description: def.description,
    IsDesignable: def.isDesignable,
    Properties: {
      // Guessed collection $type; items as in docs/imis-api.md §3.2.
      $type: 'Asi.Soa.Core.DataContracts.PropertyTypeDataCollection, Asi.Contracts',
      $values: def.properties.map((prop) => {
        const info = PROPERTY_TYPE_DATA[prop.type];
        const item: Record<string, unknown> = {
          $type: `Asi.Soa.Core.DataContracts.${info.dataType}, Asi.Contracts`,
          Name: prop.name,
          PropertyTypeName: info.typeName,
          Caption: prop.caption,
          IsIdentity: identity.includes(prop.name),
          Required: prop.required === true,
        };
        if (prop.maxLength !== undefined) item.MaxLength = prop.maxLength;
        return item;
      }),
    },
  };
}

export const PANEL_DEFINITION_SUMMARY_TYPE =
  'Asi.Soa.Core.DataContracts.PanelDefinitionSummaryData, Asi.Contracts';

/** A deterministic GUID-shaped id, so a panel keeps its id across resets. */
function panelDefinitionId(name: string): string {
  let hash = 0x811c9dc5;
  let hex = '';
  for (let round = 0; hex.length < 32; round++) {
    for (const char of `${name}#${round}`) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
    hex += hash.toString(16).padStart(8, '0');
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * One PanelDefinitionSummary item. The endpoint is confirmed (docs/imis-api.md §3.2) but its item fields
 * are not documented: these are plausible, inferred names.
 */
export function renderPanelSummary(def: EntityDefinition): Record<string, unknown> {
  return {
    $type: PANEL_DEFINITION_SUMMARY_TYPE,
    PanelDefinitionId: panelDefinitionId(def.entityTypeName),
    Name: def.entityTypeName,
    Description: def.description,
    SourceEntityTypeName: def.entityTypeName,
    PrimaryParentEntityTypeName: def.primaryParentEntityTypeName,
    IsMultiInstance: def.objectTypeName === 'Multi',
  };
}
