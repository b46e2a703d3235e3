import type { Engine } from '../engine/types.js';

/** Small per-node state (`imis_node_state`: a cron node's schedule and enable flag), as JSON. */
export class NodeStateRepository {
  constructor(private readonly engine: Engine) {}

  async get<T>(nodeId: string, kind: string): Promise<T | undefined> {
    const row = await this.engine.get<{ value: string }>(
      `SELECT value FROM imis_node_state WHERE node_id = ? AND kind = ?`,
      [nodeId, kind],
    );
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async set(nodeId: string, kind: string, value: unknown): Promise<void> {
    await this.engine.run(
      `INSERT INTO imis_node_state (node_id, kind, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (node_id, kind) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [nodeId, kind, JSON.stringify(value ?? null), Date.now()],
    );
  }
}
