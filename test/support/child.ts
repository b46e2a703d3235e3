import type { ChildProcess } from 'node:child_process';
import { waitFor } from './wait.js';

/**
 * A child process of a test (Node-RED, the emulator's command): its stdout and stderr collected,
 * a wait for a line of its output, and a stop that escalates to SIGKILL after a grace period.
 */
export interface WatchedChild {
  /** Everything it wrote so far (stdout and stderr; the latest `keepChars` at most). */
  output(): string;
  alive(): boolean;
  /** Resolves when it has exited. */
  exited: Promise<void>;
  /** Sends `signal` (SIGKILL after `graceMs` if still running) and resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** Resolves once its output matches `pattern`; fails, with the output, if it exits or `timeoutMs` passes. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
}

export function watchChild(child: ChildProcess, keepChars = 400_000): WatchedChild {
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > keepChars) output = output.slice(-keepChars / 2);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    output: () => output,
    alive,
    exited,
    async stop(signal = 'SIGINT', graceMs = 5000) {
      if (!alive()) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async waitForOutput(pattern, timeoutMs) {
      const check = () => {
        if (pattern.test(output)) return true;
        if (!alive()) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before ${pattern}`);
        return false;
      };
      await waitFor(check, timeoutMs, String(pattern), 25).catch((err: Error) => {
        throw new Error(`${err.message}:\n${output.slice(-5000)}`, { cause: err });
      });
    },
  };
}
