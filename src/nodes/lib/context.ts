import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunTracker } from '../../runs/tracker.js';
import type { NodeRef, RunRecord, RunStatus } from '../../runs/tracker.js';
import { importLegacyFiles, openStore, retentionPolicy } from '../../store/index.js';
import type { RetentionPolicy, RunsSettings, Store, StoreSettings } from '../../store/index.js';
import { DeferredStore } from '../../store/deferred.js';
import { runsMessage } from './messages.js';

/**
 * What every node of this package shares inside one Node-RED runtime: the data folder, the store
 * (accepted inputs, runs, node state), the run tracker fed by the runtime's message hooks, and the
 * registry of trigger nodes (for Re-run). Created on first use by any node module.
 */
export interface PackageContext {
  dataDir: string;
  store: DeferredStore;
  runs: RunTracker;
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

/** The `imis` section of Node-RED's settings.js. */
interface ImisSettings {
  store?: StoreSettings;
  runs?: RunsSettings;
}

let shared: PackageContext | undefined;
let timers: NodeJS.Timeout[] = [];
let flushOnExit: (() => void) | undefined;

/** How often finished runs beyond the retention policy and expired event ids are pruned. */
const PRUNE_EVERY_MS = 10 * 60 * 1000;

export function packageContext(RED: any): PackageContext {
  const dataDir = resolveDataDir(RED);
  if (shared && shared.dataDir === dataDir) return shared;
  const previous = shared;
  const settings: ImisSettings = RED.settings?.imis ?? {};
  const storeSettings: StoreSettings = {
    ...(settings.store ?? {}),
    ...(typeof RED.settings?.imisStoreFile === 'string' ? { file: RED.settings.imisStoreFile } : {}),
  };
  const leaseMs = Math.max(1, Number(storeSettings.leaseSeconds) || 30) * 1000;
  const engine = storeSettings.url || process.env.IMIS_STORE_URL ? 'postgres' : 'sqlite';
  const opening = (async () => {
    await previous?.store.close().catch(() => undefined);
    const store = await openStore(storeSettings, dataDir);
    const imported = await importLegacyFiles(store, dataDir);
    if (Object.values(imported).some((n) => n > 0))
      RED.log?.info?.(runsMessage(RED, 'log.imported', { ...imported }));
    return store;
  })();
  const store = new DeferredStore(engine, opening);
  opening.then(
    () => RED.log?.info?.(runsMessage(RED, 'log.store', { engine })),
    (err: Error) => RED.log?.error?.(runsMessage(RED, 'errors.store', { engine, message: err.message })),
  );
  const settleListeners = new Map<string, ((status: RunStatus) => void)[]>();
  const notify = (run: RunRecord) => {
    const listeners = settleListeners.get(run.id);
    if (!listeners) return;
    settleListeners.delete(run.id);
    for (const listener of listeners) listener(run.status);
  };
  const runs = new RunTracker({
    onSettled: (run: RunRecord) => {
      store
        .finishRun(run)
        .catch((err: Error) =>
          RED.log?.warn?.(runsMessage(RED, 'errors.save', { id: run.id, message: err.message })),
        );
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
    setInterval(() => store.heartbeat().catch(() => undefined), Math.max(1000, leaseMs / 3)),
    setInterval(() => void prune(store, retention), PRUNE_EVERY_MS),
  ];
  for (const t of timers) t.unref();
  void store.ready.then(() => prune(store, retention)).catch(() => undefined);
  shared = {
    dataDir,
    store,
    runs,
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
  } catch {
    // the next round tries again
  }
}

function resolveDataDir(RED: any): string {
  const settings = RED.settings ?? {};
  if (typeof settings.imisDataDir === 'string') return settings.imisDataDir;
  if (typeof settings.userDir === 'string') return join(settings.userDir, 'imis-data');
  fallbackDir = fallbackDir ?? mkdtempSync(join(tmpdir(), 'imis-data-'));
  return fallbackDir;
}
let fallbackDir: string | undefined;

function nodeRef(node: any): NodeRef {
  return { id: node.id, type: node.type, name: node.name || undefined };
}

/** Feeds the run trackers from the runtime's message-routing hooks (Node-RED 2+). */
function registerHooks(RED: any, trackers: RunTracker[]): void {
  const hooks = RED.hooks;
  if (!hooks) return;
  hooks.remove('*.imisRuns');
  // A message id is live in one tracker at most: runs are started with new ids, and a message is
  // followed only when it is not part of a run.
  const trackerOf = (id: unknown) =>
    typeof id === 'string' ? trackers.find((t) => t.isLive(id)) : undefined;
  hooks.add('preDeliver.imisRuns', (event: any) => {
    const id = event.msg?._msgid;
    trackerOf(id)?.delivered(id, nodeRef(event.destination.node));
  });
  // A node whose input handlers take no `done` (written for Node-RED 0.x, or with no handler)
  // never completes its messages: its step ends once its handler has been called.
  // `_expectedDoneCount` is the runtime's own count of handlers that take `done`.
  hooks.add('postReceive.imisRuns', (event: any) => {
    const id = event.msg?._msgid;
    if (event.destination?.node?._expectedDoneCount === 0) trackerOf(id)?.completed(id, event.destination.id);
  });
  hooks.add('onComplete.imisRuns', (event: any) => {
    const id = event.msg?._msgid;
    const tracker = trackerOf(id);
    if (!tracker) return;
    const error = event.error ? String(event.error.message ?? event.error) : undefined;
    tracker.completed(id, event.node.id, error);
  });
  // A node that reports an error for a message and then completes it without one (node.error(err,
  // msg) then done(): Node-RED's own http request node does so for a refused connection) fails the
  // run all the same. Such a report reaches the Catch nodes in scope as a message with `error`;
  // without a Catch node the runtime only logs it, and the run cannot know.
  hooks.add('onReceive.imisRuns', (event: any) => {
    const msg = event.msg;
    if (event.destination?.node?.type !== 'catch' || !msg?.error) return;
    const id = msg._msgid;
    const source = typeof msg.error.source?.id === 'string' ? msg.error.source.id : event.destination.id;
    trackerOf(id)?.failed(id, source, String(msg.error.message ?? msg.error));
  });
}
