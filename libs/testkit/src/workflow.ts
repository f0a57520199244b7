import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './ports.js';

/** What `panda status <id> --json` prints (the Workflow message). */
export interface WorkflowStatus {
  workflowId: number;
  name: string;
  state: string;
  counts: {
    total: number;
    released: number;
    unreleased: number;
    processing: number;
    finished: number;
    failed: number;
    pruned: number;
    remaining: number;
  };
}

export const TERMINAL_STATES = ['Finished', 'SubFinished', 'Failed', 'Cancelled'] as const;

/** `WORKFLOW_STATE_SUB_FINISHED`, `sub_finished` and `SubFinished` all become `subfinished`. */
export function normalizeState(state: string): string {
  return state
    .replace(/^WORKFLOW_STATE_/i, '')
    .replace(/[^a-z]/gi, '')
    .toLowerCase();
}

export function isTerminalState(state: string): boolean {
  return TERMINAL_STATES.some((s) => normalizeState(s) === normalizeState(state));
}

export interface PandaCli {
  repoRoot: string;
  /** PANDA_*_ADDR / PANDA_MONITOR_URL of the stack (Stack.cliEnv or StackInfo.cliEnv). */
  env: Record<string, string>;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node services/cli/dist/main.js ...args` against the stack; never throws on a non-zero exit. */
export function runPanda(cli: PandaCli, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  const main = join(cli.repoRoot, 'services', 'cli', 'dist', 'main.js');
  if (!existsSync(main)) return Promise.reject(new Error(`the panda CLI is not built: ${main} missing`));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      { cwd: cli.repoRoot, env: { ...process.env, ...cli.env }, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err == null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function runPandaJson<T>(cli: PandaCli, args: string[]): Promise<T> {
  const result = await runPanda(cli, args);
  if (result.code !== 0) {
    throw new Error(
      `panda ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr || result.stdout}`,
    );
  }
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`panda ${args.join(' ')} did not print JSON:\n${result.stdout}`);
  }
}

/** `panda submit <file> --json` -> the workflow id. */
export async function submitWorkflow(cli: PandaCli, file: string): Promise<number> {
  const out = await runPandaJson<{ workflowId?: number | string }>(cli, ['submit', file, '--json']);
  const id = Number(out.workflowId);
  if (!Number.isInteger(id) || id <= 0)
    throw new Error(`panda submit printed no workflowId: ${JSON.stringify(out)}`);
  return id;
}

export function workflowStatus(cli: PandaCli, id: number): Promise<WorkflowStatus> {
  return runPandaJson<WorkflowStatus>(cli, ['status', String(id), '--json']);
}

export function formatProgress(s: WorkflowStatus, elapsedMs: number): string {
  const c = s.counts;
  return (
    `[${String(Math.round(elapsedMs / 1000)).padStart(4)}s] workflow ${s.workflowId} ${s.name}: ${s.state.padEnd(11)} ` +
    `finished ${c.finished}/${c.total}  processing ${c.processing}  released ${c.released}  ` +
    `unreleased ${c.unreleased}  failed ${c.failed}  pruned ${c.pruned}`
  );
}

export interface WaitForWorkflowOptions {
  timeoutMs?: number;
  intervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (status: WorkflowStatus, elapsedMs: number) => void;
}

/** Polls `panda status` until the workflow reaches Finished, SubFinished, Failed or Cancelled. */
export async function waitForWorkflow(
  cli: PandaCli,
  id: number,
  options: WaitForWorkflowOptions = {},
): Promise<WorkflowStatus> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 600_000;
  for (;;) {
    if (options.signal?.aborted) throw new Error('interrupted');
    const status = await workflowStatus(cli, id);
    options.onProgress?.(status, Date.now() - started);
    if (isTerminalState(status.state)) return status;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`workflow ${id} still ${status.state} after ${timeoutMs / 1000} s`);
    }
    await sleep(options.intervalMs ?? 1000);
  }
}

/** A job of a test workflow; label (the name up to `_`), parents, memory and cores default. */
export interface TestJob {
  name: string;
  command: string;
  label?: string;
  parents?: string[];
  memoryMb?: number;
  cores?: number;
  [field: string]: unknown;
}

/**
 * Writes `<dir>/<name>.json`, a workflow `panda submit` takes: campaign `e2e`, user `tester`,
 * one attempt, unless `header` says otherwise; jobs get `defaults`, then their own fields.
 */
export function writeWorkflowFile(
  dir: string,
  spec: { name: string; queue: string; jobs: TestJob[]; defaults?: Partial<TestJob> } & Record<
    string,
    unknown
  >,
): string {
  const { jobs, defaults, ...header } = spec;
  const file = join(dir, `${spec.name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      campaign: 'e2e',
      user: 'tester',
      maxAttempts: 1,
      ...header,
      jobs: jobs.map((j) => ({
        label: j.name.split('_')[0],
        parents: [],
        memoryMb: 500,
        cores: 1,
        ...defaults,
        ...j,
      })),
    }),
  );
  return file;
}
