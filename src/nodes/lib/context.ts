import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunTracker } from '../../runs/tracker.js';
import type { NodeRef, RunRecord } from '../../runs/tracker.js';
import { RefusedCalls } from '../../runs/refused.js';
import { engineOf, importLegacyFiles, leaseMsOf, openStore, retentionPolicy } from '../../store/index.js';
import type { RetentionPolicy, Store, StoreSettings } from '../../store/index.js';
import { DeferredStore } from '../../store/deferred.js';
import { runsMessage } from './messages.js';
import { addHook, expectedDoneCount } from './red.js';
import type { Node, Red } from './red.js';

/**
 * What every node of this package shares inside one Node-RED runtime: the data folder, the store
 * (accepted inputs, runs, node state), the run tracker fed by the runtime's message hooks, the
 * registry of trigger nodes (for Re-run) and the calls their protections refused. Created on first use by any node module.
 */
export interface PackageContext {
  dataDir: string;
  store: DeferredStore;
  runs: RunTracker;
  /**
   * Runs that have finished but whose write to the store has not committed yet: the runs API
   * still finds them meanwhile.
   */
  settling: Map<string, RunRecord>;
  triggers: Map<string, Trigger>;
  /** Calls the endpoints' protections refused (in memory, the last few per endpoint). */
  refused: RefusedCalls;
  /** Seconds an accepted input stays owned by this process without a heartbeat. */
  leaseMs: number;
  retention: RetentionPolicy;
}

/** A node that starts runs and can start one again from a stored input. */
export interface Trigger {
  rerun(input: unknown, extra: Record<string, unknown> | undefined, rerunOf: string): Promise<string>;
}

let shared: PackageContext | undefined;
let timers: NodeJS.Timeout[] = [];
let flushOnExit: (() => void) | undefined;

/** How often finished runs beyond the retention policy and expired event ids are pruned. */
const PRUNE_EVERY_MS = 10 * 60 * 1000;

export function packageContext(RED: Red): PackageContext {
  const dataDir = resolveDataDir(RED);
  if (shared && shared.dataDir === dataDir) return shared;
  const previous = shared;
  const settings = RED.settings.imis ?? {};
  const storeFile = RED.settings.imisStoreFile;
  const storeSettings: StoreSettings = {
    ...(settings.store ?? {}),
    ...(typeof storeFile === 'string' ? { file: storeFile } : {}),
  };
  const leaseMs = leaseMsOf(storeSettings);
  const engine = engineOf(storeSettings);
  const opening = (async () => {
    await previous?.store.close().catch(() => undefined);
    const store = await openStore(storeSettings, dataDir);
    const imported = await importLegacyFiles(store, dataDir);
    if (Object.values(imported).some((n) => n > 0))
      RED.log.info(runsMessage(RED, 'log.imported', { ...imported }));
    return store;
  })();
  const store = new DeferredStore(engine, opening);
  opening.then(
    () => RED.log.info(runsMessage(RED, 'log.store', { engine })),
    (err: Error) => RED.log.error(runsMessage(RED, 'errors.store', { engine, message: err.message })),
  );
  const settling = new Map<string, RunRecord>();
  const runs = new RunTracker({
    onSettled: (run: RunRecord) => {
      settling.set(run.id, run);
      store
        .finishRun(run)
        .catch((err: Error) =>
          RED.log.warn(runsMessage(RED, 'errors.save', { id: run.id, message: err.message })),
        )
        .finally(() => {
          if (settling.get(run.id) === run) settling.delete(run.id);
        });
    },
  });
  const retention = retentionPolicy(settings.runs);
  for (const t of timers) clearInterval(t);
  timers = [
    setInterval(() => runs.sweep(), 60_000),
    // Three heartbeats per lease: one may be late without the lease running out.
    setInterval(() => store.heartbeat().catch(() => undefined), leaseMs / 3),
    setInterval(() => void prune(store, retention), PRUNE_EVERY_MS),
  ];
  for (const t of timers) t.unref();
  void store.ready.then(() => prune(store, retention)).catch(() => undefined);
  shared = {
    dataDir,
    store,
    runs,
    settling,
    triggers: new Map(),
    refused: new RefusedCalls(),
    leaseMs,
    retention,
  };
  if (!flushOnExit) {
    // Batched writes are committed before the process ends, where the engine can (Node-RED exits on stop).
    flushOnExit = () => shared?.store.flushSync();
    process.once('exit', flushOnExit);
  }
  registerHooks(RED, runs);
  return shared;
}

/**
 * Prunes in small batches, yielding between them, so that pruning a large backlog never holds the
 * store (and webhook acceptance) for long.
 */
async function prune(store: Store, retention: RetentionPolicy): Promise<void> {
  try {
    while ((await store.pruneRuns(retention, new Date(), 500)) === 500) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    await store.pruneSeen();
  } catch {
    // the next round tries again
  }
}

function resolveDataDir(RED: Red): string {
  const { imisDataDir, userDir } = RED.settings;
  if (typeof imisDataDir === 'string') return imisDataDir;
  if (typeof userDir === 'string') return join(userDir, 'imis-data');
  fallbackDir = fallbackDir ?? mkdtempSync(join(tmpdir(), 'imis-data-'));
  return fallbackDir;
}
let fallbackDir: string | undefined;

function nodeRef(node: Node): NodeRef {
  return { id: node.id, type: node.type, name: node.name || undefined };
}

/** Feeds the run tracker from the runtime's message-routing hooks (Node-RED 2+). */
function registerHooks(RED: Red, runs: RunTracker): void {
  RED.hooks.remove('*.imisRuns');
  addHook(RED, 'preDeliver', 'imisRuns', (event) => {
    const id = event.msg._msgid;
    if (id && runs.isLive(id) && event.destination.node) runs.delivered(id, nodeRef(event.destination.node));
  });
  // A node whose input handlers take no `done` (written for Node-RED 0.x, or with no handler)
  // never completes its messages: its step ends once its handler has been called.
  addHook(RED, 'postReceive', 'imisRuns', (event) => {
    const id = event.msg._msgid;
    if (id && runs.isLive(id) && expectedDoneCount(event.destination.node) === 0) {
      runs.completed(id, event.destination.id);
    }
  });
  addHook(RED, 'onComplete', 'imisRuns', (event) => {
    const id = event.msg._msgid;
    if (!id || !runs.isLive(id)) return;
    const error = event.error ? errorText(event.error) : undefined;
    runs.completed(id, event.node.id, error);
  });
}

function errorText(error: unknown): string {
  return error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)
    ? String(error.message)
    : String(error);
}
