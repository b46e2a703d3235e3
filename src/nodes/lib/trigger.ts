import { newRunId } from '../../engine/runs.js';
import { secretHeaderTest, storableExtra } from '../../engine/redact.js';
import type { AcceptedInput } from '../../engine/journal.js';
import { packageContext } from './context.js';
import type { PackageContext } from './context.js';

export interface RunStart {
  payload: unknown;
  /** Message properties besides payload (metadata, topic, ...). */
  extra?: Record<string, unknown>;
}

export interface TriggerRuns {
  ctx: PackageContext;
  /** Journals the input (so an accepted input survives a crash), then starts the run on the next tick. */
  accept(start: RunStart, acceptedAt?: Date): { runId: string; queueTime: string };
  /** Starts a run now without journalling (e.g. a cron firing, which is re-derived from the schedule). */
  fire(start: RunStart): string;
}

/**
 * What every trigger node shares: a run id per input, the journal, the message that starts the run
 * (`_msgid` = run id, `imis.runId`, `imis.queueTime`), Re-run from the dashboard, and replay at
 * start-up of inputs accepted by an earlier process but never finished.
 *
 * `prepare` may turn a run's message into what is sent (e.g. fetch a full record); it returns the
 * messages to send, or throws to fail the run (reported with node.error(err, msg) for Catch nodes).
 */
export function triggerRuns(
  RED: any,
  node: any,
  prepare?: (msg: Record<string, unknown>) => Promise<Record<string, unknown>>,
): TriggerRuns {
  const ctx = packageContext(RED);
  // Callers' secrets (Authorization, cookies, signatures, and the headers named by the
  // `imisRedactHeaders` setting) are redacted from all that is stored of an input: the journal and
  // the run history (so the Runs API). The message sent to the flow keeps them.
  const isSecret = secretHeaderTest(RED.settings?.imisRedactHeaders);
  const storable = (extra: Record<string, unknown> | undefined) => storableExtra(extra, isSecret);

  const start = (
    runId: string,
    input: RunStart,
    queueTime: string,
    rerunOf?: string,
    storedExtra = storable(input.extra),
  ) => {
    ctx.runs.start({
      id: runId,
      flowId: node.z,
      trigger: { id: node.id, type: node.type, name: node.name || undefined },
      input: input.payload,
      inputExtra: storedExtra,
      rerunOf,
    });
    const msg: Record<string, unknown> = {
      _msgid: runId,
      payload: input.payload,
      ...input.extra,
      imis: { runId, queueTime, trigger: node.type },
    };
    if (!prepare) {
      try {
        node.send(msg);
      } finally {
        ctx.runs.release(runId);
      }
      return;
    }
    prepare(msg).then(
      (ready) => {
        try {
          node.send(ready);
        } finally {
          ctx.runs.release(runId);
        }
      },
      (err: Error) => {
        // The run fails on the trigger itself (e.g. the full record could not be fetched).
        ctx.runs.failed(runId, node.id, err.message);
        node.error(err, msg);
        ctx.runs.release(runId);
      },
    );
  };

  const accept = (input: RunStart, acceptedAt = new Date()) => {
    const runId = newRunId();
    const queueTime = acceptedAt.toISOString();
    const storedExtra = storable(input.extra);
    const entry: AcceptedInput = {
      id: runId,
      source: node.id,
      payload: input.payload,
      extra: storedExtra,
      acceptedAt: queueTime,
    };
    ctx.journal.accept(entry);
    setImmediate(() => start(runId, input, queueTime, undefined, storedExtra));
    return { runId, queueTime };
  };

  const fire = (input: RunStart) => {
    const runId = newRunId();
    start(runId, input, new Date().toISOString());
    return runId;
  };

  ctx.triggers.set(node.id, {
    rerun: (payload: unknown, extra: Record<string, unknown> | undefined, rerunOf: string) => {
      const runId = newRunId();
      const queueTime = new Date().toISOString();
      // `extra` comes from the run history: redacted when it was first accepted.
      ctx.journal.accept({ id: runId, source: node.id, payload, extra, acceptedAt: queueTime });
      start(runId, { payload, extra }, queueTime, rerunOf);
      return runId;
    },
  });

  const pending = ctx.journal.pendingFor(node.id);
  if (pending.length) {
    node.log(RED._(`${node.type}.log.replayed`, { count: pending.length }));
    setImmediate(() => {
      for (const entry of pending)
        start(entry.id, { payload: entry.payload, extra: entry.extra }, entry.acceptedAt);
    });
  }

  node.on('close', () => {
    if (ctx.triggers.get(node.id)) ctx.triggers.delete(node.id);
  });

  return { ctx, accept, fire };
}
