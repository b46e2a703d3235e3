import { randomUUID } from 'node:crypto';
import type { Engine } from '../engine/types.js';
import type { StoredExport } from '../types.js';

interface ExportRow {
  key_hash: string;
  format: 'json' | 'csv';
  body_id: string;
  body_bytes: number | string;
  etag: string;
  last_modified: string;
  row_count: number | string;
  expires_at: number | string | null;
}

function exportFromRow(row: ExportRow): StoredExport {
  return {
    keyHash: row.key_hash,
    format: row.format,
    bodyId: row.body_id,
    bytes: Number(row.body_bytes),
    etag: row.etag,
    lastModified: row.last_modified,
    rows: Number(row.row_count),
    // PostgreSQL returns BIGINT as a string.
    ...(row.expires_at === null ? {} : { expiresAt: Number(row.expires_at) }),
  };
}

/** What a publish stores besides its key and body (the body's id and length come from the writing). */
export type ExportEntry = Omit<StoredExport, 'keyHash' | 'bodyId' | 'bytes'>;

/** A BLOB as node:sqlite returns it (Uint8Array) or better-sqlite3 and pg (Buffer): as a Buffer. */
function asBuffer(data: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Published exports (`imis_exports`, Export Data to URL), by key hash, and their bodies exactly as
 * served, in parts (`imis_export_parts`): a body is written and read a part at a time, so that no
 * process holds a whole one (a body of 100,000 rows is megabytes).
 */
export class ExportsRepository {
  constructor(private readonly engine: Engine) {}

  /**
   * Replaces the export of `keyHash` in one transaction: writes `parts` one by one (each taken from
   * the iterable as it is written), then the row `finish` gives once it has seen them all. The body
   * replaced is kept until the next replace (a reader started on it finishes); older ones go.
   * `finish` answering undefined keeps the export as it was (nothing written stays). Answers what
   * was stored, or undefined.
   */
  async replace(
    keyHash: string,
    parts: Iterable<Uint8Array>,
    finish: () => ExportEntry | undefined,
  ): Promise<StoredExport | undefined> {
    const bodyId = randomUUID();
    const unchanged = new Error('unchanged');
    try {
      return await this.engine.transaction(
        function* (tx) {
          let seq = 0;
          let bytes = 0;
          for (const data of parts) {
            yield* tx.run(
              `INSERT INTO imis_export_parts (key_hash, body_id, seq, data) VALUES (?, ?, ?, ?)`,
              [keyHash, bodyId, seq++, data],
            );
            bytes += data.byteLength;
          }
          const entry = finish();
          if (!entry) throw unchanged;
          const stored: StoredExport = { ...entry, keyHash, bodyId, bytes };
          // The body replaced stays until the next publish, so that a download started before this
          // one can finish; the bodies before it go.
          yield* tx.run(
            `DELETE FROM imis_export_parts WHERE key_hash = ? AND body_id <> ?
             AND body_id <> (SELECT body_id FROM imis_exports WHERE key_hash = ?)`,
            [keyHash, bodyId, keyHash],
          );
          yield* tx.run(
            `INSERT INTO imis_exports (key_hash, format, body_id, body_bytes, etag, last_modified, row_count, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (key_hash) DO UPDATE SET format = excluded.format, body_id = excluded.body_id,
             body_bytes = excluded.body_bytes, etag = excluded.etag, last_modified = excluded.last_modified,
             row_count = excluded.row_count, expires_at = excluded.expires_at`,
            [
              keyHash,
              stored.format,
              bodyId,
              bytes,
              stored.etag,
              stored.lastModified,
              stored.rows,
              stored.expiresAt ?? null,
            ],
          );
          return stored;
        },
        { write: true },
      );
    } catch (err) {
      if (err === unchanged) return undefined;
      throw err;
    }
  }

  /** Stores `entry` with the whole of `body` (one part). */
  put(entry: ExportEntry & { keyHash: string; body: Uint8Array }): Promise<StoredExport | undefined> {
    const { keyHash, body, ...rest } = entry;
    return this.replace(keyHash, [body], () => rest);
  }

  /** The export under `keyHash`, unless there is none or it expired by `now`. */
  async get(keyHash: string, now = new Date()): Promise<StoredExport | undefined> {
    const row = await this.engine.get<ExportRow>(
      `SELECT key_hash, format, body_id, body_bytes, etag, last_modified, row_count, expires_at
       FROM imis_exports WHERE key_hash = ? AND (expires_at IS NULL OR expires_at > ?)`,
      [keyHash, now.getTime()],
    );
    return row ? exportFromRow(row) : undefined;
  }

  /**
   * Up to `count` parts of the body `bodyId` of `keyHash`, from the part `from` (0: the first) on,
   * in order; fewer at its end, none once its parts are gone (a publish replaced it meanwhile).
   */
  async parts(keyHash: string, bodyId: string, from: number, count: number): Promise<Buffer[]> {
    const rows = await this.engine.all<{ data: Buffer | Uint8Array }>(
      `SELECT data FROM imis_export_parts WHERE key_hash = ? AND body_id = ? AND seq >= ? ORDER BY seq LIMIT ?`,
      [keyHash, bodyId, from, count],
    );
    return rows.map((row) => asBuffer(row.data));
  }

  async delete(keyHash: string): Promise<void> {
    await this.engine.transaction(function* (tx) {
      yield* tx.run(`DELETE FROM imis_export_parts WHERE key_hash = ?`, [keyHash]);
      yield* tx.run(`DELETE FROM imis_exports WHERE key_hash = ?`, [keyHash]);
    });
  }

  /** Deletes the exports expired by `now`, and their bodies; returns how many went. */
  prune(now = new Date()): Promise<number> {
    return this.engine.transaction(function* (tx) {
      yield* tx.run(
        `DELETE FROM imis_export_parts WHERE key_hash IN (SELECT key_hash FROM imis_exports WHERE expires_at <= ?)`,
        [now.getTime()],
      );
      return yield* tx.run(`DELETE FROM imis_exports WHERE expires_at <= ?`, [now.getTime()]);
    });
  }
}
