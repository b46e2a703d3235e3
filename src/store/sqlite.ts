import { SqliteEngine } from './engine/sqlite.js';
import type { SqliteOptions } from './engine/sqlite.js';
import { EngineStore } from './store.js';

export type { SqliteOptions } from './engine/sqlite.js';

/** The embedded store: the repositories over one SQLite file (engine/sqlite.ts). */
export class SqliteStore extends EngineStore {
  declare readonly db: SqliteEngine;

  constructor(options: SqliteOptions) {
    super(new SqliteEngine(options), options.leaseMs);
  }
}
