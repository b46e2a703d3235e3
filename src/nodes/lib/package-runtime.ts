import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenRegistry } from '../../core/tokens.js';
import type { Deduplicator } from '../../core/dedup.js';
import type { PublishedStore } from '../../core/export.js';
import type { ImisClient } from '../../imis/client.js';
import { RefusedCalls } from '../../runs/refused.js';
import { MessageLineage, stampRunId } from '../../runs/lineage.js';
import { RetryScheduler } from '../../runs/retry.js';
import type { RetryPolicy } from '../../runs/retry.js';
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
import type { RetentionPolicy, StoreSettings } from '../../store/index.js';
import { DeferredStore } from '../../store/deferred.js';
import type { WorkflowRuntime } from '../../workflow/index.js';
import { runsMessage } from './messages.js';
import { findNode } from './red.js';
import type { NodeMessage, Red, SecretEndpointTypes } from './red.js';
import { REJECTED_TOPIC, RejectionFeed } from './rejection-feed.js';
import { HOOKS_LABEL, registerHooks } from './run-hooks.js';
import type { DeployedWorkflow } from './workflows.js';

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

/** A deployed Manual trigger as the dashboard offers it: its input as configured (JSON text). */
export interface DeployedManual {
  id: string;
  flowId: string;
  name?: string;
  input: string;
}

/** The Node-RED comms topic on which the dashboards hear of each run as it settles. */
export const RUNS_TOPIC = 'imis/runs';

/** How often finished runs beyond the retention policy, expired event ids and expired exports are pruned. */
const PRUNE_EVERY_MS = 10 * 60 * 1000;
/** Runs deleted per prune batch. */
const PRUNE_BATCH = 100;
/** Between two prune batches, this many times as long as the batch took (the prune's duty cycle: 1/5). */
const PRUNE_PAUSE_FACTOR = 4;
/** How often the store is asked for the automatic retries that are due. */
const RETRY_SWEEP_MS = 15_000;
/** The insert node types, which may not run twice for one input unless de-duplicated. */
const INSERT_TYPES = new Set(['imis-insert-activity', 'imis-insert-panel']);

/**
 * What every node of this package shares inside one Node-RED runtime: the data folder, the store
 * (accepted inputs, runs, node state), the run trackers fed by the runtime's message hooks
 * (run-hooks.ts), the registry of trigger nodes (for Re-run), the endpoints with a secret URL, the
 * calls they rejected, the workflow runtime, and the timers that retry, sweep, renew leases and
 * prune. `create` builds it (nothing runs yet), `start` sets its timers, hooks and listeners going,
 * `stop` ends them all and closes the store. The nodes reach it through packageRuntime(RED).
 */
export class PackageRuntime {
  readonly store: DeferredStore;
  readonly runs: RunTracker;
  /**
   * Runs that have finished but whose write to the store has not committed yet: the runs API
   * still finds them meanwhile.
   */
  readonly settling = new Map<string, RunRecord>();
  readonly triggers = new Map<string, Trigger>();
  /** Calls the hook endpoints rejected before any run (in memory, the last few per endpoint). */
  readonly refused = new RefusedCalls();
  /** Their announcements to the editors and the logs of calls to unknown URLs (rejections.ts). */
  readonly rejections: RejectionFeed;
  /** Milliseconds an accepted input stays owned by this process without a heartbeat. */
  readonly leaseMs: number;
  readonly retention: RetentionPolicy;
  /** Messages outside any run, followed until their downstream completes (see follow). */
  readonly followers: RunTracker;
  /** Which run (or followed message) each message belongs to (src/runs/lineage.ts). */
  readonly lineage: MessageLineage;
  /** Listeners waiting for a run (or a followed message) to settle, by id. */
  readonly settleListeners = new Map<string, ((status: RunStatus) => void)[]>();
  /** Told of every run that settles (e.g. the Run failed node). */
  readonly runListeners = new Set<(run: RunRecord) => void>();
  /** The deployed nodes with a secret URL, per type, by token (secret-endpoint.ts). */
  readonly endpoints: { [T in keyof SecretEndpointTypes]: TokenRegistry<SecretEndpointTypes[T]> } = {
    'imis-webhook-in': new TokenRegistry(),
    'imis-change-in': new TokenRegistry(),
    'imis-export': new TokenRegistry(),
  };
  /** Deployed workflow config nodes by node id (the admin API lists them). */
  readonly deployedWorkflows = new Map<string, DeployedWorkflow>();
  /** The workflow runtime, made on first use (workflows.ts) and stopped with this one. */
  workflows: WorkflowRuntime | undefined;
  /** The insert nodes' de-duplication over the store, made on first use (action.ts). */
  deduplicator: Deduplicator | undefined;
  /**
   * The exports the Export nodes published (with its memory of the newest bodies), made on first
   * use (imis-export.ts).
   */
  published: PublishedStore | undefined;
  /** The Manual triggers deployed now, by node id (imis-manual.ts). */
  readonly manualTriggers = new Map<string, DeployedManual>();
  /** Clients for a dialog's unsaved server settings, for a few minutes (server-settings.ts). */
  readonly dialogClients = new Map<string, { client: ImisClient; until: number }>();
  /**
   * Whether the runtime's flows are running, from its `flows:started` / `flows:stopping` events.
   * The package is loaded before the flows first start, so until then they are not running.
   */
  flowsRunning: boolean;

  private readonly retries: RetryScheduler;
  /** Milliseconds after which a run still in flight is unfinished (setting imis.runs.unfinishedAfterSec). */
  private readonly unfinishedAfterMs: number;
  /**
   * Member data: with storePayloads false, the stored run keeps no input (the accepted input was
   * stored only until now); in-process listeners (automatic retry) still get it.
   */
  private readonly keepPayloads: boolean;
  private timers: NodeJS.Timeout[] = [];
  private pruning = false;
  private running = false;
  private readonly flushOnExit = () => this.store.flushSync();
  private readonly onFlowsStarted = () => {
    this.flowsRunning = true;
    // Once the flows (and so the triggers) are started, the retries due meanwhile are made.
    void this.retries.sweep().catch(() => undefined);
  };
  private readonly onFlowsStopping = () => {
    this.flowsRunning = false;
  };

  /**
   * The runtime of `RED` over the data folder `dataDir`; its store opens once `previousClosed`
   * (the store of a runtime it replaces) has closed.
   */
  static create(RED: Red, dataDir: string, previousClosed?: Promise<unknown>): PackageRuntime {
    return new PackageRuntime(RED, dataDir, previousClosed);
  }

  private constructor(
    private readonly RED: Red,
    readonly dataDir: string,
    previousClosed: Promise<unknown> | undefined,
  ) {
    const settings = RED.settings.imis ?? {};
    const storeFile = RED.settings.imisStoreFile;
    const storeSettings: StoreSettings = {
      ...(settings.store ?? {}),
      ...(typeof storeFile === 'string' ? { file: storeFile } : {}),
    };
    this.leaseMs = leaseMsOf(storeSettings);
    const engine = engineOf(storeSettings);
    this.store = new DeferredStore(
      engine,
      async () => {
        await previousClosed?.catch(() => undefined);
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
    // The whole reason and the fix, once per cause; the store is tried again in the background.
    this.store.onState((problem) => {
      if (problem) RED.log.error(runsMessage(RED, 'errors.store', { engine, message: problem.message }));
    });
    this.retries = this.retryScheduler();
    const runsSettings = settings.runs ?? {};
    const unfinishedAfterMs = positiveNumber(runsSettings.unfinishedAfterSec, 600) * 1000;
    this.unfinishedAfterMs = unfinishedAfterMs;
    this.keepPayloads = runsSettings.storePayloads !== false;
    this.runs = new RunTracker({
      unfinishedAfterMs,
      maxSteps: Math.trunc(positiveNumber(runsSettings.maxSteps, 1000)),
      onSettled: (run) => this.settled(run),
    });
    // Not recorded anywhere: only follow's listeners hear of these.
    this.followers = new RunTracker({
      unfinishedAfterMs,
      onSettled: (run) => {
        this.lineage.forget(run.id);
        this.notify(run);
      },
    });
    this.lineage = new MessageLineage((id) => this.runs.isLive(id) || this.followers.isLive(id));
    this.retention = retentionPolicy(settings.runs);
    this.rejections = new RejectionFeed((announcement) =>
      RED.comms.publish(REJECTED_TOPIC, announcement, false),
    );
    this.flowsRunning = typeof RED.events?.on !== 'function';
  }

  /**
   * Starts the timers (retries planned before a restart or by another process, the trackers'
   * sweep, the lease heartbeat, the prune), the message hooks of run tracking, the listeners of
   * the flows' events and the flush of batched writes at exit.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    const { RED, runs, followers, store, leaseMs, unfinishedAfterMs } = this;
    this.timers = [
      // Retries planned before a restart, or by another process sharing the store.
      setInterval(() => void this.retries.sweep().catch(() => undefined), RETRY_SWEEP_MS),
      setInterval(
        () => {
          runs.sweep();
          followers.sweep();
        },
        Math.min(60_000, Math.max(1000, unfinishedAfterMs / 4)),
      ),
      // Three heartbeats per lease: one may be late without the lease running out.
      setInterval(() => store.inputs.heartbeat().catch(() => undefined), leaseMs / 3),
      setInterval(() => void this.prune(), PRUNE_EVERY_MS),
    ];
    for (const t of this.timers) t.unref();
    void store.ready.then(() => this.prune()).catch(() => undefined);
    // Batched writes are committed before the process ends, where the engine can (Node-RED exits on stop).
    process.once('exit', this.flushOnExit);
    // Setting imis.runs.track false: no message is followed (docs/runs.md §Tracking off).
    if (RED.settings.imis?.runs?.track === false) RED.hooks.remove(`*.${HOOKS_LABEL}`);
    else registerHooks(RED, this);
    if (typeof RED.events?.on === 'function') {
      RED.events.on('flows:started', this.onFlowsStarted);
      RED.events.on('flows:stopping', this.onFlowsStopping);
    }
  }

  /**
   * Stops what start set going, the workflow runtime and the retries waiting in this process, and
   * closes the store (batched writes committed first). Resolves once the store is closed.
   */
  stop(): Promise<void> {
    const { RED } = this;
    if (this.running) {
      this.running = false;
      for (const t of this.timers) clearInterval(t);
      this.timers = [];
      process.off('exit', this.flushOnExit);
      RED.hooks?.remove(`*.${HOOKS_LABEL}`);
      if (typeof RED.events?.off === 'function') {
        RED.events.off('flows:started', this.onFlowsStarted);
        RED.events.off('flows:stopping', this.onFlowsStopping);
      }
    }
    this.retries.close();
    this.rejections.stop();
    this.workflows?.stop();
    this.workflows = undefined;
    return this.store.close().catch(() => undefined);
  }

  /**
   * How the message `msg`, which `node` is handling now, ends: `outcome` resolves once nothing of
   * it is left in flight, with 'ok', 'failed' (a node downstream reported an error) or 'unfinished'
   * (held past the tracker's limit). For a message of a run, that is the end of the whole run and
   * its status. Any other message is followed from `node` on (not recorded as a run), and ends when
   * every node downstream has completed it; the node calls `sent()` once its send() has returned,
   * as until then nothing downstream is in flight yet.
   */
  follow(msg: NodeMessage, node: NodeRef): { outcome: Promise<RunStatus>; sent(): void } {
    const runId = this.lineage.find(msg);
    const id = runId ?? msg._msgid ?? newRunId();
    const outcome = new Promise<RunStatus>((resolve) => {
      const listeners = this.settleListeners.get(id) ?? [];
      listeners.push(resolve);
      this.settleListeners.set(id, listeners);
    });
    if (runId !== undefined) return { outcome, sent: () => undefined };
    this.followers.start({ id, flowId: '', trigger: node, input: undefined });
    this.lineage.bind(msg, id);
    return { outcome, sent: () => this.followers.release(id) };
  }

  /** The id of the run `msg` is part of, if any (e.g. for a node's handled error). */
  runOf(msg: NodeMessage): string | undefined {
    const id = this.lineage.find(msg);
    return id !== undefined && this.runs.isLive(id) ? id : undefined;
  }

  /**
   * Re-runs a run that another node's message started: its stored input goes again to the node of
   * this package it first reached, as a new run linked to the original. Undefined when that node is
   * not deployed any more.
   */
  rerunAtEntry(run: RunRecord): string | undefined {
    const node = run.entry && findNode(this.RED, run.entry.id);
    if (!node) return undefined;
    const id = newRunId();
    this.runs.start({
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
    this.runs.release(id);
    return id;
  }

  /** A run has settled: stored, retried if planned, and told to whoever listens. */
  private settled(settled: RunRecord): void {
    const { RED, store, settling } = this;
    this.lineage.forget(settled.id);
    const retrying = this.retries.plan(settled);
    const run: RunRecord = this.keepPayloads
      ? settled
      : { ...settled, input: undefined, inputExtra: undefined, inputNotStored: true };
    settling.set(run.id, run);
    store.runs
      .finish(run)
      .catch((err: Error) =>
        RED.log.warn(runsMessage(RED, 'errors.save', { id: run.id, message: err.message })),
      )
      .finally(() => {
        if (settling.get(run.id) === run) settling.delete(run.id);
      });
    if (retrying) this.retries.schedule(settled);
    this.notify(run);
    for (const listener of this.runListeners) {
      try {
        listener(settled);
      } catch (err) {
        RED.log.warn((err as Error).message);
      }
    }
    this.announceRun(run);
  }

  private notify(run: RunRecord): void {
    const listeners = this.settleListeners.get(run.id);
    if (!listeners) return;
    this.settleListeners.delete(run.id);
    for (const listener of listeners) listener(run.status);
  }

  /** Tells the open editors (the Runs dashboard) that a run settled: what a list item needs to refresh. */
  private announceRun(run: RunRecord): void {
    const { id, flowId, trigger, status, startedAt, finishedAt, rerunOf, businessKey } = run;
    this.RED.comms.publish(
      RUNS_TOPIC,
      { id, flowId, triggerId: trigger.id, status, startedAt, finishedAt, rerunOf, businessKey },
      false,
    );
  }

  /**
   * Prunes in small batches, pausing after each for four times as long as it took
   * (PRUNE_PAUSE_FACTOR, src/store/paced.ts). One prune at a time: a backlog may take longer than
   * PRUNE_EVERY_MS.
   */
  private async prune(): Promise<void> {
    if (this.pruning) return;
    this.pruning = true;
    const { store, retention } = this;
    try {
      await pacedBatches(
        () => store.runs.prune(retention, new Date(), PRUNE_BATCH),
        PRUNE_BATCH,
        PRUNE_PAUSE_FACTOR,
      );
      await store.seen.prune();
      await store.exports.prune();
      // De-duplication records live as long as the runs that could be re-run.
      await store.dedup.prune(new Date(Date.now() - retention.maxAgeMs));
    } catch {
      // the next round tries again
    } finally {
      this.pruning = false;
    }
  }

  /**
   * Automatic retry (src/runs/retry.ts): a failed run whose trigger has a retry policy is re-run
   * after its backoff when shouldRetry allows (transient failure, retries left, no insert without a
   * de-duplication key). The plan is stored with the run, so a retry still waiting when Node-RED
   * stops is made after the restart.
   */
  private retryScheduler(): RetryScheduler {
    const { RED } = this;
    const triggerOf = (run: RunRecord) => this.triggers.get(run.trigger.id);
    return new RetryScheduler({
      storage: this.store,
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
}

/** A setting that must be a positive number, else `fallback`. */
function positiveNumber(value: unknown, fallback: number): number {
  return typeof value === 'number' && value > 0 ? value : fallback;
}

/*
 * The registry: the one place that finds the package runtime of a Node-RED runtime. Node-RED hands
 * each node module its own RED object, but the objects of one Node-RED runtime share its event
 * bus (RED.events), which keys the registry (RED.settings where a harness gives no events). The
 * first node module that asks creates and starts the runtime; it is replaced when the data folder
 * the settings name changes (tests), and stopped by stopPackageRuntime (tests, after each).
 */
const runtimes = new WeakMap<object, { runtime: PackageRuntime; configuredDir: string | undefined }>();

function registryKey(RED: Red): object {
  return (RED.events as object | undefined) ?? RED.settings;
}

/** The data folder the settings name: imisDataDir, else `<userDir>/imis-data`; else none. */
function configuredDataDir(RED: Red): string | undefined {
  const { imisDataDir, userDir } = RED.settings;
  if (typeof imisDataDir === 'string') return imisDataDir;
  if (typeof userDir === 'string') return join(userDir, 'imis-data');
  return undefined;
}

/** The package runtime of the Node-RED runtime `RED` belongs to, created and started on first use. */
export function packageRuntime(RED: Red): PackageRuntime {
  const key = registryKey(RED);
  const configuredDir = configuredDataDir(RED);
  const entry = runtimes.get(key);
  if (entry && entry.configuredDir === configuredDir) return entry.runtime;
  const closing = entry?.runtime.stop();
  // No folder in the settings (a harness): a temporary one.
  const dataDir = configuredDir ?? mkdtempSync(join(tmpdir(), 'imis-data-'));
  const runtime = PackageRuntime.create(RED, dataDir, closing);
  if (entry) runtime.flowsRunning = entry.runtime.flowsRunning;
  runtimes.set(key, { runtime, configuredDir });
  runtime.start();
  return runtime;
}

/** Stops the package runtime of `RED`'s Node-RED runtime, if one runs (the next use creates a new one). */
export async function stopPackageRuntime(RED: Red): Promise<void> {
  const key = registryKey(RED);
  const entry = runtimes.get(key);
  if (!entry) return;
  runtimes.delete(key);
  await entry.runtime.stop();
}
