import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findProcessesWithEnv, isAlive, signal as sendSignal } from './proc.js';

/** Every service, in start order (stop runs in reverse). */
export const SERVICES = ['server', 'jedi', 'idds', 'pilot-gateway', 'harvester', 'monitor'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Services whose readiness is `GET /healthz` (the others are ready when their gRPC port accepts). */
export const HTTP_SERVICES: ReadonlySet<ServiceName> = new Set<ServiceName>(['pilot-gateway', 'monitor']);

/** Set in every service's environment: lets `stop`/`down` find anything a service left behind. */
export const STACK_MARKER_ENV = 'TESTKIT_STACK_DIR';

export const STACK_FILE = 'stack.json';

export interface StackAddresses {
  serverAddr: string;
  jediAddr: string;
  iddsAddr: string;
  harvesterAddr: string;
  gatewayUrl: string;
  monitorUrl: string;
}

export interface ServiceRecord {
  pid: number;
  port: number;
  /** `127.0.0.1:<port>` for gRPC services, `http://127.0.0.1:<port>` for HTTP ones. */
  address: string;
  logFile: string;
  state: 'starting' | 'ready';
}

/** The content of `<dir>/stack.json`. */
export interface StackInfo {
  version: 1;
  dir: string;
  repoRoot: string;
  state: 'starting' | 'ready' | 'stopping';
  /** The process that started the stack and will stop it (`stack-cli up`, a test runner...). */
  ownerPid: number;
  ownerCommand: string;
  startedAt: string;
  postgres?: { url: string; port: number; pid: number; dir: string; dataDir: string; logFile: string };
  nats?: { url: string; port: number; pid: number; dir: string; logFile: string };
  services: Partial<Record<ServiceName, ServiceRecord>>;
  addresses: StackAddresses;
  /** Environment for the `panda` CLI against this stack. */
  cliEnv: Record<string, string>;
}

/** The repository root (this file is libs/testkit/{src,dist}/stack-file.*). */
export function repoRootDir(): string {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  if (!existsSync(join(root, 'pnpm-workspace.yaml')))
    throw new Error(`cannot find the repository root (tried ${root})`);
  return resolve(root);
}

export function serviceMain(repoRoot: string, service: string): string {
  return join(repoRoot, 'services', service, 'dist', 'main.js');
}

export function readStackInfo(dir: string): StackInfo | undefined {
  const file = join(resolve(dir), STACK_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackInfo;
}

export function writeStackInfo(info: StackInfo): void {
  const file = join(info.dir, STACK_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(info, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** True when `dir` holds a stack whose owning process is still alive. */
export function isStackRunning(dir: string): boolean {
  const info = readStackInfo(dir);
  return info !== undefined && isAlive(info.ownerPid);
}

/** Kills whatever still carries the stack's marker (e.g. pilots that left their service's group). */
export function sweepStack(dir: string): number[] {
  const left = findProcessesWithEnv(STACK_MARKER_ENV, dir);
  for (const pid of left) sendSignal(pid, 'SIGKILL');
  return left;
}
