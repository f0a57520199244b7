import { execFile, execFileSync } from 'node:child_process';
import type { ExecFileOptions } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { isAlive, onProcessExit, signal, tailFile, waitForExit } from './proc.js';

const run = promisify(execFile);

export interface StartPostgresOptions {
  /** Folder in which a fresh `pg-*` folder is made (default: the OS temp folder). Falls back to
   * the OS temp folder when the `postgres` user cannot reach it. */
  baseDir?: string;
  /** Database created after start (default `panda`). */
  database?: string;
  maxConnections?: number;
  /** Default false: no fsync, no synchronous commit. Data does not survive a crash; fine for tests. */
  fsync?: boolean;
  /** Where the server log should also be visible (a symlink while running, a copy after stop). */
  logFile?: string;
  /** Folder with initdb/pg_ctl/createdb (default: $TESTKIT_PG_BIN or /usr/lib/postgresql/<newest>/bin). */
  binDir?: string;
}

export interface PostgresHandle {
  /** `postgres://postgres@127.0.0.1:<port>/<database>`, trust authentication. */
  url: string;
  host: string;
  port: number;
  database: string;
  /** Folder holding data, socket and log; removed by stop(). */
  dir: string;
  dataDir: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** Locates the PostgreSQL server binaries. */
export function postgresBinDir(): string {
  const fromEnv = process.env['TESTKIT_PG_BIN'];
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error(`no PostgreSQL server binaries under ${root}/<version>/bin (run ./dev setup)`);
  }
  return join(root, versions[0], 'bin');
}

const isRoot = () => process.getuid?.() === 0;

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'running as root but there is no `postgres` user to run the server as (install postgresql)',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** initdb and postgres refuse root: as root, run server-side commands as `postgres`. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

async function runServerCommand(command: string, args: string[], options: ExecFileOptions = {}) {
  const [cmd, argv] = asServerUser(command, args);
  return run(cmd, argv, { ...options, encoding: 'utf8' });
}

/** The server user must be able to traverse every folder above its data; unix socket paths are short. */
async function makeServerDir(baseDir: string | undefined): Promise<string> {
  const candidates = [...new Set([baseDir, tmpdir(), '/tmp'].filter((d): d is string => d != null))];
  const rejected: string[] = [];
  for (const candidate of candidates) {
    mkdirSync(candidate, { recursive: true });
    const dir = mkdtempSync(join(resolve(candidate), 'pg-'));
    if (join(dir, '.s.PGSQL.65535').length > 100) {
      rmSync(dir, { recursive: true, force: true });
      rejected.push(`${candidate} (path too long for a unix socket)`);
      continue;
    }
    if (!isRoot()) return dir;
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
    try {
      await run('runuser', ['-u', 'postgres', '--', 'test', '-w', dir, '-a', '-x', dir]);
      return dir;
    } catch {
      rmSync(dir, { recursive: true, force: true });
      rejected.push(`${candidate} (not reachable by the postgres user)`);
    }
  }
  throw new Error(`no usable folder for PostgreSQL: ${rejected.join(', ')}`);
}

function linkLog(serverLog: string, logFile: string | undefined) {
  if (logFile === undefined) return;
  mkdirSync(dirname(logFile), { recursive: true });
  rmSync(logFile, { force: true });
  symlinkSync(serverLog, logFile);
}

/** Replaces the symlink made for `logFile` by a copy of the server log (before the folder goes). */
export function freezeLog(serverLog: string, logFile: string | undefined): void {
  if (logFile === undefined) return;
  try {
    if (lstatSync(logFile).isSymbolicLink()) {
      unlinkSync(logFile);
      if (existsSync(serverLog)) copyFileSync(serverLog, logFile);
    }
  } catch {
    // the log is a convenience
  }
}

/**
 * Starts a throw-away PostgreSQL server: initdb into a fresh folder, pg_ctl start on a free port
 * on 127.0.0.1 (socket in the same folder), then creates the database. `stop()` shuts it down
 * (fast mode) and removes the folder.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresHandle> {
  const bin = options.binDir ?? postgresBinDir();
  const database = options.database ?? 'panda';
  const dir = await makeServerDir(options.baseDir);
  const dataDir = join(dir, 'data');
  const serverLog = join(dir, 'postgres.log');
  const host = '127.0.0.1';

  const pgCtlStop = (mode: 'fast' | 'immediate') =>
    runServerCommand(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', '-t', '30', 'stop'], {
      cwd: dir,
    });

  try {
    await runServerCommand(
      join(bin, 'initdb'),
      ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { cwd: dir },
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const settings = [
      `-p ${port}`,
      `-k '${dir}'`,
      `-c listen_addresses=${host}`,
      `-c max_connections=${options.maxConnections ?? 200}`,
      ...(options.fsync ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
      // Diagnosis, e.g. TESTKIT_PG_OPTIONS='-c log_min_duration_statement=100'.
      process.env['TESTKIT_PG_OPTIONS'] ?? '',
    ].join(' ');
    try {
      await runServerCommand(
        join(bin, 'pg_ctl'),
        ['-D', dataDir, '-l', serverLog, '-w', '-t', '60', '-o', settings, 'start'],
        { cwd: dir },
      );
      break;
    } catch (err) {
      const log = tailFile(serverLog, 20);
      const portTaken = /could not bind|already in use/i.test(log);
      if (portTaken && attempt < 3) continue; // lost the free-port race: try another one
      await pgCtlStop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${log}`);
    }
  }

  const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const removeExitHook = onProcessExit(() => {
    const [cmd, argv] = asServerUser(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop']);
    execFileSync(cmd, argv, { stdio: 'ignore', cwd: dir });
    rmSync(dir, { recursive: true, force: true });
  });
  linkLog(serverLog, options.logFile);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      try {
        await pgCtlStop('fast');
      } catch {
        signal(pid, 'SIGKILL');
        await waitForExit(pid, 5_000);
      }
      freezeLog(serverLog, options.logFile);
      rmSync(dir, { recursive: true, force: true });
      removeExitHook();
    })());

  try {
    await run(join(bin, 'createdb'), ['-h', host, '-p', String(port), '-U', 'postgres', database]);
  } catch (err) {
    await stop();
    throw new Error(`createdb ${database} failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }

  return {
    url: `postgres://postgres@${host}:${port}/${database}`,
    host,
    port,
    database,
    dir,
    dataDir,
    pid,
    logFile: options.logFile ?? serverLog,
    stop,
  };
}

/** Creates another database on the server behind `url` and returns its URL (isolated tests). */
export async function createDatabase(url: string, name: string, binDir = postgresBinDir()): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid database name ${JSON.stringify(name)}`);
  const u = new URL(url);
  await run(join(binDir, 'createdb'), [
    '-h',
    u.hostname,
    '-p',
    u.port || '5432',
    '-U',
    decodeURIComponent(u.username) || 'postgres',
    name,
  ]);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Stops a server left behind by a crashed process, given its data folder (used by `stack down`). */
export async function stopPostgresDataDir(dataDir: string, binDir = postgresBinDir()): Promise<void> {
  if (!existsSync(join(dataDir, 'postmaster.pid'))) return;
  const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  try {
    await runServerCommand(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop'], {
      cwd: dirname(dataDir),
    });
  } catch {
    if (isAlive(pid)) {
      signal(pid, 'SIGKILL');
      await waitForExit(pid, 5_000);
    }
  }
}
