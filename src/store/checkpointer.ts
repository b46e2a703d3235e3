/**
 * Worker thread of the embedded store: WAL checkpoints, and the runs' prune when asked, on a
 * connection of its own, so that their copying, fsyncs and deletes never stall Node-RED's event loop (better-sqlite3 is synchronous: a checkpoint
 * run by the writing connection blocks every HTTP answer meanwhile). The store's own connection
 * then runs with `wal_autocheckpoint = 0`. See SqliteStore.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { runsPruner } from './sqlite-prune.js';
import type { PruneRequest } from './sqlite-prune.js';

export interface CheckpointerData {
  file: string;
  /** As the store's connection: the checkpoint's fsyncs follow it. */
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
  /** How often to checkpoint what the WAL holds (PASSIVE: never waits for the writer). */
  intervalMs: number;
  /**
   * WAL size (pages) from which a RESTART checkpoint follows the passive one: a writer that never
   * pauses would otherwise keep the WAL from being rewound, and it would grow without end. RESTART
   * briefly holds new writes back (the writer waits in its busy handler).
   */
  restartPages: number;
}

interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

const data = workerData as CheckpointerData;
const db = new Database(data.file, { fileMustExist: true });
db.pragma(`synchronous = ${data.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(data.busyTimeoutMs))}`);
db.pragma('wal_autocheckpoint = 0');
// As the store's connection: the runs' prune deletes their values by the foreign key's cascade.
db.pragma('foreign_keys = ON');

function checkpoint(): void {
  try {
    const [passive] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    if (passive && passive.log >= data.restartPages) db.pragma('wal_checkpoint(RESTART)');
  } catch {
    // SQLITE_BUSY and the like: the next round tries again.
  }
}

const timer = setInterval(checkpoint, Math.max(10, data.intervalMs));

/** What the store asks of this thread besides 'close': one prune batch (src/store/sqlite-prune.ts). */
export interface WorkerRequest {
  id: number;
  prune: PruneRequest;
}

export interface WorkerAnswer {
  id: number;
  removed?: number;
  error?: string;
}

const prune = runsPruner(db);

parentPort?.on('message', (message: unknown) => {
  if (message === 'close') {
    clearInterval(timer);
    db.close();
    parentPort?.close();
    return;
  }
  const { id, prune: request } = message as WorkerRequest;
  let answer: WorkerAnswer;
  try {
    answer = { id, removed: prune(request) };
  } catch (err) {
    answer = { id, error: (err as Error).message };
  }
  parentPort?.postMessage(answer);
});
