/**
 * Worker thread of the embedded store: WAL checkpoints, and the runs' prune when asked, on a
 * connection of its own, so that their copying, fsyncs and deletes never stall Node-RED's event loop (both SQLite engines are synchronous: a
 * checkpoint run by the writing connection blocks every HTTP answer meanwhile). The store's own connection
 * then runs with `wal_autocheckpoint = 0`. See SqliteEngine.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from './sqlite-driver.js';
import type { SqliteDriverName } from './sqlite-driver.js';
import { pruneRuns } from '../repositories/runs.js';
import { SqliteConnection } from './sqlite-connection.js';
import type { PruneRequest } from './types.js';

export interface CheckpointerData {
  file: string;
  /** The store's engine: the worker uses the same one. */
  driver: SqliteDriverName;
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
const db = openSqlite(data.file, { driver: data.driver, fileMustExist: true });
db.exec(`PRAGMA synchronous = ${data.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(data.busyTimeoutMs))}`);
db.exec('PRAGMA wal_autocheckpoint = 0');
// As the store's connection: the runs' prune deletes their values by the foreign key's cascade.
db.exec('PRAGMA foreign_keys = ON');
const passiveCheckpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const restartCheckpoint = db.prepare('PRAGMA wal_checkpoint(RESTART)');

function checkpoint(): void {
  try {
    const passive = passiveCheckpoint.get() as CheckpointResult | undefined;
    if (passive && passive.log >= data.restartPages) restartCheckpoint.get();
  } catch {
    // SQLITE_BUSY and the like: the next round tries again.
  }
}

const timer = setInterval(checkpoint, Math.max(10, data.intervalMs));

/** What the store asks of this thread besides 'close': one prune batch (repositories/runs.ts). */
export interface WorkerRequest {
  id: number;
  prune: PruneRequest;
}

export interface WorkerAnswer {
  id: number;
  removed?: number;
  error?: string;
}

const connection = new SqliteConnection(db);

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
    answer = { id, removed: connection.drive(pruneRuns(request)) };
  } catch (err) {
    answer = { id, error: (err as Error).message };
  }
  parentPort?.postMessage(answer);
});
