import type { RefusedCall } from '../../runs/refused.js';
import type { Store } from '../../store/index.js';

/**
 * What one Node-RED process tells the others sharing its PostgreSQL store (issue 20), over the
 * store's publish/subscribe (NOTIFY): each run that settles, for the open runs dashboards' live
 * updates, and each call an endpoint rejected, for their rejected calls lists. With SQLite there is
 * one process and nothing is sent. A message lost while the connection is down is only a missed
 * live update: the dashboards' lists and counts are read from the store.
 */

/** What a dashboard's list item needs to refresh (the comms message of RUNS_TOPIC). */
export interface RunSummary {
  id: string;
  flowId: string;
  triggerId: string;
  status: string;
  startedAt: string;
  finishedAt?: string;
  rerunOf?: string;
  businessKey?: string;
}

const RUNS_CHANNEL = 'imis_runs';
const REFUSED_CHANNEL = 'imis_refused';

export interface ProcessEvents {
  /** Tells the other processes that a run settled here. */
  runSettled(run: RunSummary): void;
  /** Tells the other processes that an endpoint here rejected a call. */
  refused(call: RefusedCall): void;
  /** Calls `handler` with each call an endpoint of another process rejected. */
  onRefused(handler: (call: RefusedCall) => void): void;
}

/**
 * Publishes this process's events to the others and hands theirs to `onRun` and the `onRefused`
 * handlers, once the store is open (PostgreSQL only).
 */
export function processEvents(
  store: Store & { ready: Promise<Store> },
  onRun: (run: RunSummary) => void,
): ProcessEvents {
  const refusedHandlers = new Set<(call: RefusedCall) => void>();
  const onRefused = (handler: (call: RefusedCall) => void) => void refusedHandlers.add(handler);
  if (store.engine !== 'postgres')
    return { runSettled: () => undefined, refused: () => undefined, onRefused };
  const receive =
    <T>(handler: (value: T) => void) =>
    (message: string) => {
      try {
        handler(JSON.parse(message) as T);
      } catch {
        // not ours, or cut: ignored
      }
    };
  void store.ready
    .then(async () => {
      await store.subscribe(RUNS_CHANNEL, receive(onRun));
      await store.subscribe(
        REFUSED_CHANNEL,
        receive<RefusedCall>((call) => refusedHandlers.forEach((handler) => handler(call))),
      );
    })
    .catch(() => undefined);
  const send = (channel: string, value: unknown) =>
    void store.publish(channel, JSON.stringify(value)).catch(() => undefined);
  return {
    runSettled: (run) => send(RUNS_CHANNEL, run),
    refused: (call) => send(REFUSED_CHANNEL, call),
    onRefused,
  };
}
