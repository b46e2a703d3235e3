import type { Store } from '../store/index.js';
import { timeoutMs } from './definition.js';
import type { CompiledWorkflow } from './machine.js';

/** Every registered workflow's name in the store's node-state table, for what the last sync saw. */
const SYNC_KIND = 'workflow-sync';

export interface SyncReport {
  /** Instances in a state the definition no longer has, per state. */
  flagged: Record<string, number>;
  /** States whose instances got new due times. */
  retimed: string[];
}

/**
 * Brings a workflow's instances in line with each definition deployed for it, one sync after the
 * other per workflow: flags those whose state it lost, and gives those in a state whose timeout
 * changed their new due time. Only states whose timeout differs from what the last sync saw are
 * touched (kept in the store's node state). `flagged` is told of the instances flagged.
 */
export class DefinitionSync {
  private readonly syncs = new Map<string, Promise<SyncReport>>();

  constructor(
    private readonly store: Pick<Store, 'nodeState' | 'workflows'>,
    private readonly flagged: (code: string, counts: Record<string, number>) => void,
  ) {}

  /** Syncs `wf` once the syncs of its code under way are done (failed or not), then runs `after`. */
  queue(wf: CompiledWorkflow, after: (report: SyncReport) => Promise<SyncReport>): Promise<SyncReport> {
    const previous = this.syncs.get(wf.code) ?? Promise.resolve();
    const sync = previous
      .catch(() => undefined)
      .then(() => this.sync(wf))
      .then(after);
    this.syncs.set(wf.code, sync);
    return sync;
  }

  /** Resolves when the last sync of `code` is done. */
  synced(code: string): Promise<SyncReport | undefined> {
    return this.syncs.get(code) ?? Promise.resolve(undefined);
  }

  private async sync(wf: CompiledWorkflow): Promise<SyncReport> {
    const seen =
      (await this.store.nodeState.get<Record<string, string>>(`workflow:${wf.code}`, SYNC_KIND)) ?? {};
    const current: Record<string, string> = {};
    const retime: Record<string, number | null> = {};
    for (const code of wf.stateCodes()) {
      const t = wf.timeoutTransition(code);
      const ms = t ? (timeoutMs(wf.state(code)) ?? null) : null;
      current[code] = `${ms}|${t?.code ?? ''}`;
      if (seen[code] !== current[code]) retime[code] = ms;
    }
    const flagged = await this.store.workflows.syncWorkflow(wf.code, wf.stateCodes(), retime);
    await this.store.nodeState.set(`workflow:${wf.code}`, SYNC_KIND, current);
    const report = { flagged, retimed: Object.keys(retime) };
    if (Object.keys(flagged).length) this.flagged(wf.code, flagged);
    return report;
  }
}
