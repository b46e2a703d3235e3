/**
 * Everything the emulator holds: parties, activities, panel definitions and rows, events, issued
 * tokens, the request log and injected faults; change notifications, iUpdate tasks and IQA queries.
 * Tests inspect and drive it directly.
 */
import { randomBytes } from 'node:crypto';
import { identityProperties, seedDefinitions, type EntityDefinition } from './definitions.js';
import { seedEvents } from './events.js';
import { IqaQueries } from './iqa.js';
import { IUpdateTasks } from './iupdate.js';
import { ChangeNotifications } from './notifications.js';
import { seedActivities, seedPanelRows, seedParties } from './seed.js';

export interface EmulatorUser {
  username: string;
  password: string;
}

export interface EmulatorConfig {
  tokenTtlSeconds: number;
  users: EmulatorUser[];
  createdStatus: 200 | 201;
  zeroOrdinalBug: boolean;
}

export interface RequestLogEntry {
  method: string;
  /** The URL path, without the query string. */
  path: string;
  /** The query string including its `?`, or ''. */
  query: string;
  /** Epoch milliseconds. */
  at: number;
  /** The status answered, once the response has been sent. */
  status?: number;
}

export interface FaultSpec {
  /** Only requests with this method (any case); all methods when absent. */
  method?: string;
  /** Requests whose path starts with this (case-insensitive), e.g. '/api/Activity' or '/token'. */
  pathPrefix: string;
  /** The status to answer instead of handling the request; 0 = delay only, then handle normally. */
  status: number;
  /** How many matching requests get the fault. */
  times: number;
  /** Retry-After header value sent with the status. */
  retryAfter?: string;
  /** Wait this long before answering (or before handling, when status is 0). */
  delayMs?: number;
  /** Body of the fault answer: a string is sent as text/plain, anything else as JSON. */
  body?: unknown;
  /** Destroy the connection instead of answering (a network error for the client); status is ignored. */
  dropConnection?: boolean;
}

export interface IssuedToken {
  token: string;
  username: string;
  issuedAt: number;
  expiresAt: number;
}

export const REQUEST_LOG_LIMIT = 10_000;

export class EmulatorState {
  /** Parties by PartyId, as flat records (PartyId, PartyType, FirstName, LastName, Email, MemberType, Status). */
  readonly parties = new Map<string, Record<string, unknown>>();
  /** Every activity, as flat objects of its properties (SEQN, PartyId, ACTIVITY_TYPE, TRANSACTION_DATE, ...). */
  readonly activities: Record<string, unknown>[] = [];
  /** Business-object definitions by EntityTypeName: Activity and the panel sources. */
  readonly definitions = new Map<string, EntityDefinition>();
  /** Panel rows by panel EntityTypeName, flat objects of their properties. */
  readonly panels = new Map<string, Record<string, unknown>[]>();
  /** The last REQUEST_LOG_LIMIT requests, oldest first. */
  readonly requests: RequestLogEntry[] = [];
  /** Events by EventCode, flat records (EventCode, Name, Description, StartDateTime, EndDateTime, Status). */
  readonly events = new Map<string, Record<string, unknown>>();
  /**
   * The emulator's own URL (`http://127.0.0.1:port`), set once it listens: for the validationUrl of
   * change notifications and the iUpdate task URLs.
   */
  baseUrl = 'http://127.0.0.1';
  /** Change notifications iMIS sends through Event Grid (docs/imis-api.md §5). */
  readonly notifications = new ChangeNotifications(() => this.baseUrl);
  /** iUpdate tasks and their runs, started through CSI-style webhooks (docs/imis-api.md §6). */
  readonly iupdate = new IUpdateTasks(() => this.baseUrl);
  /** IQA queries served by /api/iqa and /api/Query (docs/imis-api.md §4). */
  readonly iqa: IqaQueries = new IqaQueries(this);

  private readonly tokens = new Map<string, IssuedToken>();
  private readonly faults: (FaultSpec & { remaining: number })[] = [];

  constructor(readonly config: EmulatorConfig) {
    this.reset();
  }

  /**
   * Back to the seed: data, definitions, events, iUpdate tasks and runs, IQA queries, request log and
   * faults; pending change notifications are cancelled and their logs cleared. Issued tokens stay
   * valid, so a client shared across tests keeps working (expireTokens() ends them), and so does the
   * change-notification endpoint with its verification, site configuration rather than data
   * (notifications.clear() forgets it).
   */
  reset(): void {
    this.parties.clear();
    for (const party of seedParties()) this.parties.set(String(party.PartyId), party);
    this.activities.length = 0;
    this.activities.push(...seedActivities());
    this.definitions.clear();
    this.panels.clear();
    const rows = seedPanelRows();
    for (const def of seedDefinitions()) this.addDefinition(def, rows[def.entityTypeName] ?? []);
    this.requests.length = 0;
    this.faults.length = 0;
    this.events.clear();
    for (const event of seedEvents()) this.events.set(String(event.EventCode), event);
    this.notifications.reset();
    this.iupdate.reset();
    this.iqa.reset();
  }

  /** Sets the emulator's own URL (server.ts does, once it listens). */
  setBaseUrl(url: string): void {
    this.baseUrl = url;
    this.iupdate.refreshUrls();
  }

  /** Adds (or replaces) a panel source, e.g. for a test that needs a panel of its own. */
  addDefinition(def: EntityDefinition, rows: Record<string, unknown>[] = []): void {
    for (const name of this.definitions.keys()) {
      if (name.toLowerCase() === def.entityTypeName.toLowerCase()) this.definitions.delete(name);
    }
    this.definitions.set(def.entityTypeName, def);
    if (def.entityTypeName !== 'Activity') this.panels.set(def.entityTypeName, rows);
  }

  /** Case-insensitive lookup: iMIS routes `/api/name_demo` and `/api/Name_Demo` alike (docs/imis-api.md §3.1). */
  definition(entityTypeName: string): EntityDefinition | undefined {
    const lower = entityTypeName.toLowerCase();
    for (const def of this.definitions.values()) if (def.entityTypeName.toLowerCase() === lower) return def;
    return undefined;
  }

  /** The live row array of an entity (Activity's is `activities`). */
  rowsOf(def: EntityDefinition): Record<string, unknown>[] {
    if (def.entityTypeName === 'Activity') return this.activities;
    let rows = this.panels.get(def.entityTypeName);
    if (rows === undefined) {
      rows = [];
      this.panels.set(def.entityTypeName, rows);
    }
    return rows;
  }

  activitiesFor(partyId: string): Record<string, unknown>[] {
    return this.activities.filter((activity) => activity.PartyId === String(partyId));
  }

  /** Rows of a panel source (case-insensitive name), optionally only those of one parent id. */
  panelRows(entityTypeName: string, partyId?: string): Record<string, unknown>[] {
    const def = this.definition(entityTypeName);
    if (def === undefined) throw new Error(`The emulator has no panel source named ${entityTypeName}`);
    const rows = this.rowsOf(def);
    const parentId = def.parentIdProperty;
    if (partyId === undefined || parentId === undefined) return [...rows];
    return rows.filter((row) => row[parentId] === String(partyId));
  }

  /** The next SEQN / Ordinal of an entity for a parent (or of its global sequence). */
  nextOrdinal(def: EntityDefinition, parentId: string | undefined): number {
    const ordinal = def.ordinalProperty;
    if (ordinal === undefined) throw new Error(`${def.entityTypeName} has no ordinal`);
    const parent = def.ordinalScope === 'parent' ? def.parentIdProperty : undefined;
    let highest = def.ordinalScope === 'global' ? (def.ordinalStart ?? 1) - 1 : 0;
    for (const row of this.rowsOf(def)) {
      if (parent !== undefined && row[parent] !== parentId) continue;
      const value = row[ordinal];
      if (typeof value === 'number' && value > highest) highest = value;
    }
    return highest + 1;
  }

  /** Finds the row whose identity elements (docs/imis-api.md §3.1) equal `elements`. */
  findRow(def: EntityDefinition, elements: string[]): Record<string, unknown> | undefined {
    const names = identityProperties(def);
    return this.rowsOf(def).find((row) =>
      names.every((name, index) => {
        const value = row[name];
        const element = elements[index] ?? '';
        return typeof value === 'number'
          ? element.trim() !== '' && Number(element) === value
          : value === element;
      }),
    );
  }

  /** An opaque bearer token, as Asi.Scheduler's OWIN server issues (docs/imis-api.md §1.2). */
  issueToken(username: string, now: number = Date.now()): IssuedToken {
    const issued: IssuedToken = {
      token: randomBytes(64).toString('base64url'),
      username,
      issuedAt: now,
      expiresAt: now + this.config.tokenTtlSeconds * 1000,
    };
    this.tokens.set(issued.token, issued);
    return issued;
  }

  /** The user a token belongs to, or undefined when it is unknown or expired. */
  tokenUser(token: string, now: number = Date.now()): string | undefined {
    const issued = this.tokens.get(token);
    if (issued === undefined) return undefined;
    if (now >= issued.expiresAt) {
      this.tokens.delete(token);
      return undefined;
    }
    return issued.username;
  }

  /** Every token issued so far becomes invalid: the next /api call with it gets 401. */
  expireTokens(): void {
    this.tokens.clear();
  }

  /** The next `times` requests matching method and path prefix get `status` (and/or a delay). */
  injectFault(spec: FaultSpec): void {
    if (!Number.isInteger(spec.times) || spec.times < 1)
      throw new Error('injectFault: times must be 1 or more');
    if (!spec.dropConnection && spec.status !== 0 && (spec.status < 100 || spec.status > 599)) {
      throw new Error('injectFault: status must be 0 (delay only) or an HTTP status');
    }
    this.faults.push({ ...spec, remaining: spec.times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Consumes and returns the first fault matching this request, if any. */
  takeFault(method: string, path: string): FaultSpec | undefined {
    const lowerPath = path.toLowerCase();
    const index = this.faults.findIndex(
      (fault) =>
        (fault.method === undefined || fault.method.toUpperCase() === method.toUpperCase()) &&
        lowerPath.startsWith(fault.pathPrefix.toLowerCase()),
    );
    if (index < 0) return undefined;
    const fault = this.faults[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  logRequest(method: string, path: string, query: string, now: number = Date.now()): RequestLogEntry {
    const entry: RequestLogEntry = { method, path, query, at: now };
    this.requests.push(entry);
    if (this.requests.length > REQUEST_LOG_LIMIT)
      this.requests.splice(0, this.requests.length - REQUEST_LOG_LIMIT);
    return entry;
  }
}
