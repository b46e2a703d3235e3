/**
 * The store's schema, version by version, for both engines. A migration is applied once, in a
 * transaction, and recorded in `imis_schema`; a store never runs on a schema newer than it knows.
 * Times are epoch milliseconds (BIGINT in PostgreSQL); JSON is text in SQLite and JSONB-free TEXT
 * in PostgreSQL too, since the store only reads it back whole.
 */
export interface Migration {
  version: number;
  description: string;
  sqlite: string;
  postgres: string;
}

/**
 * What differs between the engines; the rest of the SQL is the same for both. `serial`: an id the
 * engine numbers; `clustered`: after a table whose rows are kept in primary key order (SQLite's
 * WITHOUT ROWID; PostgreSQL keeps a heap and an index whatever is said).
 */
const TYPES = {
  sqlite: { time: 'INTEGER', bytes: 'BLOB', serial: 'INTEGER', clustered: ' WITHOUT ROWID' },
  postgres: { time: 'BIGINT', bytes: 'BYTEA', serial: 'BIGSERIAL', clustered: '' },
};

/**
 * One schema step, written once: `%TIME%` is an epoch-milliseconds column, `%BYTES%` a binary one,
 * `%SERIAL%` a numbered id, `%CLUSTERED%` follows a table kept in key order.
 */
function both(sql: string): Pick<Migration, 'sqlite' | 'postgres'> {
  const render = (t: (typeof TYPES)['sqlite']) =>
    sql
      .replace(/%TIME%/g, t.time)
      .replace(/%BYTES%/g, t.bytes)
      .replace(/%SERIAL%/g, t.serial)
      .replace(/%CLUSTERED%/g, t.clustered);
  return { sqlite: render(TYPES.sqlite), postgres: render(TYPES.postgres) };
}

import { FIRES_TABLE } from './repositories/fires.js';

/**
 * When an export's link stops answering (null: never), with an index for the sweep of expired
 * ones; and the records of inserts made under a de-duplication key (the record iMIS returned, as
 * JSON), kept as long as runs are.
 */
const EXPORT_EXPIRY_AND_DEDUP = `
      ALTER TABLE imis_exports ADD COLUMN expires_at %TIME%;
      CREATE INDEX imis_exports_expiry ON imis_exports (expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE imis_dedup (
        scope TEXT NOT NULL,
        dedup_key TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at %TIME% NOT NULL,
        PRIMARY KEY (scope, dedup_key)
      );
      CREATE INDEX imis_dedup_created ON imis_dedup (created_at);`;

/**
 * The dashboard: a run's re-runs, found by the run they re-ran; a flow's runs of one status, newest
 * first (the sidebar's default filter is the open flow).
 */
const RERUN_INDEX = `
      CREATE INDEX imis_runs_rerun ON imis_runs (rerun_of) WHERE rerun_of IS NOT NULL;
      CREATE INDEX imis_runs_flow_status ON imis_runs (flow_id, status, started_at, id);`;

/**
 * A run's named values (RunRecord.values), one row each, found by name and value (the dashboard's
 * filter); they are also in the run's `data`, which is what a run is read back from.
 */
const RUN_VALUES = `
      CREATE TABLE imis_run_values (
        run_id TEXT NOT NULL REFERENCES imis_runs (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, name)
      )%CLUSTERED%;
      CREATE INDEX imis_run_values_value ON imis_run_values (name, substr(value, 1, 200), run_id);`;

/**
 * An export's body in parts (repositories/exports.ts): written and read a part at a time, so that
 * no process holds a whole body; the parts of one publish share a `body_id`, which its row names
 * once they are all written. The bodies of earlier versions become one part each.
 */
const EXPORT_PARTS = `
      CREATE TABLE imis_export_parts (
        key_hash TEXT NOT NULL,
        body_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        data %BYTES% NOT NULL,
        PRIMARY KEY (key_hash, body_id, seq)
      );
      ALTER TABLE imis_exports ADD COLUMN body_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE imis_exports ADD COLUMN body_bytes INTEGER NOT NULL DEFAULT 0;
      INSERT INTO imis_export_parts (key_hash, body_id, seq, data)
        SELECT key_hash, key_hash, 0, body FROM imis_exports;
      UPDATE imis_exports SET body_id = key_hash, body_bytes = length(body);
      ALTER TABLE imis_exports DROP COLUMN body;`;

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'accepted inputs, runs, node state, seen event ids, exports',
    ...both(`
      CREATE TABLE imis_inputs (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        payload TEXT NOT NULL,
        extra TEXT,
        accepted_at %TIME% NOT NULL,
        owner TEXT NOT NULL,
        lease_until %TIME% NOT NULL
      );
      CREATE INDEX imis_inputs_source ON imis_inputs (source, accepted_at);
      CREATE TABLE imis_runs (
        id TEXT PRIMARY KEY,
        flow_id TEXT NOT NULL,
        trigger_id TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at %TIME% NOT NULL,
        finished_at %TIME%,
        business_key TEXT,
        rerun_of TEXT,
        data TEXT NOT NULL
      );
      CREATE INDEX imis_runs_started ON imis_runs (started_at, id);
      CREATE INDEX imis_runs_flow ON imis_runs (flow_id, started_at, id);
      CREATE INDEX imis_runs_status ON imis_runs (status, started_at, id);
      CREATE INDEX imis_runs_key ON imis_runs (business_key, started_at, id) WHERE business_key IS NOT NULL;
      CREATE TABLE imis_node_state (
        node_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at %TIME% NOT NULL,
        PRIMARY KEY (node_id, kind)
      );
      CREATE TABLE imis_seen (
        scope TEXT NOT NULL,
        id TEXT NOT NULL,
        expires_at %TIME% NOT NULL,
        PRIMARY KEY (scope, id)
      );
      CREATE INDEX imis_seen_expiry ON imis_seen (expires_at);
      CREATE TABLE imis_exports (
        key_hash TEXT PRIMARY KEY,
        format TEXT NOT NULL,
        body %BYTES% NOT NULL,
        etag TEXT NOT NULL,
        last_modified TEXT NOT NULL,
        row_count INTEGER NOT NULL
      );`),
  },
  {
    version: 2,
    description:
      'Delta Hash: row hashes by node and key; export links that expire; de-duplicated inserts; indexes of the runs dashboard (re-runs, flow and status)',
    // SQLite: WITHOUT ROWID keeps a scope's rows together in key order, so a run reads its
    // 100,000 hashes in one sequential scan instead of an index lookup per row.
    sqlite:
      `CREATE TABLE imis_delta (
        scope TEXT NOT NULL,
        row_key TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (scope, row_key)
      ) WITHOUT ROWID;` +
      both(EXPORT_EXPIRY_AND_DEDUP).sqlite +
      RERUN_INDEX,
    postgres:
      `CREATE TABLE imis_delta (
        scope TEXT NOT NULL,
        row_key TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (scope, row_key)
      );` +
      both(EXPORT_EXPIRY_AND_DEDUP).postgres +
      RERUN_INDEX,
  },
  {
    version: 3,
    description: 'integration workflow instances and their history',
    ...both(`
      CREATE TABLE imis_wf_instances (
        workflow TEXT NOT NULL,
        key TEXT NOT NULL,
        state TEXT NOT NULL,
        since %TIME% NOT NULL,
        created_at %TIME% NOT NULL,
        last_trigger TEXT,
        last_transition TEXT,
        due_at %TIME%,
        flags TEXT,
        version INTEGER NOT NULL,
        PRIMARY KEY (workflow, key)
      )%CLUSTERED%;
      CREATE INDEX imis_wf_instances_state ON imis_wf_instances (workflow, state, since, key);
      CREATE INDEX imis_wf_instances_since ON imis_wf_instances (workflow, since, key);
      CREATE INDEX imis_wf_instances_due ON imis_wf_instances (due_at) WHERE due_at IS NOT NULL;
      CREATE INDEX imis_wf_instances_flagged ON imis_wf_instances (workflow, since, key) WHERE flags IS NOT NULL;
      CREATE TABLE imis_wf_history (
        id %SERIAL% PRIMARY KEY,
        workflow TEXT NOT NULL,
        key TEXT NOT NULL,
        at %TIME% NOT NULL,
        kind TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        transition TEXT,
        trigger TEXT NOT NULL,
        actor TEXT,
        run_id TEXT
      );
      CREATE INDEX imis_wf_history_key ON imis_wf_history (workflow, key, id);`),
  },
  {
    version: 4,
    description:
      'de-duplicated inserts under way (opened before the call to iMIS); automatic retries that survive a restart',
    // A de-duplication record is opened (settled 0) before its insert is sent and settled with
    // iMIS's record after it; rows of version 2 were all settled. retry_at: when a failed run is
    // re-run automatically, cleared by the process that claims the re-run.
    ...both(`
      ALTER TABLE imis_dedup ADD COLUMN settled INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE imis_runs ADD COLUMN retry_at %TIME%;
      CREATE INDEX imis_runs_retry ON imis_runs (retry_at) WHERE retry_at IS NOT NULL;`),
  },
  {
    version: 5,
    description:
      "runs' named values, searchable exactly; business keys searchable by prefix (PostgreSQL: a key index in byte order)",
    // A value is indexed by its first 200 characters (runsWhere checks the whole value): a value
    // may hold 1,000 characters, up to 4,000 bytes, beyond PostgreSQL's limit of 2,704 bytes per
    // index entry. The values go with their run (ON DELETE CASCADE: the runs' prune).
    // PostgreSQL: a prefix is a range of keys in the index's order, which is byte order only under
    // the "C" collation; the database's own may be another (en_US, ICU), so the key index is made
    // again with it, and runsWhere compares the keys COLLATE "C".
    sqlite: both(RUN_VALUES).sqlite,
    postgres:
      both(RUN_VALUES).postgres +
      `
      DROP INDEX imis_runs_key;
      CREATE INDEX imis_runs_key ON imis_runs (business_key COLLATE "C", started_at, id) WHERE business_key IS NOT NULL;`,
  },
  {
    version: 6,
    description:
      'the answer given to a delivery, kept with its seen id (Standard Webhooks: a copy gets it again)',
    // Null for the ids of version 5 and those remembered without an answer (Event Grid's).
    ...both(`
      ALTER TABLE imis_seen ADD COLUMN answer TEXT;`),
  },
  {
    version: 7,
    description:
      'schedule fires, claimed once per node and due time by one of the processes (repositories/fires.ts)',
    ...both(FIRES_TABLE),
  },
  {
    version: 8,
    description: 'Export Data to URL: each body in parts, written and served a part at a time',
    ...both(EXPORT_PARTS),
  },
];

/** The newest schema version this package knows. */
export const LATEST_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

export const SCHEMA_TABLE = `imis_schema`;

export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(
      `The iMIS store's schema is version ${found}, newer than this package knows (${LATEST_VERSION}): ` +
        `upgrade @imisflow/node-red-imis, or point it at another store`,
    );
  }
}
