import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RefusedCalls } from '../../runs/refused.js';
import { MessageLineage, carriedLabels, stampRunId } from '../../runs/lineage.js';
import { RunTracker, newRunId } from '../../runs/tracker.js';
import type { NodeRef, RunRecord, RunStatus } from '../../runs/tracker.js';
import {
  engineInUse,
  engineOf,
  storeLocation,
  storeProblem,
  importLegacyFiles,
  leaseMsOf,
  openStore,
  pacedBatches,
  retentionPolicy,
} from '../../store/index.js';
import type { RetentionPolicy, Store, StoreSettings } from '../../store/index.js';
import { DeferredStore } from '../../store/deferred.js';
import { isTransient } from '../../imis/errors.js';
import { foreignInput, payloadSummary, secretHeaderTest } from '../../runs/redact.js';
import { RetryScheduler } from '../../runs/retry.js';
import type { RetryPolicy } from '../../runs/retry.js';
import { runsMessage } from './messages.js';
import { processEvents } from './processes.js';
import type { ProcessEvents, RunSummary } from './processes.js';
import { addHook, expectedDoneCount, findNode } from './red.js';
import type { Node, NodeMessage, Red } from './red.js';

/**
 * What every node of this package shares inside one Node-RED runtime: the data folder, the store
 * (accepted inputs, runs, node state), the run tracker fed by the runtime's message hooks, the
 * registry of trigger nodes (for Re-run) and the calls their endpoints rejected. Created on first use by any node module.
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
  /** Calls the hook endpoints rejected before any run (in memory, the last few per endpoint). */
  refused: RefusedCalls;
  /** The other Node-RED processes sharing a PostgreSQL store: runs settled, calls rejected. */
  processes: ProcessEvents;
  /** Seconds an accepted input stays owned by this process without a heartbeat. */
  leaseMs: number;
  retention: RetentionPolicy;
  /** Messages outside any run, followed until their downstream completes (see followMessage). */
  followers: RunTracker;
  /** Which run (or followed message) each message belongs to (src/runs/lineage.ts). */
  lineage: MessageLineage;
  /** Listeners waiting for a run (or a followed message) to settle, by id. */
  settleListeners: Map<string, ((status: RunStatus) => void)[]>;
  /** Told of every run that settles (e.g. the Run failed node). */
  runListeners: Set<(run: RunRecord) => void>;
}

/** A node that starts runs and can start one again from a stored input. */
export interface Trigger {
  /** `retry`: the number of an automatic re-run (1 = the first), absent for one asked for. */
  rerun(
    input: unknown,
    extra: Record<string, unknown> | undefined,
    rerunOf: string,
    retry?: number,
  ): Promise<string>;
  /** Automatic re-runs of its failed runs (none when absent or 0 attempts). */
  retry?: RetryPolicy;
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
  const closing = previous?.store.close().catch(() => undefined);
  const store = new DeferredStore(
    engine,
    async () => {
      await closing;
      const opened = await openStore(storeSettings, dataDir);
      const imported = await importLegacyFiles(opened, dataDir);
      if (Object.values(imported).some((n) => n > 0))
        RED.log.info(runsMessage(RED, 'log.imported', { ...imported }));
      const inUse = engineInUse(opened);
      // Not an error: node:sqlite does the same work, a little slower (docs/store.md §SQLite engines).
      if (inUse.fellBack) RED.log.info(runsMessage(RED, 'log.storeFellBack', { reason: inUse.fellBack }));
      RED.log.info(runsMessage(RED, 'log.store', { engine: inUse.engine }));
      return opened;
    },
    (err) => storeProblem(err, engine, storeLocation(storeSettings, dataDir)),
  );
  // Runs settled in the other processes sharing the store: to this process's open dashboards too.
  const processes = processEvents(store, (run) => RED.comms.publish(RUNS_TOPIC, run, false));
  // The whole reason and the fix, once per cause; the store is tried again in the background.
  store.onState((problem) => {
    if (problem) RED.log.error(runsMessage(RED, 'errors.store', { engine, message: problem.message }));
  });
  const settling = new Map<string, RunRecord>();
  const settleListeners = new Map<string, ((status: RunStatus) => void)[]>();
  const runListeners = new Set<(run: RunRecord) => void>();
  const notify = (run: RunRecord) => {
    const listeners = settleListeners.get(run.id);
    if (!listeners) return;
    settleListeners.delete(run.id);
    for (const listener of listeners) listener(run.status);
  };
  // Member data: with storePayloads false, the stored run keeps no input (the accepted input was
  // stored only until now); in-process listeners (automatic retry) still get it.
  const keepPayloads = settings.runs?.storePayloads !== false;
  const retries = retryScheduler(RED, store, () => shared);
  const runsSettings = settings.runs ?? {};
  const unfinishedAfterMs = positiveNumber(runsSettings.unfinishedAfterSec, 600) * 1000;
  const runs = new RunTracker({
    unfinishedAfterMs,
    maxSteps: Math.trunc(positiveNumber(runsSettings.maxSteps, 1000)),
    onSettled: (settled: RunRecord) => {
      lineage.forget(settled.id);
      const retrying = retries.plan(settled);
      const run: RunRecord = keepPayloads
        ? settled
        : { ...settled, input: undefined, inputExtra: undefined, inputNotStored: true };
      settling.set(run.id, run);
      store
        .finishRun(run)
        .catch((err: Error) =>
          RED.log.warn(runsMessage(RED, 'errors.save', { id: run.id, message: err.message })),
        )
        .finally(() => {
          if (settling.get(run.id) === run) settling.delete(run.id);
        });
      if (retrying) retries.schedule(settled);
      notify(run);
      for (const listener of runListeners) {
        try {
          listener(settled);
        } catch (err) {
          RED.log.warn((err as Error).message);
        }
      }
      processes.runSettled(announceRun(RED, run));
    },
  });
  // Not recorded anywhere: only followMessage's listeners hear of these.
  const followers = new RunTracker({
    unfinishedAfterMs,
    onSettled: (run) => {
      lineage.forget(run.id);
      notify(run);
    },
  });
  const lineage = new MessageLineage((id) => runs.isLive(id) || followers.isLive(id));
  const retention = retentionPolicy(settings.runs);
  for (const t of timers) clearInterval(t);
  currentRetries?.close();
  currentRetries = retries;
  timers = [
    // Retries planned before a restart, or by another process sharing the store.
    setInterval(() => void retries.sweep().catch(() => undefined), RETRY_SWEEP_MS),
    setInterval(
      () => {
        runs.sweep();
        followers.sweep();
      },
      Math.min(60_000, Math.max(1000, unfinishedAfterMs / 4)),
    ),
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
    processes,
    leaseMs,
    retention,
    followers,
    lineage,
    settleListeners,
    runListeners,
  };
  if (!flushOnExit) {
    // Batched writes are committed before the process ends, where the engine can (Node-RED exits on stop).
    flushOnExit = () => shared?.store.flushSync();
    process.once('exit', flushOnExit);
  }
  // Setting imis.runs.track false: no message is followed (docs/runs.md §Tracking off).
  if (runsSettings.track === false) RED.hooks.remove('*.imisRuns');
  else registerHooks(RED, shared, startForeignRun(RED, runs, lineage));
  // Once the flows (and so the triggers) are started, the retries due meanwhile are made.
  if (RED.events && !sweepsAtStart.has(RED.events)) {
    sweepsAtStart.add(RED.events);
    RED.events.on('flows:started', () => void currentRetries?.sweep().catch(() => undefined));
  }
  return shared;
}

/**
 * How the message `msg`, which `node` is handling now, ends: `outcome` resolves once nothing of
 * it is left in flight, with 'ok', 'failed' (a node downstream reported an error) or 'unfinished'
 * (held past the tracker's limit). For a message of a run, that is the end of the whole run and
 * its status. Any other message is followed from `node` on (not recorded as a run), and ends when
 * every node downstream has completed it; the node calls `sent()` once its send() has returned,
 * as until then nothing downstream is in flight yet.
 */
export function followMessage(
  ctx: PackageContext,
  msg: NodeMessage,
  node: NodeRef,
): { outcome: Promise<RunStatus>; sent(): void } {
  const runId = ctx.lineage.find(msg);
  const id = runId ?? msg._msgid ?? newRunId();
  const outcome = new Promise<RunStatus>((resolve) => {
    const listeners = ctx.settleListeners.get(id) ?? [];
    listeners.push(resolve);
    ctx.settleListeners.set(id, listeners);
  });
  if (runId !== undefined) return { outcome, sent: () => undefined };
  ctx.followers.start({ id, flowId: '', trigger: node, input: undefined });
  ctx.lineage.bind(msg, id);
  return { outcome, sent: () => ctx.followers.release(id) };
}

/** The id of the run `msg` is part of, if any (e.g. for a node's handled error). */
export function runOf(ctx: PackageContext, msg: NodeMessage): string | undefined {
  const id = ctx.lineage.find(msg);
  return id !== undefined && ctx.runs.isLive(id) ? id : undefined;
}

/** The Node-RED comms topic on which the dashboards hear of each run as it settles. */
export const RUNS_TOPIC = 'imis/runs';

/**
 * Tells the open editors (the Runs dashboard) that a run settled: what a list item needs to
 * refresh (answered, for the other processes' editors).
 */
function announceRun(RED: Red, run: RunRecord): RunSummary {
  const { id, flowId, trigger, status, startedAt, finishedAt, rerunOf, businessKey } = run;
  const summary = { id, flowId, triggerId: trigger.id, status, startedAt, finishedAt, rerunOf, businessKey };
  RED.comms.publish(RUNS_TOPIC, summary, false);
  return summary;
}

/** Runs deleted per prune batch. */
const PRUNE_BATCH = 100;
/** Between two prune batches, this many times as long as the batch took (the prune's duty cycle: 1/5). */
const PRUNE_PAUSE_FACTOR = 4;
let pruning = false;

/**
 * Prunes in small batches, pausing after each for twice as long as it took (src/store/paced.ts).
 * One prune at a time: a backlog may take longer than PRUNE_EVERY_MS.
 */
async function prune(store: Store, retention: RetentionPolicy): Promise<void> {
  if (pruning) return;
  pruning = true;
  try {
    await pacedBatches(
      () => store.pruneRuns(retention, new Date(), PRUNE_BATCH),
      PRUNE_BATCH,
      PRUNE_PAUSE_FACTOR,
    );
    await store.pruneSeen();
    await store.pruneExports();
    // De-duplication records live as long as the runs that could be re-run.
    await store.pruneDedup(new Date(Date.now() - retention.maxAgeMs));
  } catch {
    // the next round tries again
  } finally {
    pruning = false;
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

/** A setting that must be a positive number, else `fallback`. */
function positiveNumber(value: unknown, fallback: number): number {
  return typeof value === 'number' && value > 0 ? value : fallback;
}

function nodeRef(node: Node): NodeRef {
  return { id: node.id, type: node.type, name: node.name || undefined };
}

/**
 * The node types of this package at which a message from another node starts a run: every node
 * with an input, but the cron's control input. Its own triggers start their runs themselves.
 */
export const RUN_ENTRY_TYPES: ReadonlySet<string> = new Set([
  'imis-schema-validate',
  'imis-insert-activity',
  'imis-insert-panel',
  'imis-iupdate',
  'imis-export',
  'imis-iqa',
  'imis-api',
  'imis-delta',
  'imis-state-machine',
]);

/** Largest input (JSON bytes) kept of a run started by another node's message (setting imis.runs.maxInputBytes). */
const MAX_INPUT_BYTES = 1024 * 1024;

/**
 * Starts a run for a message of another node (inject, http in, a function) that reaches `node`,
 * a node of this package, while not part of a run: the run is named after the sending node, its
 * id is the message's (a new one if a run had it already), and a snapshot of the message (secrets
 * redacted, bounded) is its input. The run is held: the caller delivers, then releases it.
 */
function startForeignRun(RED: Red, runs: RunTracker, lineage: MessageLineage) {
  const isSecret = secretHeaderTest(RED.settings.imisRedactHeaders);
  const setting = RED.settings.imis?.runs?.maxInputBytes;
  const maxBytes = typeof setting === 'number' && setting >= 0 ? setting : MAX_INPUT_BYTES;
  return (msg: NodeMessage, node: Node, source: Node | undefined): string => {
    const input = foreignInput(msg as Record<string, unknown>, isSecret, maxBytes);
    const sender = source ?? node;
    const id = msg._msgid && !lineage.wasUsed(msg._msgid) ? msg._msgid : newRunId();
    runs.start({
      id,
      flowId: sender.z ?? node.z,
      trigger: nodeRef(sender),
      input: input.payload,
      inputExtra: input.extra,
      entry: nodeRef(node),
      ...(input.truncated ? { inputTruncated: input.truncated } : {}),
    });
    return id;
  };
}

/** The insert node types, which may not run twice for one input unless de-duplicated. */
const INSERT_TYPES = new Set(['imis-insert-activity', 'imis-insert-panel']);

/** How often the store is asked for the automatic retries that are due. */
const RETRY_SWEEP_MS = 15_000;
let currentRetries: RetryScheduler | undefined;
/** The runtimes whose 'flows:started' event sweeps the retries. */
const sweepsAtStart = new WeakSet<object>();

/**
 * Automatic retry (src/runs/retry.ts): a failed run whose trigger has a retry policy is re-run
 * after its backoff when shouldRetry allows (transient failure, retries left, no insert without a
 * de-duplication key). The plan is stored with the run, so a retry still waiting when Node-RED
 * stops is made after the restart.
 */
function retryScheduler(RED: Red, store: Store, context: () => PackageContext | undefined) {
  const triggerOf = (run: RunRecord) => context()?.triggers.get(run.trigger.id);
  return new RetryScheduler({
    storage: store,
    policyOf: (run) => triggerOf(run)?.retry,
    unsafe: (step) => {
      if (!INSERT_TYPES.has(step.type)) return false;
      const node = findNode(RED, step.id);
      return !(node && 'deduplicated' in node && node.deduplicated === true);
    },
    rerun: async (run, retry) => {
      const trigger = triggerOf(run);
      if (!trigger) return false;
      await trigger.rerun(run.input, run.inputExtra, run.id, retry);
      return true;
    },
    warn: (reason, id, message) =>
      RED.log.warn(runsMessage(RED, `errors.retry-${reason}`, { id, message: message ?? '' })),
  });
}

/**
 * Re-runs a run that another node's message started: its stored input goes again to the node of
 * this package it first reached, as a new run linked to the original. Undefined when that node is
 * not deployed any more.
 */
export function rerunAtEntry(RED: Red, run: RunRecord): string | undefined {
  const node = run.entry && findNode(RED, run.entry.id);
  if (!node) return undefined;
  const { runs } = packageContext(RED);
  const id = newRunId();
  runs.start({
    id,
    flowId: run.flowId,
    trigger: run.trigger,
    input: run.input,
    inputExtra: run.inputExtra,
    entry: run.entry,
    rerunOf: run.id,
  });
  const msg: NodeMessage = { ...run.inputExtra, payload: run.input, _msgid: id };
  stampRunId(msg, id);
  // The node receives it directly: the hooks count that delivery (onReceive), then the run is let go.
  node.receive(msg);
  runs.release(id);
  return id;
}

/**
 * The preview of a step's payload kept in the run log (`imis.runs.stepPreviewChars`, 500 by
 * default), or none when that is 0 or `imis.runs.storePayloads` is false.
 */
function stepPreviews(RED: Red): ((payload: unknown) => string) | undefined {
  const settings = RED.settings.imis?.runs ?? {};
  const chars = typeof settings.stepPreviewChars === 'number' ? Math.trunc(settings.stepPreviewChars) : 500;
  if (settings.storePayloads === false || !(chars > 0)) return undefined;
  return (payload) => payloadSummary(payload, chars);
}

/**
 * Feeds the run trackers from the runtime's message-routing hooks (Node-RED 2+: preDeliver,
 * onReceive, onComplete): the run lifecycle of docs/runs.md. Each hook is synchronous and cheap,
 * as it runs for every message.
 */
function registerHooks(
  RED: Red,
  ctx: PackageContext,
  startRun: (msg: NodeMessage, node: Node, source: Node | undefined) => string,
): void {
  RED.hooks.remove('*.imisRuns');
  const { runs, followers, lineage } = ctx;
  // An id is live in one tracker at most: runs are started with new ids, and a message is
  // followed only when it is not part of a run.
  const trackerOf = (id: string | undefined) =>
    id === undefined ? undefined : runs.isLive(id) ? runs : followers.isLive(id) ? followers : undefined;
  const previews = stepPreviews(RED);
  // A message routed to a node and not received yet (delivery is asynchronous) says so on itself
  // (routedTo/routedCount below): a message a node receives without being routed to it (link in,
  // Catch, Complete, receive()) is a delivery of its own.
  // Completions wait for the runtime's hand-off to Catch and Complete nodes (see onComplete),
  // gathered into one microtask.
  let completions: [RunTracker, string, string][] = [];
  const complete = () => {
    const due = completions;
    completions = [];
    for (const [tracker, id, nodeId] of due) tracker.completed(id, nodeId);
  };
  /** `msg` is part of run (or followed message) `id`: bound, stamped, its labels read. */
  const join = (msg: NodeMessage, id: string, tracker: RunTracker) => {
    lineage.bind(msg, id);
    if (tracker !== runs) return;
    stampRunId(msg, id);
    const labels = carriedLabels(msg);
    if (labels) runs.label(id, labels);
  };

  addHook(RED, 'preDeliver', 'imisRuns', (event) => {
    const { msg } = event;
    const node = event.destination.node;
    if (!node) return;
    let id = lineage.find(msg);
    let tracker = trackerOf(id);
    let started = false;
    if (!tracker) {
      // A message of no run reaching one of our nodes starts a run, unless it is a late message
      // of a run that has ended (e.g. held by a node past the run's end).
      if (!RUN_ENTRY_TYPES.has(node.type) || lineage.isLate(msg)) return;
      id = startRun(msg, node, event.source?.node);
      tracker = runs;
      started = true;
    }
    if (id === undefined) return;
    join(msg, id, tracker);
    markRouted(msg, node.id);
    tracker.delivered(id, node);
    if (started) runs.release(id);
    // Only runs keep previews; a followed message is not recorded.
    if (tracker !== runs || !previews) return;
    let preview: string | undefined;
    const make = () => (preview ??= previews(msg.payload));
    runs.preview(id, node.id, make);
    if (event.source?.id) runs.sent(id, event.source.id, make);
  });
  // A node that receives a message of a run without its being routed there: link in (from link
  // out or link call), Catch and Complete nodes (copies of the message), Re-run at an entry node.
  addHook(RED, 'onReceive', 'imisRuns', (event) => {
    const { msg, destination } = event;
    const direct = !takeRouted(msg, destination.id);
    const doneless = expectedDoneCount(destination.node) === 0;
    // The common case: routed here (counted at preDeliver), completed by its done().
    if (!direct && !doneless) return;
    const id = lineage.find(msg);
    const tracker = trackerOf(id);
    if (id === undefined || !tracker) return;
    if (direct && destination.node) {
      join(msg, id, tracker);
      tracker.delivered(id, destination.node);
    }
    // A node that reports an error for a message and then completes it without one (node.error(
    // err, msg) then done(): Node-RED's own http request node does so for a refused connection)
    // fails the run all the same. Such a report reaches the Catch nodes in scope as a copy of the
    // message with `error`; without a Catch node the runtime only logs it, and the run cannot know.
    if (destination.node?.type === 'catch' && 'error' in msg && msg.error) {
      const error: unknown = msg.error;
      const source =
        typeof error === 'object' && error !== null && 'source' in error ? sourceId(error.source) : undefined;
      tracker.failed(id, source ?? destination.id, errorText(error));
    }
    // A node whose input handlers take no `done` (written for Node-RED 0.x, or with no handler)
    // never completes its messages: its step ends once its handler, called right after this hook,
    // has returned (Node-RED's postReceive; one hook fewer per message).
    if (doneless && completions.push([tracker, id, destination.id]) === 1) queueMicrotask(complete);
  });
  // Node-RED calls this hook before it hands the completed message to Complete nodes, or the
  // error to Catch nodes (Node.prototype._complete): the completion counts once the runtime is
  // done with it, so that what those nodes send is part of the run before it can end.
  addHook(RED, 'onComplete', 'imisRuns', (event) => {
    const { msg } = event;
    const id = lineage.find(msg);
    const tracker = trackerOf(id);
    if (id === undefined || !tracker) return;
    if (tracker === runs) {
      const labels = carriedLabels(msg);
      if (labels) runs.label(id, labels);
    }
    const nodeId = event.node.id;
    // The error first, with whether it may pass on a later try, before the Catch nodes report it.
    if (event.error) tracker.failed(id, nodeId, errorText(event.error), isTransient(event.error));
    if (completions.push([tracker, id, nodeId]) === 1) queueMicrotask(complete);
  });
}

/** Where a routed message keeps the node it is on its way to, and how many times (symbols: see lineage.ts). */
const ROUTED_TO = Symbol('imis.routedTo');
const ROUTED_COUNT = Symbol('imis.routedCount');
interface Routed {
  [ROUTED_TO]?: string;
  [ROUTED_COUNT]?: number;
}

/** `msg` is routed to `nodeId` (preDeliver). */
function markRouted(msg: NodeMessage & Routed, nodeId: string): void {
  const again = msg[ROUTED_TO] === nodeId && (msg[ROUTED_COUNT] ?? 0) > 0;
  msg[ROUTED_TO] = nodeId;
  msg[ROUTED_COUNT] = again ? (msg[ROUTED_COUNT] ?? 0) + 1 : 1;
}

/** Whether `nodeId` receives `msg` as routed to it (then no longer marked), rather than directly. */
function takeRouted(msg: NodeMessage & Routed, nodeId: string): boolean {
  const count = msg[ROUTED_COUNT];
  if (msg[ROUTED_TO] !== nodeId || !count) return false;
  msg[ROUTED_COUNT] = count - 1;
  return true;
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
