import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL server for the tests: Debian's `postgresql` binaries, `initdb` and
 * `pg_ctl` in a temporary folder, listening on a free port of 127.0.0.1 only. As root (CI), the
 * server runs as the `postgres` user, since PostgreSQL refuses to run as root.
 */
export interface TestPostgres {
  url: string;
  /** A new, empty database on the same server. */
  createDatabase(name: string): string;
  /** Stops the server (as a restart or a crash would: `immediate`), keeping its data. */
  down(): void;
  /** Starts it again on the same port, with its data. */
  up(): void;
  stop(): void;
}

/** Where Debian puts the server binaries (the newest version installed). */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

/**
 * Skips the calling suite (with a message) when PostgreSQL is not installed; under CI=true a
 * missing PostgreSQL fails instead, since .ci/run installs it.
 */
export function requirePostgres(ctx: Mocha.Context): string | undefined {
  const bin = postgresBinDir();
  if (bin) return bin;
  if (process.env.CI === 'true')
    throw new Error('PostgreSQL binaries are missing (apt-get install postgresql)');
  console.log('    (PostgreSQL not installed: skipping; apt-get install postgresql to run these tests)');
  ctx.skip();
  return undefined;
}

export interface PostgresOptions {
  /**
   * false (default): no fsync, fast tests; true: the server syncs its WAL at each commit, as a
   * production server does (the benchmarks).
   */
  fsync?: boolean;
  /** The port (default: a free one). */
  port?: number;
  /** Connections over TCP must give this password (default: none asked, trust). */
  password?: string;
}

export async function startPostgres(bin: string, options: PostgresOptions = {}): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'imis-pg-'));
  const data = join(dir, 'data');
  const port = options.port ?? (await freePort());
  const asUser = runAs();
  if (asUser) chownSync(dir, asUser.uid, asUser.gid);
  const pwfile = join(dir, 'pw');
  if (options.password !== undefined) {
    writeFileSync(pwfile, options.password);
    if (asUser) chownSync(pwfile, asUser.uid, asUser.gid);
  }
  const run = (cmd: string, args: string[]) =>
    execFileSync(join(bin, cmd), args, {
      stdio: 'pipe',
      ...(asUser ?? {}),
      env: { ...process.env, LC_ALL: 'C', ...(options.password ? { PGPASSWORD: options.password } : {}) },
    });
  const auth =
    options.password === undefined
      ? ['--auth=trust']
      : ['--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`];
  run('initdb', ['-D', data, '-U', 'postgres', ...auth, '-E', 'UTF8', '--no-sync']);
  const start = () =>
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=${options.fsync ? 'on' : 'off'} -c max_connections=200`,
      'start',
    ]);
  start();
  const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  return {
    url: url('postgres'),
    createDatabase(name: string) {
      run('psql', [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-c',
        `CREATE DATABASE "${name}"`,
      ]);
      return url(name);
    },
    down() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    up: start,
    stop() {
      spawnSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], {
        stdio: 'ignore',
        ...(asUser ?? {}),
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
