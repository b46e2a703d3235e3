import { readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { makePrivateDir, writePrivateFile } from './private-files.js';

/**
 * Small per-node state kept across restarts (a cron node's schedule, a change notification node's
 * seen event ids): JSON read with a fallback when missing or unreadable, and written atomically
 * (temporary file + rename), so a killed process leaves the old state or the new one.
 */
export function readStateFile<T>(
  file: string,
  fallback: T,
  accept: (value: unknown) => boolean = () => true,
): T {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return accept(value) ? (value as T) : fallback;
  } catch {
    return fallback;
  }
}

export function writeStateFile(file: string, value: unknown): void {
  makePrivateDir(dirname(file));
  writePrivateFile(`${file}.tmp`, JSON.stringify(value));
  renameSync(`${file}.tmp`, file);
}
