import { randomUUID } from 'node:crypto';
import { PostgresEngine } from './engine/postgres.js';
import { EngineStore } from './store.js';

export interface PostgresOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long an accepted input stays owned by this process without a heartbeat (default 30 s). */
  leaseMs?: number;
}

/**
 * The shared store: the repositories over a PostgreSQL pool (engine/postgres.ts), same tables and
 * contract as the SQLite one.
 */
export class PostgresStore extends EngineStore {
  declare readonly db: PostgresEngine;

  /** Connects and migrates (the `pg` module is loaded here, only when PostgreSQL is used). */
  static async open(options: PostgresOptions): Promise<PostgresStore> {
    const owner = randomUUID();
    const engine = await PostgresEngine.open({ url: options.url, poolSize: options.poolSize, sender: owner });
    return new PostgresStore(engine, options.leaseMs, owner);
  }
}
