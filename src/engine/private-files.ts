import { fchmodSync, mkdirSync, openSync } from 'node:fs';
import type { OpenMode } from 'node:fs';

/**
 * The data folder holds callers' payloads and member data (the SQLite store and its WAL files):
 * everything in it is readable by Node-RED's user only, directories 0700 and files 0600, whatever
 * the process umask (POSIX; Windows keeps its ACLs).
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` and any missing parent with mode 0700 (an existing directory is left as it is). */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Opens `file` (flags as for fs.openSync) with mode 0600; a file that already existed with a wider
 * mode (e.g. a temporary file left by an older version) is narrowed to 0600 as well.
 */
export function openPrivate(file: string, flags: OpenMode): number {
  const fd = openSync(file, flags, PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch {
    // A file system without POSIX modes.
  }
  return fd;
}
