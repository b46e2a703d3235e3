import type { RefusedCall } from '../../runs/refused.js';

/** The Node-RED comms topic on which the dashboards hear of rejected calls. */
export const REJECTED_TOPIC = 'imis/rejected';

/** At most one comms message per this period: a flood of bad calls must not flood the editors. */
const ANNOUNCE_EVERY_MS = 1000;

/**
 * What the dashboards are told: the flows and endpoints with new rejected calls, and whether calls
 * to unknown URLs were among them.
 */
export interface RejectedAnnouncement {
  flowIds: string[];
  triggerIds: string[];
  unknown: boolean;
}

/** A logger of rejections by kind, at most once per kind in a period (rejections.ts). */
export type RateLimitedLog = (kind: string, values: Record<string, string | number>) => void;

/**
 * What the package runtime keeps of the rejected calls besides the list (src/runs/refused.ts):
 * the announcement period towards the open editors and the logs of calls to unknown URLs. Stopped
 * with the runtime, so that no period outlives it.
 */
export class RejectionFeed {
  /** The flows and endpoints with rejected calls not announced yet. */
  private pending: { flowIds: Set<string>; triggerIds: Set<string>; unknown: boolean } | undefined;
  /** The end of the current announcement period. */
  private period: NodeJS.Timeout | undefined;
  /** Logs per endpoint type of the calls to unknown URLs (no node to log them on). */
  readonly unknownLogs = new Map<string, RateLimitedLog>();

  constructor(private readonly publish: (announcement: RejectedAnnouncement) => void) {}

  /**
   * Tells the open editors (the Runs dashboard) that `call` was rejected: at once when none was
   * announced in the last ANNOUNCE_EVERY_MS, else together with the others at the end of the period.
   */
  announce(call: RefusedCall): void {
    const pending = (this.pending ??= { flowIds: new Set(), triggerIds: new Set(), unknown: false });
    if (call.flowId) pending.flowIds.add(call.flowId);
    if (call.trigger.id) pending.triggerIds.add(call.trigger.id);
    else pending.unknown = true;
    if (!this.period) this.publishPending();
  }

  stop(): void {
    clearTimeout(this.period);
    this.period = undefined;
    this.pending = undefined;
  }

  private publishPending(): void {
    const pending = this.pending;
    if (!pending) {
      this.period = undefined;
      return;
    }
    this.pending = undefined;
    const { flowIds, triggerIds, unknown } = pending;
    this.publish({ flowIds: [...flowIds], triggerIds: [...triggerIds], unknown });
    this.period = setTimeout(() => this.publishPending(), ANNOUNCE_EVERY_MS);
    this.period.unref();
  }
}
