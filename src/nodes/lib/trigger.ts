import { isTransient } from '../../imis/errors.js';
import type { RetryPolicy } from '../../runs/retry.js';
import { newRunId } from '../../runs/tracker.js';
import { secretHeaderTest, storableExtra } from '../../runs/redact.js';
import type { SignedDelivery } from '../../core/protect/index.js';
import type { AcceptedInput } from '../../store/index.js';
import { packageRuntime } from './package-runtime.js';
import { runsMessage } from './messages.js';
import type { PackageRuntime } from './package-runtime.js';
import type { Node, NodeMessage, Red } from './red.js';

export interface RunStart {
  payload: unknown;
  /** Message properties besides payload (metadata, topic, ...). */
  extra?: Record<string, unknown>;
}

export interface TriggerOptions {
  /** Automatic re-runs of its transient failures (none by default). */
  retry?: RetryPolicy;
  /** Header names the node's protections read: redacted from what is stored, whatever their name. */
  secretHeaders?: readonly string[];
  /**
   * The run's business key and values for an input (e.g. rendered from the node's templates); run
   * again for a replayed or re-run input. Throwing fails the run on the trigger.
   */
  labels?: (input: RunStart) => RunLabels;
}

/** An accepted input's run (or, for a `copy`, the run of the first input of its delivery). */
export interface Accepted {
  runId: string;
  queueTime: string;
  copy?: boolean;
}

/** What names a run besides its id (RunRecord.businessKey and values). */
export interface RunLabels {
  businessKey?: string;
  values?: Record<string, string>;
}

export interface TriggerRuns {
  ctx: PackageRuntime;
  /**
   * Commits the input to the store (so an accepted input survives a crash), then starts the run on
   * the next tick. Resolves once committed: only then may the caller be told "accepted".
   *
   * With `delivery` (a sender's signed id, Standard Webhooks' `webhook-id`, docs/standard-webhooks.md)
   * the id is remembered with the input, in the same transaction, until `rememberUntilMs`: a copy
   * accepted meanwhile (also by an earlier process) stores and starts nothing and resolves to the
   * first one's run id and queue time, with `copy` set.
   */
  accept(start: RunStart, acceptedAt?: Date, delivery?: SignedDelivery): Promise<Accepted>;
  /** Starts a run now without storing its input (e.g. a cron firing, which is re-derived from the schedule). */
  fire(start: RunStart): string;
}

/**
 * What every trigger node shares: a run id per input, the accepted-input store, the message that
 * starts the run (`_msgid` = run id, `imis.runId`, `imis.queueTime`), Re-run from the dashboard, and
 * replay of inputs accepted by an earlier process (or a dead one sharing the store) but never finished.
 *
 * `prepare` may turn a run's message into what is sent (e.g. fetch a full record); it returns the
 * messages to send, or throws to fail the run (reported with node.error(err, msg) for Catch nodes).
 */
export function triggerRuns(
  RED: Red,
  node: Node,
  prepare?: (msg: NodeMessage) => Promise<NodeMessage>,
  options: TriggerOptions = {},
): TriggerRuns {
  const { retry: retryPolicy, secretHeaders = [], labels } = options;
  const ctx = packageRuntime(RED);
  let closed = false;
  // Callers' secrets (Authorization, cookies, signatures, the headers named by the
  // `imisRedactHeaders` setting, and `secretHeaders`: those the node's protections read) are
  // redacted from all that is stored of an input: the accepted input and the run (so the Runs
  // API). The message sent to the flow keeps them.
  const configured: unknown = RED.settings.imisRedactHeaders;
  const isSecret = secretHeaderTest([...(Array.isArray(configured) ? configured : []), ...secretHeaders]);
  const storable = (extra: Record<string, unknown> | undefined) => storableExtra(extra, isSecret);

  const start = (
    runId: string,
    input: RunStart,
    queueTime: string,
    rerunOf?: string,
    storedExtra = storable(input.extra),
    retry?: number,
  ) => {
    if (closed) return; // a replay or re-run that arrived after a redeploy: the new node takes it
    let named: RunLabels = {};
    let unnamed: Error | undefined;
    try {
      named = labels?.(input) ?? {};
    } catch (err) {
      unnamed = err as Error;
    }
    ctx.runs.start({
      id: runId,
      flowId: node.z,
      trigger: { id: node.id, type: node.type, name: node.name || undefined },
      input: input.payload,
      inputExtra: storedExtra,
      rerunOf,
      ...(retry ? { retry } : {}),
      ...named,
    });
    const msg: NodeMessage = {
      _msgid: runId,
      payload: input.payload,
      ...input.extra,
      imis: { runId, queueTime, trigger: node.type, ...named },
    };
    // The run fails on the trigger itself (its business key template could not be rendered, the
    // full record could not be fetched), reported with node.error(err, msg) for Catch nodes.
    const fail = (err: Error) => {
      ctx.runs.failed(runId, node.id, err.message, isTransient(err));
      node.error(err, msg);
      ctx.runs.release(runId);
    };
    const send = (ready: NodeMessage) => {
      try {
        node.send(ready);
      } finally {
        ctx.runs.release(runId);
      }
    };
    if (unnamed) fail(unnamed);
    else if (!prepare) send(msg);
    else prepare(msg).then(send, fail);
  };

  const entryOf = (input: RunStart, acceptedAt: Date): AcceptedInput => ({
    id: newRunId(),
    source: node.id,
    payload: input.payload,
    extra: storable(input.extra),
    acceptedAt: acceptedAt.toISOString(),
  });
  const store = async (input: RunStart, acceptedAt: Date) => {
    const entry = entryOf(input, acceptedAt);
    await ctx.store.inputs.accept(entry);
    return entry;
  };

  const accept = async (input: RunStart, acceptedAt = new Date(), delivery?: SignedDelivery) => {
    const entry = entryOf(input, acceptedAt);
    const accepted: Accepted = { runId: entry.id, queueTime: entry.acceptedAt };
    if (!delivery) await ctx.store.inputs.accept(entry);
    else {
      const once = await ctx.store.inputs.acceptOnce(entry, {
        scope: `${node.type}:${node.id}`,
        id: delivery.id,
        expiresAt: new Date(delivery.rememberUntilMs),
        answer: JSON.stringify(accepted),
      });
      if (!once.accepted) {
        const first = JSON.parse(once.answer ?? '{}') as Partial<Accepted>;
        return { runId: String(first.runId), queueTime: String(first.queueTime), copy: true };
      }
    }
    setImmediate(() => start(entry.id, input, entry.acceptedAt, undefined, entry.extra));
    return accepted;
  };

  const fire = (input: RunStart) => {
    const runId = newRunId();
    start(runId, input, new Date().toISOString());
    return runId;
  };

  ctx.triggers.set(node.id, {
    // `extra` comes from the stored run: redacted when it was first accepted.
    rerun: async (
      payload: unknown,
      extra: Record<string, unknown> | undefined,
      rerunOf: string,
      retry?: number,
    ) => {
      const entry = await store({ payload, extra }, new Date());
      start(entry.id, { payload, extra }, entry.acceptedAt, rerunOf, extra, retry);
      return entry.id;
    },
    ...(retryPolicy && retryPolicy.attempts > 0 ? { retry: retryPolicy } : {}),
  });

  // Inputs an earlier process accepted and never finished run now; with a shared store, those of a
  // process that died are taken over once its lease has run out (checked every lease period).
  const replay = async () => {
    const pending = await ctx.store.inputs.claimPending(node.id);
    if (closed || pending.length === 0) return;
    node.log(RED._(`${node.type}.log.replayed`, { count: pending.length }));
    for (const entry of pending)
      start(entry.id, { payload: entry.payload, extra: entry.extra }, entry.acceptedAt);
  };
  const replayFailed = (err: Error) => node.warn(runsMessage(RED, 'errors.replay', { message: err.message }));
  replay().catch(replayFailed);
  const reclaim = setInterval(() => replay().catch(replayFailed), ctx.leaseMs);
  reclaim.unref();

  node.on('close', (_removed: boolean, done: () => void) => {
    closed = true;
    clearInterval(reclaim);
    if (ctx.triggers.get(node.id)) ctx.triggers.delete(node.id);
    // Accepted inputs and finished runs are committed before Node-RED stops or redeploys.
    ctx.store
      .flush()
      .catch(() => undefined)
      .finally(done);
  });

  return { ctx, accept, fire };
}

/** The config migration that gives a trigger its automatic retry (off: existing flows unchanged). */
export const withRetry = (c: Record<string, unknown>) => ({ retries: 0, retryDelaySec: 30, ...c });

/** A trigger config's retry policy: 0 to 10 re-runs, the first after 1 s to 1 day. */
export function retryPolicyOf(config: { retries?: unknown; retryDelaySec?: unknown }): RetryPolicy {
  const attempts = Math.trunc(Number(config.retries));
  const delaySec = Number(config.retryDelaySec);
  return {
    attempts: Number.isFinite(attempts) ? Math.min(10, Math.max(0, attempts)) : 0,
    delaySec: Number.isFinite(delaySec) ? Math.min(86_400, Math.max(1, delaySec)) : 30,
  };
}
