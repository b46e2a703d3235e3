import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../runs/tracker.js';
import type { Store } from './store.js';
import type { AcceptedInput } from './types.js';

/** What version 0.1 kept in files, imported once into the store. */
export interface LegacyImport {
  pendingInputs: number;
  runs: number;
  nodeStates: number;
  seenIds: number;
  exports: number;
}

/** How long a change notification's event id counted as seen in 0.1 (24 h). */
const SEEN_TTL_MS = 24 * 60 * 60 * 1000;
/** Suffix given to a file or folder once imported: kept for the user, never read again. */
export const IMPORTED_SUFFIX = '.imported-0.1';

/**
 * Imports the files version 0.1 wrote under `dataDir` — the journal of accepted inputs
 * (`journal.jsonl`), the run history (`runs.jsonl`), cron schedules (`cron/<node>.json`), change
 * notification event ids (`change-in/<node>.seen.json`) and published exports (`exports/`) — then
 * renames each with the suffix `.imported-0.1`. Nothing is deleted. A file that is not there is
 * skipped; a torn or unreadable line is skipped, as 0.1 itself did.
 */
export async function importLegacyFiles(
  store: Store,
  dataDir: string,
  now = new Date(),
): Promise<LegacyImport> {
  const counts: LegacyImport = { pendingInputs: 0, runs: 0, nodeStates: 0, seenIds: 0, exports: 0 };

  const journal = join(dataDir, 'journal.jsonl');
  if (existsSync(journal)) {
    const pending = new Map<string, AcceptedInput>();
    for (const line of jsonLines(journal)) {
      const op = line as { op?: string; entry?: AcceptedInput; id?: string };
      if (op.op === 'accept' && op.entry?.id) pending.set(op.entry.id, op.entry);
      else if (op.op === 'settle' && op.id) pending.delete(op.id);
    }
    await store.inputs.importInputs([...pending.values()]);
    counts.pendingInputs = pending.size;
    markImported(journal);
  }

  const history = join(dataDir, 'runs.jsonl');
  if (existsSync(history)) {
    for (const line of jsonLines(history)) {
      const run = line as RunRecord;
      if (!run?.id || !run.startedAt || !run.trigger) continue;
      await store.runs.finish(run);
      counts.runs++;
    }
    markImported(history);
  }

  const cronDir = join(dataDir, 'cron');
  if (existsSync(cronDir)) {
    for (const file of readdirSync(cronDir).filter((f) => f.endsWith('.json'))) {
      const state = readJson(join(cronDir, file));
      if (!state || typeof state !== 'object') continue;
      await store.nodeState.set(file.slice(0, -'.json'.length), 'cron', state);
      counts.nodeStates++;
    }
    markImported(cronDir);
  }

  const seenDir = join(dataDir, 'change-in');
  if (existsSync(seenDir)) {
    for (const file of readdirSync(seenDir).filter((f) => f.endsWith('.seen.json'))) {
      const entries = readJson(join(seenDir, file));
      if (!Array.isArray(entries)) continue;
      const nodeId = file.slice(0, -'.seen.json'.length);
      for (const entry of entries as [unknown, unknown][]) {
        const [id, at] = entry;
        if (typeof id !== 'string' || typeof at !== 'number') continue;
        const expiresAt = new Date(at + SEEN_TTL_MS);
        if (expiresAt > now && (await store.seen.mark(seenScope(nodeId), id, expiresAt, now)))
          counts.seenIds++;
      }
    }
    markImported(seenDir);
  }

  const exportDir = join(dataDir, 'exports');
  if (existsSync(exportDir)) {
    for (const file of readdirSync(exportDir).filter((f) => f.endsWith('.data'))) {
      const stem = file.slice(0, -'.data'.length);
      const body = readFileSync(join(exportDir, file));
      const meta = readJson(join(exportDir, `${stem}.meta.json`)) as {
        format?: string;
        lastModified?: string;
        rows?: number;
      } | null;
      const format = meta?.format === 'json' || meta?.format === 'csv' ? meta.format : sniffFormat(body);
      await store.exports.put({
        keyHash: stem,
        format,
        body,
        etag: `"${createHash('sha256').update(body).digest('base64url')}"`,
        lastModified: meta?.lastModified ?? now.toISOString(),
        rows: typeof meta?.rows === 'number' ? meta.rows : 0,
      });
      counts.exports++;
    }
    markImported(exportDir);
  }
  return counts;
}

/** The scope under which a change notification node's event ids are remembered. */
export function seenScope(nodeId: string): string {
  return `change-in:${nodeId}`;
}

function* jsonLines(file: string): Generator<unknown> {
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (!text.trim()) continue;
    try {
      yield JSON.parse(text) as unknown;
    } catch {
      // a torn last line from a killed process
    }
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

function sniffFormat(body: Buffer): 'json' | 'csv' {
  try {
    return Array.isArray(JSON.parse(body.toString('utf8'))) ? 'json' : 'csv';
  } catch {
    return 'csv';
  }
}

function markImported(path: string): void {
  let target = path + IMPORTED_SUFFIX;
  for (let n = 2; existsSync(target); n++) target = `${path}${IMPORTED_SUFFIX}.${n}`;
  renameSync(path, target);
}
