import { MessageLineage, carriedLabels, stampRunId } from '../../runs/lineage.js';
import { RunTracker, newRunId } from '../../runs/tracker.js';
import type { NodeRef } from '../../runs/tracker.js';
import { isTransient } from '../../imis/errors.js';
import { foreignInput, payloadSummary, secretHeaderTest } from '../../runs/redact.js';
import { addHook, expectedDoneCount } from './red.js';
import type { Node, NodeMessage, Red } from './red.js';

/*
 * Run tracking (docs/runs.md): the runtime's message-routing hooks feeding the package runtime's
 * run trackers. Registered and removed by the package runtime (package-runtime.ts).
 */

/** The label of the hooks this package adds (`<event>.imisRuns`). */
export const HOOKS_LABEL = 'imisRuns';

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

function nodeRef(node: Node): NodeRef {
  return { id: node.id, type: node.type, name: node.name || undefined };
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
export function registerHooks(
  RED: Red,
  trackers: { runs: RunTracker; followers: RunTracker; lineage: MessageLineage },
): void {
  RED.hooks.remove(`*.${HOOKS_LABEL}`);
  const { runs, followers, lineage } = trackers;
  const startRun = startForeignRun(RED, runs, lineage);
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

  addHook(RED, 'preDeliver', HOOKS_LABEL, (event) => {
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
  addHook(RED, 'onReceive', HOOKS_LABEL, (event) => {
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
  addHook(RED, 'onComplete', HOOKS_LABEL, (event) => {
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
