import { openSqlite, SqliteUnavailableError } from '../../src/store/engine/sqlite-driver.js';
import type { SqliteDb, SqliteDriverName } from '../../src/store/engine/sqlite-driver.js';

export type { SqliteDb, SqliteDriverName };

/** Each SQLite engine of the embedded store, and why it cannot run here (undefined: it can). */
export interface SqliteDriver {
  driver: SqliteDriverName;
  unavailable: string | undefined;
}

/** Both SQLite engines, each with the reason it is skipped on this Node (printed in the suite's title). */
export const SQLITE_DRIVERS: SqliteDriver[] = (['node:sqlite', 'better-sqlite3'] as const).map((driver) => ({
  driver,
  unavailable: unavailable(driver),
}));

function unavailable(driver: SqliteDriverName): string | undefined {
  try {
    openSqlite(':memory:', { driver }).close();
    return undefined;
  } catch (err) {
    if (err instanceof SqliteUnavailableError) return err.message.split(/: run |\. /)[0];
    throw err;
  }
}

/** A describe title that says when, and why, the suite is skipped. */
export function driverTitle(title: string, d: SqliteDriver): string {
  return d.unavailable ? `${title} (${d.driver}) — SKIPPED: ${d.unavailable}` : `${title} (${d.driver})`;
}

/** Opens `file` as an outsider (a test looking at tables) with `driver`. */
export function openFile(file: string, driver: SqliteDriverName): SqliteDb {
  return openSqlite(file, { driver });
}

/** Runs `statements` on `db`: answers the rows of the last one (none when it is not a query). */
export function sqlOn(db: SqliteDb, statements: string): Record<string, unknown>[] {
  const parts = statements.split(';').filter((part) => part.trim());
  const last = parts.pop() ?? '';
  if (parts.length) db.exec(parts.join(';'));
  const statement = db.prepare(last);
  if (/^\s*(SELECT|EXPLAIN|PRAGMA|WITH|VALUES)\b/i.test(last)) {
    return (statement.all() as Record<string, unknown>[]).map((row) => ({ ...row }));
  }
  statement.run();
  return [];
}
