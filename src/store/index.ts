import { join } from 'node:path';
import { PostgresStore } from './postgres.js';
import { withoutPassword } from './problems.js';
import { driverName } from './engine/sqlite-driver.js';
import { SqliteStore } from './sqlite.js';
import { EngineStore } from './store.js';
import type { Store } from './store.js';
import type { RetentionPolicy } from './types.js';

// The store's data types (inputs, runs and their queries, exports, workflow instances).
export type * from './types.js';
export type { Repositories, Store } from './store.js';
export { WorkflowConflict } from './types.js';
export { importLegacyFiles, seenScope } from './legacy.js';
export { pacedBatches } from './paced.js';
export { cursorAt, decodeCursor } from './rows.js';
export { StoreUnavailableError, storeProblem } from './problems.js';
export type { StoreProblem } from './problems.js';

/** The `imis.store` section of Node-RED's settings (all optional). */
export interface StoreSettings {
  /** postgres://... : use a shared PostgreSQL store instead of the embedded SQLite file. */
  url?: string;
  /** The SQLite file (default `<dataDir>/imis.db`). */
  file?: string;
  /** SQLite durability: NORMAL (default, survives a killed process) or FULL (also a power cut). */
  synchronous?: 'NORMAL' | 'FULL';
  /** Seconds a process owns its pending inputs without a heartbeat (default 30). */
  leaseSeconds?: number;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /**
   * The SQLite engine: 'better-sqlite3' or 'node:sqlite' (Node 22.13+); default: better-sqlite3
   * when it loads, else node:sqlite (docs/store.md §SQLite engines). The environment variable
   * IMIS_SQLITE_DRIVER names one too.
   */
  sqliteDriver?: 'node:sqlite' | 'better-sqlite3';
}

/** The `imis.runs` section: how long finished runs are kept, and how much of a foreign input. */
export interface RunsSettings {
  maxAgeDays?: number;
  maxCount?: number;
  /** Largest input (bytes of JSON) kept of a run started by another node's message (default 1 MiB). */
  maxInputBytes?: number;
  /** Characters of each step's payload preview in the run log (default 500; 0: none). */
  stepPreviewChars?: number;
  /**
   * false: no payload is kept with finished runs (no input, no previews), for member data; such
   * runs cannot be re-run. Accepted inputs are still stored until their run finishes.
   */
  storePayloads?: boolean;
  /**
   * false: messages are not followed through the flows (no steps, no runs started at our nodes by
   * other nodes' messages); a trigger's run ends once it has sent its message (docs/runs.md).
   */
  track?: boolean;
  /** Seconds a run may hold a message without any progress before it ends 'unfinished' (default 600). */
  unfinishedAfterSec?: number;
  /** Steps kept per run (default 1,000); further ones are only counted. */
  maxSteps?: number;
}

/** Runs kept by default: 30 days and at most 100,000 runs, whichever is less. */
export function retentionPolicy(settings: RunsSettings = {}): RetentionPolicy {
  const days = positive(settings.maxAgeDays) ?? 30;
  return {
    maxAgeMs: days * DAY_MS,
    maxCount: Math.trunc(positive(settings.maxCount) ?? 100_000),
  };
}

/** The `imis.workflows` section: how long instances in a final state are kept. */
export interface WorkflowsSettings {
  keepFinalDays?: number;
}

/**
 * How long an integration workflow instance is kept once in a final state, ms: `keepFinalDays`, by
 * default as long as finished runs (`imis.runs.maxAgeDays`, 30 days).
 */
export function keepFinalMsOf(workflows: WorkflowsSettings = {}, runs: RunsSettings = {}): number {
  const days = positive(workflows.keepFinalDays);
  return days === undefined ? retentionPolicy(runs).maxAgeMs : days * DAY_MS;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long an accepted input stays owned by a process without its heartbeat (default 30 s). */
export function leaseMsOf(settings: StoreSettings): number {
  return (positive(settings.leaseSeconds) ?? 30) * 1000;
}

/** The engine the settings name: PostgreSQL when a URL is given (settings, or IMIS_STORE_URL). */
export function engineOf(
  settings: StoreSettings,
  env: NodeJS.ProcessEnv = process.env,
): 'postgres' | 'sqlite' {
  return (settings.url ?? env.IMIS_STORE_URL) ? 'postgres' : 'sqlite';
}

/** Where the store the settings name is, as the log may show it (a PostgreSQL URL without its password). */
export function storeLocation(
  settings: StoreSettings,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const url = settings.url ?? env.IMIS_STORE_URL;
  return url ? withoutPassword(url) : (settings.file ?? join(dataDir, 'imis.db'));
}

/**
 * Opens the store the settings name: PostgreSQL when a URL is given (settings, or the environment
 * variable IMIS_STORE_URL), else the embedded SQLite file in the data folder.
 */
export async function openStore(
  settings: StoreSettings,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Store> {
  const leaseMs = leaseMsOf(settings);
  const url = settings.url ?? env.IMIS_STORE_URL;
  if (url) return PostgresStore.open({ url, leaseMs, poolSize: positive(settings.poolSize) });
  return new SqliteStore({
    file: settings.file ?? join(dataDir, 'imis.db'),
    synchronous: settings.synchronous === 'FULL' ? 'FULL' : 'NORMAL',
    leaseMs,
    driver: driverName(settings.sqliteDriver),
  });
}

/**
 * The store's engine as the log names it ("sqlite (better-sqlite3)", "postgres"), and why the
 * preferred SQLite engine could not load (undefined when it did, or for PostgreSQL).
 */
export function engineInUse(store: Store): { engine: string; fellBack?: string } {
  if (!(store instanceof EngineStore)) return { engine: store.engine };
  const { description: engine, fellBack } = store.db;
  return fellBack ? { engine, fellBack } : { engine };
}

function positive(value: unknown): number | undefined {
  const n = Number(value);
  return value !== undefined && value !== null && value !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
}
