import { SqliteUnavailableError } from './engine/sqlite-driver.js';

/** Why the store cannot open: a few words for a node's status, the whole reason and fix for the log. */
export interface StoreProblem {
  short: string;
  message: string;
}

/** A call made while the store cannot open: endpoints answer 503 with Retry-After. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly problem: StoreProblem,
    /** Seconds until the store is tried again. */
    readonly retryAfterSec: number,
  ) {
    super(problem.message);
  }
}

/**
 * The reason and the fix of an error opening the store of `engine` at `where` (the SQLite file, or
 * the PostgreSQL URL without its password). Error codes: PostgreSQL's SQLSTATE (28P01 password,
 * 28000 role, 3D000 database), Node's system errors, SQLite's messages (the same in both engines).
 */
export function storeProblem(err: unknown, engine: 'sqlite' | 'postgres', where: string): StoreProblem {
  const e = err as { message?: string; code?: string };
  const text = String(e?.message ?? err);
  if (err instanceof SqliteUnavailableError) return { short: err.short, message: err.message };
  const setting =
    engine === 'postgres'
      ? 'check imis.store.url in settings.js (or IMIS_STORE_URL)'
      : 'check imis.store.file in settings.js';
  if (engine === 'postgres') {
    if (e.code === '28P01' || /password authentication failed/i.test(text))
      return { short: 'PostgreSQL password refused', message: `${text} (${where}): ${setting}.` };
    if (e.code === '28000' || e.code === '3D000')
      return { short: 'PostgreSQL refused login', message: `${text} (${where}): ${setting}.` };
    if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET'].includes(e.code ?? ''))
      return {
        short: 'PostgreSQL unreachable',
        message:
          `PostgreSQL at ${where} cannot be reached (${e.code}): start it, or ${setting}. ` +
          `Retrying in the background.`,
      };
  }
  if (
    ['EACCES', 'EPERM', 'EROFS'].includes(e.code ?? '') ||
    /readonly database|unable to open database/i.test(text)
  )
    return {
      short: 'store folder not writable',
      message: `${text} (${where}): Node-RED must be able to write that folder; fix its permissions, or ${setting}.`,
    };
  if (e.code === 'ENOSPC' || /database or disk is full/i.test(text))
    return { short: 'disk full', message: `${text} (${where}): free some disk space.` };
  return { short: 'store cannot open', message: `${text} (${where})` };
}

/** A PostgreSQL URL as the log may show it: without its password. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an invalid URL)';
  }
}
