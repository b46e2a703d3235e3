import type { Engine } from '../engine/types.js';
import type { StoredExport } from '../types.js';

interface ExportRow {
  key_hash: string;
  format: 'json' | 'csv';
  body: Buffer | Uint8Array;
  etag: string;
  last_modified: string;
  row_count: number | string;
  expires_at: number | string | null;
}

function exportFromRow(row: ExportRow): StoredExport {
  const body = row.body;
  return {
    keyHash: row.key_hash,
    format: row.format,
    // node:sqlite returns a BLOB as a Uint8Array: the same bytes, as a Buffer.
    body: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    etag: row.etag,
    lastModified: row.last_modified,
    rows: Number(row.row_count),
    // PostgreSQL returns BIGINT as a string.
    ...(row.expires_at === null ? {} : { expiresAt: Number(row.expires_at) }),
  };
}

/** Published exports (`imis_exports`, Export Data to URL): the body exactly as served, by key hash. */
export class ExportsRepository {
  constructor(private readonly engine: Engine) {}

  async put(entry: StoredExport): Promise<void> {
    await this.engine.run(
      `INSERT INTO imis_exports (key_hash, format, body, etag, last_modified, row_count, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key_hash) DO UPDATE SET format = excluded.format, body = excluded.body,
         etag = excluded.etag, last_modified = excluded.last_modified, row_count = excluded.row_count,
         expires_at = excluded.expires_at`,
      [
        entry.keyHash,
        entry.format,
        entry.body,
        entry.etag,
        entry.lastModified,
        entry.rows,
        entry.expiresAt ?? null,
      ],
    );
  }

  /** The export under `keyHash`, unless there is none or it expired by `now`. */
  async get(keyHash: string, now = new Date()): Promise<StoredExport | undefined> {
    const row = await this.engine.get<ExportRow>(
      `SELECT key_hash, format, body, etag, last_modified, row_count, expires_at FROM imis_exports
       WHERE key_hash = ? AND (expires_at IS NULL OR expires_at > ?)`,
      [keyHash, now.getTime()],
    );
    return row ? exportFromRow(row) : undefined;
  }

  async delete(keyHash: string): Promise<void> {
    await this.engine.run(`DELETE FROM imis_exports WHERE key_hash = ?`, [keyHash]);
  }

  /** Deletes the exports expired by `now`; returns how many went. */
  prune(now = new Date()): Promise<number> {
    return this.engine.run(`DELETE FROM imis_exports WHERE expires_at <= ?`, [now.getTime()]);
  }
}
