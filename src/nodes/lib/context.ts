import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunTracker } from '../../runs/tracker.js';
import type { NodeRef, RunRecord, RunStatus } from '../../runs/tracker.js';
import { engineOf, importLegacyFiles, leaseMsOf, openStore, retentionPolicy } from '../../store/index.js';
import type { RetentionPolicy, Store, StoreSettings } from '../../store/index.js';
import { DeferredStore } from '../../store/deferred.js';
import { runsMessage } from './messages.js';
import { addHook, expectedDoneCount } from './red.js';
import type { Node, Red } from './red.js';

/**
 * What every node of this package shares inside one Node-RED runtime: the data folder, the store
 * (accepted inputs, runs, node state), the run tracker fed by the runtime's message hooks, and the
 * registry of trigger nodes (for Re-run). Created on first use by any node module.
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
  /** Seconds an accepted input stays owned by this process without a heartbeat. */
  leaseMs: number;
  retention: RetentionPolicy;
  /** Messages outside any run, followed until their downstream completes (see followMessage). */
  followers: RunTracker;
  /** Listeners waiting for a run (or a followed message) to settle, by id. */
  settleListeners: Map<string, ((status: RunStatus) => void)[]>;
}

/** A node that starts runs and can start one again from a stored input. */
export interface Trigger {
  rerun(input: unknown, extra: Record<string, unknown> | undefined, rerunOf: string): Promise<string>;
}

let shared: PackageContext | undefined;
let timers: NodeJS.Timeout[] = [];
let flushOnExit: (() => void) | undefined;

/** How often finished runs beyond the retention policy, expired event ids and expired exports are pruned. */
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
  const settleListeners = new Map<string, ((status: RunStatus) => void)[]>();
  const notify = (run: RunRecord) => {
    const listeners = settleListeners.get(run.id);
    if (!listeners) return;
    settleListeners.delete(run.id);
    for (const listener of listeners) listener(run.status);
  };
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
      notify(run);
    },
  });
  // Not recorded anywhere: only followMessage's listeners hear of these.
  const followers = new RunTracker({ onSettled: notify });
  const retention = retentionPolicy(settings.runs);
  for (const t of timers) clearInterval(t);
  timers = [
    setInterval(() => {
      runs.sweep();
      followers.sweep();
    }, 60_000),
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
    leaseMs,
    retention,
    followers,
    settleListeners,
  };
  if (!flushOnExit) {
    // Batched writes are committed before the process ends, where the engine can (Node-RED exits on stop).
    flushOnExit = () => shared?.store.flushSync();
    process.once('exit', flushOnExit);
  }
  registerHooks(RED, [runs, followers]);
  return shared;
}

/**
 * How the message `msgId`, which `node` is handling now, ends: `outcome` resolves once nothing of
 * it is left in flight, with 'ok', 'failed' (a node downstream reported an error) or 'unfinished'
 * (still in flight after the tracker's limit). For a message of a run, that is the end of the
 * whole run and its status. Any other message is followed from `node` on (not recorded as a run),
 * and ends when every node downstream has completed it; the node calls `sent()` once its send()
 * has returned, as until then nothing downstream is in flight yet.
 */
export function followMessage(
  ctx: PackageContext,
  msgId: string,
  node: NodeRef,
): { outcome: Promise<RunStatus>; sent(): void } {
  const outcome = new Promise<RunStatus>((resolve) => {
    const listeners = ctx.settleListeners.get(msgId) ?? [];
    listeners.push(resolve);
    ctx.settleListeners.set(msgId, listeners);
  });
  if (ctx.runs.isLive(msgId) || ctx.followers.isLive(msgId)) return { outcome, sent: () => undefined };
  ctx.followers.start({ id: msgId, flowId: '', trigger: node, input: undefined });
  return { outcome, sent: () => ctx.followers.release(msgId) };
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
    await store.pruneExports();
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

/** Feeds the run trackers from the runtime's message-routing hooks (Node-RED 2+). */
function registerHooks(RED: Red, trackers: RunTracker[]): void {
  RED.hooks.remove('*.imisRuns');
  // A message id is live in one tracker at most: runs are started with new ids, and a message is
  // followed only when it is not part of a run.
  const trackerOf = (id: string | undefined) => (id ? trackers.find((t) => t.isLive(id)) : undefined);
  addHook(RED, 'preDeliver', 'imisRuns', (event) => {
    const id = event.msg._msgid;
    const tracker = trackerOf(id);
    if (id && tracker && event.destination.node) tracker.delivered(id, nodeRef(event.destination.node));
  });
  // A node whose input handlers take no `done` (written for Node-RED 0.x, or with no handler)
  // never completes its messages: its step ends once its handler has been called.
  addHook(RED, 'postReceive', 'imisRuns', (event) => {
    const id = event.msg._msgid;
    const tracker = trackerOf(id);
    if (id && tracker && expectedDoneCount(event.destination.node) === 0) {
      tracker.completed(id, event.destination.id);
    }
  });
  addHook(RED, 'onComplete', 'imisRuns', (event) => {
    const id = event.msg._msgid;
    const tracker = trackerOf(id);
    if (!id || !tracker) return;
    const error = event.error ? errorText(event.error) : undefined;
    tracker.completed(id, event.node.id, error);
  });
  // A node that reports an error for a message and then completes it without one (node.error(err,
  // msg) then done(): Node-RED's own http request node does so for a refused connection) fails the
  // run all the same. Such a report reaches the Catch nodes in scope as a message with `error`;
  // without a Catch node the runtime only logs it, and the run cannot know.
  addHook(RED, 'onReceive', 'imisRuns', (event) => {
    const { msg, destination } = event;
    const id = msg._msgid;
    const tracker = trackerOf(id);
    if (!id || !tracker || destination.node?.type !== 'catch' || !('error' in msg) || !msg.error) return;
    const error: unknown = msg.error;
    const source =
      typeof error === 'object' && error !== null && 'source' in error ? sourceId(error.source) : undefined;
    tracker.failed(id, source ?? destination.id, errorText(error));
  });
}

/** The `error.source.id` Node-RED puts on a message it hands to a Catch node. */
function sourceId(source: unknown): string | undefined {
  return typeof source === 'object' && source !== null && 'id' in source && typeof source.id === 'string'
    ? source.id
    : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)
    ? String(error.message)
    : String(error);
}
