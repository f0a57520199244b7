import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startNats } from './nats.js';
import type { NatsHandle } from './nats.js';
import { freePorts, isHttpOk, isPortOpen, sleep } from './ports.js';
import { startPostgres } from './postgres.js';
import type { PostgresHandle } from './postgres.js';
import {
  commandLine,
  describeLog,
  onProcessExit,
  signal as sendSignal,
  spawnLogged,
  stopProcessGroup,
} from './proc.js';
import { baseEnvironment, environmentOf } from './service-env.js';
import { stopStackFromFile } from './stack-down.js';
import {
  HTTP_SERVICES,
  isStackRunning,
  readStackInfo,
  repoRootDir,
  serviceMain,
  SERVICES,
  STACK_FILE,
  STACK_MARKER_ENV,
  sweepStack,
  writeStackInfo,
} from './stack-file.js';
import type { ServiceName, ServiceRecord, StackAddresses, StackInfo } from './stack-file.js';

export interface StartStackOptions {
  /** Folder for logs (`logs/<service>.log`), pilot work dirs (`work/`), data and `stack.json`. */
  dir: string;
  /** Subset to start (always in the canonical order); default all. Addresses of the others are still
   * handed out, so a partial stack is wired as the full one would be. */
  services?: readonly ServiceName[];
  /** Extra environment for every service (applied after the computed one). */
  env?: Record<string, string>;
  /** Extra environment per service (applied last). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** PANDA_LOG_LEVEL of every service (default `info`). */
  logLevel?: string;
  /** Per service (default 60 s). */
  readyTimeoutMs?: number;
  /** Harvester cycle (default 1000 ms). */
  cycleMs?: number;
  /** Default: config/queues.json in the repository. */
  queuesFile?: string;
  /** Default: the repository holding this package. */
  repoRoot?: string;
  /** Aborting stops the start-up, cleans up and rejects. */
  signal?: AbortSignal;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Called when a service exits while the stack is up (not during stop). */
  onServiceExit?: (service: ServiceName, code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface Stack {
  dir: string;
  pg: PostgresHandle;
  nats: NatsHandle;
  /** Port of every service (also those not started). */
  ports: Record<ServiceName, number>;
  /** Address of every service: `host:port` (gRPC) or `http://host:port` (HTTP). */
  urls: Record<ServiceName, string>;
  addresses: StackAddresses;
  /** Environment for the `panda` CLI. */
  cliEnv: Record<string, string>;
  info: StackInfo;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL, nats-server and the services (in order server, jedi, idds, pilot-gateway,
 * harvester, monitor) as separate processes on free ports, each waited for before the next.
 * Writes `<dir>/stack.json` as it goes. On any failure everything started is stopped again and
 * the error names the service and shows the tail of its log.
 */
export async function startStack(options: StartStackOptions): Promise<Stack> {
  const dir = resolve(options.dir);
  const repoRoot = options.repoRoot ?? repoRootDir();
  const log = options.log ?? (() => undefined);
  const logsDir = join(dir, 'logs');
  const workDir = join(dir, 'work');
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;

  const unknown = (options.services ?? []).filter((s) => !(SERVICES as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new Error(`unknown service(s) ${unknown.join(', ')}; known: ${SERVICES.join(', ')}`);
  const selected = SERVICES.filter((s) => options.services == null || options.services.includes(s));
  const unbuilt = selected.filter((s) => !existsSync(serviceMain(repoRoot, s)));
  if (unbuilt.length > 0) {
    throw new Error(
      `not built: ${unbuilt.map((s) => serviceMain(repoRoot, s)).join(', ')} missing (run \`pnpm build\` or ./dev setup)`,
    );
  }
  if (isStackRunning(dir)) {
    throw new Error(
      `a stack is already running in ${dir} (pid ${readStackInfo(dir)?.ownerPid}); stop it first`,
    );
  }
  if (readStackInfo(dir) !== undefined) await stopStackFromFile(dir, { log }); // a crashed owner's leftovers

  mkdirSync(logsDir, { recursive: true });
  rmSync(workDir, { recursive: true, force: true }); // pilot dirs of an earlier stack (fresh database, reused ids)
  mkdirSync(workDir, { recursive: true });

  const portList = await freePorts(SERVICES.length);
  const ports = Object.fromEntries(SERVICES.map((s, i) => [s, portList[i]!])) as Record<ServiceName, number>;
  const urls = Object.fromEntries(
    SERVICES.map((s) => [s, HTTP_SERVICES.has(s) ? `http://127.0.0.1:${ports[s]}` : `127.0.0.1:${ports[s]}`]),
  ) as Record<ServiceName, string>;
  const addresses: StackAddresses = {
    serverAddr: urls.server,
    jediAddr: urls.jedi,
    iddsAddr: urls.idds,
    harvesterAddr: urls.harvester,
    gatewayUrl: urls['pilot-gateway'],
    monitorUrl: urls.monitor,
  };
  const cliEnv = {
    PANDA_IDDS_ADDR: addresses.iddsAddr,
    PANDA_SERVER_ADDR: addresses.serverAddr,
    PANDA_JEDI_ADDR: addresses.jediAddr,
    PANDA_HARVESTER_ADDR: addresses.harvesterAddr,
    PANDA_MONITOR_URL: addresses.monitorUrl,
  };
  const info: StackInfo = {
    version: 1,
    dir,
    repoRoot,
    state: 'starting',
    ownerPid: process.pid,
    ownerCommand: commandLine(process.pid),
    startedAt: new Date().toISOString(),
    services: {},
    addresses,
    cliEnv,
  };
  writeStackInfo(info);

  let pg: PostgresHandle | undefined;
  let nats: NatsHandle | undefined;
  const children: { name: ServiceName; child: ChildProcess; pid: number }[] = [];
  let stopping: Promise<void> | undefined;

  const removeExitHook = onProcessExit(() => {
    for (const { pid } of children) sendSignal(-pid, 'SIGKILL');
    sweepStack(dir);
  });

  const stop = () =>
    (stopping ??= (async () => {
      info.state = 'stopping';
      writeStackInfo(info);
      for (const { name, pid } of [...children].reverse()) {
        const graceful = await stopProcessGroup(pid, 10_000);
        log(`${name.padEnd(14)} stopped${graceful ? '' : ' (killed after 10 s)'}`);
      }
      const swept = sweepStack(dir);
      if (swept.length > 0) log(`killed ${swept.length} leftover process(es): ${swept.join(', ')}`);
      if (nats) await nats.stop();
      if (pg) await pg.stop();
      log('postgres, nats stopped');
      rmSync(join(dir, STACK_FILE), { force: true });
      removeExitHook();
    })());

  const aborted = () => (options.signal?.aborted ? 'start-up interrupted' : undefined);
  const checkAborted = () => {
    const reason = aborted();
    if (reason) throw new Error(reason);
  };

  try {
    checkAborted();
    pg = await startPostgres({ baseDir: dir, logFile: join(logsDir, 'postgres.log') });
    info.postgres = {
      url: pg.url,
      port: pg.port,
      pid: pg.pid,
      dir: pg.dir,
      dataDir: pg.dataDir,
      logFile: pg.logFile,
    };
    writeStackInfo(info);
    log(`${'postgres'.padEnd(14)} ${pg.url}`);
    checkAborted();

    nats = await startNats({ baseDir: dir, logFile: join(logsDir, 'nats.log') });
    info.nats = { url: nats.url, port: nats.port, pid: nats.pid, dir: nats.dir, logFile: nats.logFile };
    writeStackInfo(info);
    log(`${'nats'.padEnd(14)} ${nats.url}`);

    const queuesFile = resolve(options.queuesFile ?? join(repoRoot, 'config', 'queues.json'));
    const ctx = {
      ports,
      addresses,
      pgUrl: pg.url,
      natsUrl: nats.url,
      queuesFile,
      workDir,
      cycleMs: options.cycleMs ?? 1000,
    };
    for (const name of selected) {
      checkAborted();
      const logFile = join(logsDir, `${name}.log`);
      const env = {
        ...baseEnvironment(),
        ...environmentOf(name, ctx),
        PANDA_LOG_LEVEL: options.logLevel ?? 'info',
        [STACK_MARKER_ENV]: dir,
        ...options.env,
        ...options.serviceEnv?.[name],
      };
      const started = Date.now();
      const child = spawnLogged(process.execPath, [serviceMain(repoRoot, name)], {
        cwd: repoRoot,
        env,
        logFile,
      });
      if (child.pid === undefined) throw new Error(`service ${name}: could not spawn ${process.execPath}`);
      const pid = child.pid;
      children.push({ name, child, pid });
      child.once('exit', (code, sig) => {
        if (stopping === undefined && info.state === 'ready') options.onServiceExit?.(name, code, sig);
      });
      const record: ServiceRecord = {
        pid,
        port: ports[name],
        address: urls[name],
        logFile,
        state: 'starting',
      };
      info.services[name] = record;
      writeStackInfo(info);

      const http = HTTP_SERVICES.has(name);
      const probe = http ? `GET ${urls[name]}/healthz` : `gRPC port ${urls[name]}`;
      const deadline = started + readyTimeoutMs;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `service ${name} exited (${child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode}) ` +
              `before it was ready\n${describeLog(logFile)}`,
          );
        }
        checkAborted();
        if (http ? await isHttpOk(`${urls[name]}/healthz`) : await isPortOpen(ports[name])) break;
        if (Date.now() > deadline) {
          throw new Error(
            `service ${name} not ready after ${readyTimeoutMs / 1000} s (${probe} does not answer)\n${describeLog(logFile)}`,
          );
        }
        await sleep(100);
      }
      record.state = 'ready';
      writeStackInfo(info);
      log(`${name.padEnd(14)} ${urls[name]}  ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  info.state = 'ready';
  writeStackInfo(info);
  return { dir, pg, nats, ports, urls, addresses, cliEnv, info, stop };
}
