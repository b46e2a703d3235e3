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

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'accepted inputs, runs, node state, seen event ids, exports',
    sqlite: `
      CREATE TABLE imis_inputs (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        payload TEXT NOT NULL,
        extra TEXT,
        accepted_at INTEGER NOT NULL,
        owner TEXT NOT NULL,
        lease_until INTEGER NOT NULL
      );
      CREATE INDEX imis_inputs_source ON imis_inputs (source, accepted_at);
      CREATE TABLE imis_runs (
        id TEXT PRIMARY KEY,
        flow_id TEXT NOT NULL,
        trigger_id TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
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
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (node_id, kind)
      );
      CREATE TABLE imis_seen (
        scope TEXT NOT NULL,
        id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (scope, id)
      );
      CREATE INDEX imis_seen_expiry ON imis_seen (expires_at);
      CREATE TABLE imis_exports (
        key_hash TEXT PRIMARY KEY,
        format TEXT NOT NULL,
        body BLOB NOT NULL,
        etag TEXT NOT NULL,
        last_modified TEXT NOT NULL,
        row_count INTEGER NOT NULL
      );`,
    postgres: `
      CREATE TABLE imis_inputs (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        payload TEXT NOT NULL,
        extra TEXT,
        accepted_at BIGINT NOT NULL,
        owner TEXT NOT NULL,
        lease_until BIGINT NOT NULL
      );
      CREATE INDEX imis_inputs_source ON imis_inputs (source, accepted_at);
      CREATE TABLE imis_runs (
        id TEXT PRIMARY KEY,
        flow_id TEXT NOT NULL,
        trigger_id TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        finished_at BIGINT,
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
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (node_id, kind)
      );
      CREATE TABLE imis_seen (
        scope TEXT NOT NULL,
        id TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (scope, id)
      );
      CREATE INDEX imis_seen_expiry ON imis_seen (expires_at);
      CREATE TABLE imis_exports (
        key_hash TEXT PRIMARY KEY,
        format TEXT NOT NULL,
        body BYTEA NOT NULL,
        etag TEXT NOT NULL,
        last_modified TEXT NOT NULL,
        row_count INTEGER NOT NULL
      );`,
  },
  {
    version: 2,
    description: 'integration workflow instances and their history',
    sqlite: `
      CREATE TABLE imis_wf_instances (
        workflow TEXT NOT NULL,
        key TEXT NOT NULL,
        state TEXT NOT NULL,
        since INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        last_trigger TEXT,
        last_transition TEXT,
        due_at INTEGER,
        flags TEXT,
        version INTEGER NOT NULL,
        PRIMARY KEY (workflow, key)
      ) WITHOUT ROWID;
      CREATE INDEX imis_wf_instances_state ON imis_wf_instances (workflow, state, since, key);
      CREATE INDEX imis_wf_instances_since ON imis_wf_instances (workflow, since, key);
      CREATE INDEX imis_wf_instances_due ON imis_wf_instances (due_at) WHERE due_at IS NOT NULL;
      CREATE INDEX imis_wf_instances_flagged ON imis_wf_instances (workflow, since, key) WHERE flags IS NOT NULL;
      CREATE TABLE imis_wf_history (
        id INTEGER PRIMARY KEY,
        workflow TEXT NOT NULL,
        key TEXT NOT NULL,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        transition TEXT,
        trigger TEXT NOT NULL,
        actor TEXT,
        run_id TEXT
      );
      CREATE INDEX imis_wf_history_key ON imis_wf_history (workflow, key, id);`,
    postgres: `
      CREATE TABLE imis_wf_instances (
        workflow TEXT NOT NULL,
        key TEXT NOT NULL,
        state TEXT NOT NULL,
        since BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        last_trigger TEXT,
        last_transition TEXT,
        due_at BIGINT,
        flags TEXT,
        version INTEGER NOT NULL,
        PRIMARY KEY (workflow, key)
      );
      CREATE INDEX imis_wf_instances_state ON imis_wf_instances (workflow, state, since, key);
      CREATE INDEX imis_wf_instances_since ON imis_wf_instances (workflow, since, key);
      CREATE INDEX imis_wf_instances_due ON imis_wf_instances (due_at) WHERE due_at IS NOT NULL;
      CREATE INDEX imis_wf_instances_flagged ON imis_wf_instances (workflow, since, key) WHERE flags IS NOT NULL;
      CREATE TABLE imis_wf_history (
        id BIGSERIAL PRIMARY KEY,
        workflow TEXT NOT NULL,
        key TEXT NOT NULL,
        at BIGINT NOT NULL,
        kind TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        transition TEXT,
        trigger TEXT NOT NULL,
        actor TEXT,
        run_id TEXT
      );
      CREATE INDEX imis_wf_history_key ON imis_wf_history (workflow, key, id);`,
  },
];

export const SCHEMA_TABLE = `imis_schema`;

export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(
      `The iMIS store's schema is version ${found}, newer than this package knows (${MIGRATIONS.length}): ` +
        `upgrade @imisflow/node-red-imis, or point it at another store`,
    );
  }
}
