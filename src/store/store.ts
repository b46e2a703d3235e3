import { randomUUID } from 'node:crypto';
import type { Engine, EngineName } from './engine/types.js';
import { DedupRepository } from './repositories/dedup.js';
import { DeltaRepository } from './repositories/delta.js';
import { ExportsRepository } from './repositories/exports.js';
import { InputsRepository } from './repositories/inputs.js';
import { MessagesRepository } from './repositories/messages.js';
import { NodeStateRepository } from './repositories/node-state.js';
import { RetriesRepository } from './repositories/retries.js';
import { RunsRepository } from './repositories/runs.js';
import { SeenRepository } from './repositories/seen.js';
import { WorkflowsRepository } from './repositories/workflows.js';

/** The names of the repositories (DeferredStore wraps each). */
export const REPOSITORIES = [
  'inputs',
  'runs',
  'nodeState',
  'seen',
  'exports',
  'delta',
  'dedup',
  'retries',
  'workflows',
  'messages',
] as const;

/** The store's repositories, one per concern (see EngineStore); callers take the one they need. */
export type Repositories = Pick<EngineStore, (typeof REPOSITORIES)[number]>;

/**
 * Everything the package remembers: SQLite when embedded, PostgreSQL when shared by several
 * Node-RED processes, as repositories over one engine. Every method is asynchronous, whatever the
 * engine, so that callers are written once. See docs/store.md.
 */
export interface Store extends Repositories {
  readonly engine: EngineName;
  /** Resolves once every batched write so far is committed. */
  flush(): Promise<void>;
  /**
   * Commits batched writes before the process exits, where the engine can do so synchronously
   * (SQLite); elsewhere a no-op: unsettled inputs then run again at the next start (at-least-once).
   */
  flushSync(): void;
  /** Writes what is batched, hands this process's pending inputs over, and closes the connections. */
  close(): Promise<void>;
}

/** The store over an engine: the repositories composed (adding a table adds one line here). */
export class EngineStore implements Store {
  readonly engine: EngineName;
  /** Accepted inputs and their leases. */
  readonly inputs: InputsRepository;
  /** Finished runs: written, read, counted, pruned. */
  readonly runs: RunsRepository;
  /** Small per-node state (a cron node's schedule). */
  readonly nodeState: NodeStateRepository;
  /** Delivery and event ids seen. */
  readonly seen: SeenRepository;
  /** Published exports (Export Data to URL). */
  readonly exports: ExportsRepository;
  /** Delta Hash's hashes. */
  readonly delta: DeltaRepository;
  /** De-duplicated inserts. */
  readonly dedup: DedupRepository;
  /** Automatic retries planned in the runs. */
  readonly retries: RetriesRepository;
  /** Integration workflow instances and their history. */
  readonly workflows: WorkflowsRepository;
  /** Messages to the other processes sharing the store. */
  readonly messages: MessagesRepository;

  constructor(
    /** The engine itself (connections, transactions, dialect). */
    readonly db: Engine,
    leaseMs?: number,
    /** This process, as the owner of its accepted inputs and the sender of its messages. */
    owner: string = randomUUID(),
  ) {
    this.engine = db.dialect.name;
    this.inputs = new InputsRepository(db, owner, leaseMs);
    this.runs = new RunsRepository(db);
    this.nodeState = new NodeStateRepository(db);
    this.seen = new SeenRepository(db);
    this.exports = new ExportsRepository(db);
    this.delta = new DeltaRepository(db);
    this.dedup = new DedupRepository(db);
    this.retries = new RetriesRepository(db, this.runs);
    this.workflows = new WorkflowsRepository(db);
    this.messages = new MessagesRepository(db);
  }

  async flush(): Promise<void> {
    await Promise.all([
      this.inputs.drain(),
      this.runs.drain(),
      this.workflows.drain(),
      this.messages.drain(),
    ]);
  }

  flushSync(): void {
    if (!this.db.synchronous || !this.db.open) return;
    this.inputs.flushSync();
    this.runs.flushSync();
    this.workflows.flushSync();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.inputs.release();
    await this.db.close();
  }
}
