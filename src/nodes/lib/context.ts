import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../engine/journal.js';
import { RunHistory, RunTracker } from '../../engine/runs.js';
import type { NodeRef, RunRecord } from '../../engine/runs.js';

/**
 * What every node of this package shares inside one Node-RED runtime: the data folder, the journal
 * of accepted trigger inputs, the run tracker fed by the runtime's message hooks, and the registry
 * of trigger nodes (for Re-run). Created on first use by any node module.
 */
export interface PackageContext {
  dataDir: string;
  journal: Journal;
  history: RunHistory;
  runs: RunTracker;
  triggers: Map<string, Trigger>;
}

/** A node that starts runs and can start one again from a stored input. */
export interface Trigger {
  rerun(input: unknown, extra: Record<string, unknown> | undefined, rerunOf: string): string;
}

let shared: PackageContext | undefined;
let sweeper: NodeJS.Timeout | undefined;
let flushOnExit: (() => void) | undefined;

export function packageContext(RED: any): PackageContext {
  const dataDir = resolveDataDir(RED);
  if (shared && shared.dataDir === dataDir) return shared;
  shared?.journal.close();
  shared?.history.close();
  const history = new RunHistory(join(dataDir, 'runs.jsonl'));
  const journal = new Journal(join(dataDir, 'journal.jsonl'), {
    fsync: RED.settings?.imisJournalFsync === true,
  });
  journal.open();
  const runs = new RunTracker({
    onSettled: (run: RunRecord) => {
      journal.settle(run.id);
      history.append(run);
    },
  });
  runs.restore(history.load());
  clearInterval(sweeper);
  sweeper = setInterval(() => runs.sweep(), 60_000).unref();
  shared = { dataDir, journal, history, runs, triggers: new Map() };
  if (!flushOnExit) {
    // Batched settle and history lines are written before the process ends (Node-RED exits on stop).
    flushOnExit = () => {
      shared?.journal.close();
      shared?.history.close();
    };
    process.once('exit', flushOnExit);
  }
  registerHooks(RED, runs);
  return shared;
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

/** Feeds the run tracker from the runtime's message-routing hooks (Node-RED 2+). */
function registerHooks(RED: any, runs: RunTracker): void {
  const hooks = RED.hooks;
  if (!hooks) return;
  hooks.remove('*.imisRuns');
  hooks.add('preDeliver.imisRuns', (event: any) => {
    const id = event.msg?._msgid;
    if (id && runs.isLive(id)) runs.delivered(id, nodeRef(event.destination.node));
  });
  // A node whose input handlers take no `done` (written for Node-RED 0.x, or with no handler)
  // never completes its messages: its step ends once its handler has been called.
  // `_expectedDoneCount` is the runtime's own count of handlers that take `done`.
  hooks.add('postReceive.imisRuns', (event: any) => {
    const id = event.msg?._msgid;
    if (id && runs.isLive(id) && event.destination?.node?._expectedDoneCount === 0) {
      runs.completed(id, event.destination.id);
    }
  });
  hooks.add('onComplete.imisRuns', (event: any) => {
    const id = event.msg?._msgid;
    if (!id || !runs.isLive(id)) return;
    const error = event.error ? String(event.error.message ?? event.error) : undefined;
    runs.completed(id, event.node.id, error);
  });
}
