/**
 * The Cron trigger's timer: arms the next run of a schedule, fires it, and keeps what control
 * commands changed (enabled, replaced expression, last run) in a state port so that a restart, or
 * a killed process, resumes where it was. Plain logic: it knows nothing of Node-RED; the node maps
 * its events to messages and statuses.
 */
import { CronExpressionError, parseSchedule } from './cron.js';
import type { Schedule } from './cron.js';

/** What the timer keeps across restarts. */
export interface CronState {
  enabled?: boolean;
  expression?: string;
  timeZone?: string;
  /** The last scheduled time that fired, for "run once at start-up if a run was missed". */
  lastScheduled?: string;
  /** The configured expression the state was made against: a redeploy with a new one wins. */
  configured?: string;
}

/** Where the state lives (the package store, one entry per node). */
export interface CronStatePort {
  load(): Promise<CronState | undefined>;
  save(state: CronState): Promise<void>;
}

/** iWorkflow's Scheduled trigger object, times as it writes them (docs/imis-api.md §7). */
export interface ScheduledTrigger {
  scheduledStartTimeUtc: string;
  actualStartTimeUtc: string;
  cronExpression: string;
}

/** What the timer is doing, for the node's status. */
export type CronView =
  { state: 'invalid' } | { state: 'disabled' } | { state: 'ended' } | { state: 'waiting'; next: Date };

/**
 * What a schedule does about the due times that passed while no process ran it (Quartz's misfire
 * instruction): `once`, fire once at start-up for the first of them; `skip`, fire none.
 */
export type MisfirePolicy = 'once' | 'skip';

/** The policy a node config names; anything else is the default, skip. */
export function misfireOf(value: unknown): MisfirePolicy {
  return value === 'once' ? 'once' : 'skip';
}

/**
 * The Cron node's config migration to version 4: the misfire policy replaces the "run once at
 * start-up if a run was missed" checkbox (ticked: `once`; else `skip`, the default as before).
 */
export function withMisfirePolicy({
  runMissed,
  ...config
}: Record<string, unknown>): Record<string, unknown> {
  return { ...config, misfire: runMissed === true ? 'once' : 'skip' };
}

/** A control message: pause, resume, run now, or replace the schedule. */
export type CronCommand =
  | { kind: 'enable' }
  | { kind: 'disable' }
  | { kind: 'trigger' }
  | { kind: 'replace'; expression: string; timeZone?: string };

export interface CronTimerOptions {
  /** The configured schedule (a stored replacement made against it wins over it). */
  expression: string;
  timeZone: string;
  enabled: boolean;
  /** At start, a run missed while stopped: fired once, or skipped. */
  misfire: MisfirePolicy;
  state: CronStatePort;
  /**
   * The latest scheduled time fired by any process sharing the schedule (several processes on one
   * store): the misfire policy starts from it rather than from this node's saved state. Absent or
   * answering undefined: the saved state's.
   */
  lastFired?: () => Promise<Date | undefined>;
  /**
   * Fires a run: `due` is the scheduled instant it stands for (the same in every process running
   * the schedule, so that one of them can claim it), absent for "run now"; `missed`: a time missed
   * while stopped, fired at start-up by the misfire policy.
   */
  fire(trigger: ScheduledTrigger, due?: Date, missed?: boolean): void;
  changed(view: CronView): void;
  /** The schedule in force at start cannot be read: the timer stays idle ('invalid'). */
  invalid(err: CronExpressionError): void;
  /** A missed run is about to fire (misfire 'once'). */
  missed(scheduled: Date): void;
  /** The state could not be read or saved; the timer goes on. */
  stateFailed(err: Error): void;
}

/** setTimeout cannot wait longer than 2^31-1 ms: longer waits are taken in steps. */
const MAX_WAIT_MS = 2 ** 31 - 1;

/** iWorkflow's form of a UTC time: `2024-06-19T19:32:00+00:00` (docs/imis-api.md §7). */
export function utcStamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** The command a control message's payload asks for, or undefined when it asks for none. */
export function cronCommand(payload: unknown): CronCommand | undefined {
  if (payload === 'enable' || payload === 'disable') return { kind: payload };
  if (payload === 'trigger' || payload === 'run') return { kind: 'trigger' };
  if (payload !== null && typeof payload === 'object' && 'cron' in payload) {
    const { cron, timeZone } = payload as { cron: unknown; timeZone?: unknown };
    if (typeof cron !== 'string') return undefined;
    return {
      kind: 'replace',
      expression: cron,
      timeZone: typeof timeZone === 'string' ? timeZone : undefined,
    };
  }
  return undefined;
}

export class CronTimer {
  /** Settles once the stored state was read and the schedule armed; commands wait for it. */
  readonly ready: Promise<void>;
  private state: CronState = {};
  private enabled: boolean;
  private schedule: Schedule | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private started = false;

  constructor(private readonly options: CronTimerOptions) {
    this.enabled = options.enabled;
    const failed = (err: Error) => {
      options.stateFailed(err);
      return undefined;
    };
    this.ready = Promise.all([
      options.state.load().catch(failed),
      options.lastFired ? options.lastFired().catch(failed) : undefined,
    ]).then(([stored, lastFired]) => this.start(stored, lastFired));
  }

  /** Runs `action` once the stored state was read: at once when it was. */
  whenReady(action: () => void): void {
    if (this.started) action();
    else void this.ready.then(action);
  }

  /** Carries out a control command. Throws CronExpressionError for a bad replacement (kept: the old one). */
  apply(command: CronCommand): void {
    switch (command.kind) {
      case 'enable':
      case 'disable':
        this.enabled = command.kind === 'enable';
        break;
      case 'trigger':
        this.fire(new Date(), false);
        return;
      case 'replace':
        this.schedule = parseSchedule(
          command.expression,
          command.timeZone ?? this.schedule?.timeZone ?? this.options.timeZone,
        );
        break;
    }
    this.save();
    this.arm();
  }

  close(): void {
    this.closed = true;
    this.disarm();
  }

  private start(stored: CronState | undefined, lastFired: Date | undefined): void {
    this.started = true;
    if (this.closed) return;
    const { expression, timeZone, misfire } = this.options;
    const configured = `${expression}|${timeZone}`;
    const state = stored && typeof stored === 'object' ? stored : {};
    // A redeploy with another expression starts afresh (but remembers the last run).
    this.state = state.configured === configured ? state : { lastScheduled: state.lastScheduled, configured };
    this.enabled = this.state.enabled ?? this.options.enabled;
    try {
      this.schedule = parseSchedule(this.state.expression ?? expression, this.state.timeZone ?? timeZone);
    } catch (err) {
      if (!(err instanceof CronExpressionError)) throw err;
      this.options.invalid(err);
    }
    const last = lastFired?.toISOString() ?? this.state.lastScheduled;
    if (this.schedule && this.enabled && misfire === 'once' && last) {
      const missed = this.schedule.next(new Date(last));
      if (missed && missed.getTime() < Date.now()) {
        this.options.missed(missed);
        setImmediate(() => this.fire(missed, true, true));
      }
    }
    this.arm();
  }

  /** `due`: a scheduled time of the schedule (false: run now, at `scheduled`); `missed`: at start-up. */
  private fire(scheduled: Date, due: boolean, missed = false): void {
    if (this.closed) return;
    const actual = new Date();
    this.state.lastScheduled = scheduled.toISOString();
    this.save();
    const trigger = {
      scheduledStartTimeUtc: utcStamp(scheduled),
      actualStartTimeUtc: utcStamp(actual),
      cronExpression: this.schedule?.expression ?? '',
    };
    if (due) this.options.fire(trigger, scheduled, missed);
    else this.options.fire(trigger);
  }

  /** Written at each change, so a killed process keeps the schedule and the enable flag. */
  private save(): void {
    this.state = {
      ...this.state,
      enabled: this.enabled,
      expression: this.schedule?.expression,
      timeZone: this.schedule?.timeZone,
    };
    this.options.state.save(this.state).catch((err: Error) => this.options.stateFailed(err));
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.disarm();
    if (this.closed) return;
    this.show(this.enabled && this.schedule ? this.schedule.next(new Date()) : null);
  }

  /** Tells what comes next, and waits for it. */
  private show(next: Date | null): void {
    this.options.changed(this.view(next));
    if (next) this.waitFor(next);
  }

  private waitFor(at: Date): void {
    const delay = at.getTime() - Date.now();
    if (delay > MAX_WAIT_MS) {
      this.timer = setTimeout(() => this.waitFor(at), MAX_WAIT_MS);
      return;
    }
    this.timer = setTimeout(
      () => {
        this.fire(at, true);
        // The next run is computed from the scheduled time, so a late timer never skips a slot.
        this.show(this.schedule?.next(at) ?? null);
      },
      Math.max(0, delay),
    );
  }

  private view(next: Date | null): CronView {
    if (!this.schedule) return { state: 'invalid' };
    if (!this.enabled) return { state: 'disabled' };
    return next ? { state: 'waiting', next } : { state: 'ended' };
  }
}
