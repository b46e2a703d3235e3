import { closeSync, existsSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { makePrivateDir, openPrivate } from './private-files.js';

/**
 * A trigger's accepted input, written down before the caller is told "queued", so that a run whose
 * caller got 200/202 is never lost, even if the process is killed right after answering.
 */
export interface AcceptedInput {
  /** Run id: also the message id of the run. */
  id: string;
  /** Id of the trigger node that accepted it. */
  source: string;
  payload: unknown;
  /** Extra message properties the trigger set (e.g. the metadata output property). */
  extra?: Record<string, unknown>;
  acceptedAt: string;
}

type Line = { op: 'accept'; entry: AcceptedInput } | { op: 'settle'; id: string };

/** Settled lines tolerated before the file is rewritten with only the pending entries. */
const COMPACT_AFTER = 5000;
/** How long settle lines may wait to be written together. */
const SETTLE_FLUSH_MS = 50;

/**
 * Append-only journal of accepted trigger inputs (JSON lines). `accept` uses a synchronous write
 * to the file descriptor: once it returns the line is in the kernel, so a killed process loses
 * nothing (a power cut can, unless `fsync` is on).
 */
export class Journal {
  private fd: number | undefined;
  private readonly pending = new Map<string, AcceptedInput>();
  private settledSinceCompact = 0;
  private settles: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly file: string,
    private readonly options: { fsync?: boolean } = {},
  ) {}

  /** Reads what was accepted but never settled by a previous process, and opens for appending. */
  open(): AcceptedInput[] {
    if (this.fd !== undefined) return [...this.pending.values()];
    makePrivateDir(dirname(this.file));
    if (existsSync(this.file)) {
      for (const text of readFileSync(this.file, 'utf8').split('\n')) {
        const line = parseLine(text);
        if (line?.op === 'accept') this.pending.set(line.entry.id, line.entry);
        else if (line?.op === 'settle') this.pending.delete(line.id);
      }
    }
    this.rewrite();
    return [...this.pending.values()];
  }

  accept(entry: AcceptedInput): void {
    this.pending.set(entry.id, entry);
    this.append({ op: 'accept', entry });
  }

  /**
   * Marks a run finished. Settle lines are written in batches (within SETTLE_FLUSH_MS): a process
   * killed in between runs those few finished runs again at start-up, which at-least-once allows;
   * an accepted input is never lost.
   */
  settle(id: string): void {
    if (!this.pending.delete(id)) return;
    this.settles.push(JSON.stringify({ op: 'settle', id } satisfies Line) + '\n');
    this.flushTimer ??= setTimeout(() => this.flush(), SETTLE_FLUSH_MS).unref();
  }

  /** Writes the batched settle lines now. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.settles.length === 0 || this.fd === undefined) return;
    const count = this.settles.length;
    writeSync(this.fd, this.settles.join(''));
    this.settles = [];
    this.settledSinceCompact += count;
    if (this.settledSinceCompact >= COMPACT_AFTER) this.rewrite();
  }

  /** Accepted, unsettled inputs of one trigger node. */
  pendingFor(source: string): AcceptedInput[] {
    return [...this.pending.values()].filter((e) => e.source === source);
  }

  get size(): number {
    return this.pending.size;
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private append(line: Line): void {
    if (this.fd === undefined) this.open();
    writeSync(this.fd as number, JSON.stringify(line) + '\n');
  }

  /** Replaces the file, atomically, with one line per pending entry. */
  private rewrite(): void {
    // The pending map already reflects every settle, buffered or not: the new file needs none.
    this.settles = [];
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const tmp = `${this.file}.tmp`;
    const fd = openPrivate(tmp, 'w');
    for (const entry of this.pending.values()) writeSync(fd, JSON.stringify({ op: 'accept', entry }) + '\n');
    closeSync(fd);
    renameSync(tmp, this.file);
    this.fd = openPrivate(this.file, this.options.fsync ? 'as' : 'a');
    this.settledSinceCompact = 0;
  }
}

function parseLine(text: string): Line | undefined {
  if (!text.trim()) return undefined;
  try {
    const value = JSON.parse(text) as Line;
    return value && (value.op === 'accept' || value.op === 'settle') ? value : undefined;
  } catch {
    return undefined; // a torn last line from a killed process
  }
}
