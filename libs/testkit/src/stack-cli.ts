#!/usr/bin/env node
/**
 * `node libs/testkit/dist/stack-cli.js <command> --dir DIR`: the stack commands behind ./dev.
 * Run without arguments for usage.
 */
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findProcessesWithEnv, signal } from './proc.js';
import { startStack } from './stack.js';
import type { Stack } from './stack.js';
import { stopStackFromFile } from './stack-down.js';
import { isStackRunning, readStackInfo, repoRootDir, SERVICES } from './stack-file.js';
import type { ServiceName } from './stack-file.js';
import { formatProgress, normalizeState, runPanda, submitWorkflow, waitForWorkflow } from './workflow.js';
import type { PandaCli, WorkflowStatus } from './workflow.js';

const USAGE = `usage: stack-cli <command> --dir DIR [options]
  up      [--services a,b] [--log-level L]  start the stack in the foreground; Ctrl-C stops it
  down                                      stop the stack running in DIR (and anything it left)
  env                                       print shell exports (PANDA_*_ADDR, PANDA_MONITOR_URL) of the stack
  status                                    print the addresses of the stack
  sweep   --env NAME=VALUE                  (no --dir) SIGKILL every process whose environment has NAME=VALUE
  demo    --file F [--exit] [--timeout S]   submit F with the panda CLI and follow it to the end; starts the
                                            stack unless one runs in DIR; without --exit the stack stays up
services: ${SERVICES.join(', ')}`;

const say = (line: string) => process.stdout.write(`[stack] ${line}\n`);
const complain = (line: string) => process.stderr.write(`[stack] ${line}\n`);

/** Aborts on the first SIGINT/SIGTERM/SIGHUP; later ones only say that stopping is under way. */
function interruptOnSignals(): AbortSignal {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (controller.signal.aborted) {
        say('still stopping, please wait');
        return;
      }
      process.stdout.write('\n');
      say(`${sig}: stopping`);
      controller.abort();
    });
  }
  return controller.signal;
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const keepAlive = setInterval(() => undefined, 60_000);
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(keepAlive);
        resolve();
      },
      { once: true },
    );
  });
}

function startStackLogged(dir: string, signal: AbortSignal, services?: ServiceName[], logLevel?: string) {
  return startStack({
    dir,
    services,
    logLevel,
    signal,
    log: say,
    onServiceExit: (name, code, sig) =>
      complain(`WARNING: ${name} exited (${code ?? sig}) while the stack is up; see ${dir}/logs/${name}.log`),
  });
}

function printSummary(stack: Stack) {
  say(`monitor       ${stack.addresses.monitorUrl}/`);
  say(`logs          ${stack.dir}/logs  (./dev logs <service> [-f])`);
  say(`stack.json    ${stack.dir}/stack.json`);
}

async function up(
  dir: string,
  services: ServiceName[] | undefined,
  logLevel: string | undefined,
): Promise<number> {
  const signal = interruptOnSignals();
  let stack: Stack;
  try {
    stack = await startStackLogged(dir, signal, services, logLevel);
  } catch (err) {
    complain((err as Error).message);
    return signal.aborted ? 130 : 1;
  }
  printSummary(stack);
  say('stack is up; Ctrl-C stops everything');
  await untilAborted(signal);
  await stack.stop();
  return 0;
}

/** One progress line per poll: rewritten in place on a terminal, printed on change otherwise. */
function progressPrinter(): { print: (s: WorkflowStatus, elapsedMs: number) => void; end: () => void } {
  const tty = process.stdout.isTTY;
  let last = '';
  let open = false;
  return {
    print(s, elapsedMs) {
      const line = formatProgress(s, elapsedMs);
      if (tty) {
        process.stdout.write(`\r\x1b[K${line}`);
        open = true;
        return;
      }
      const key = line.slice(line.indexOf(']'));
      if (key !== last) process.stdout.write(`${line}\n`);
      last = key;
    },
    end() {
      if (open) process.stdout.write('\n');
      open = false;
    },
  };
}

async function demo(dir: string, file: string, exit: boolean, timeoutS: number): Promise<number> {
  const signal = interruptOnSignals();
  const repoRoot = repoRootDir();
  let stack: Stack | undefined;
  let cli: PandaCli;
  const running = readStackInfo(dir);
  if (running !== undefined && isStackRunning(dir)) {
    if (running.state !== 'ready') {
      complain(`the stack in ${dir} is ${running.state}; try again when it is ready`);
      return 1;
    }
    say(`using the stack already running in ${dir} (pid ${running.ownerPid})`);
    cli = { repoRoot, env: running.cliEnv };
  } else {
    say(`starting the stack in ${dir}`);
    try {
      stack = await startStackLogged(dir, signal);
    } catch (err) {
      complain((err as Error).message);
      return signal.aborted ? 130 : 1;
    }
    cli = { repoRoot, env: stack.cliEnv };
  }

  let code = 1;
  const progress = progressPrinter();
  try {
    say(`submitting ${relative(process.cwd(), file) || file}`);
    const id = await submitWorkflow(cli, file);
    say(`workflow ${id} submitted; following it (panda status ${id} --json every second)`);
    const final = await waitForWorkflow(cli, id, {
      signal,
      timeoutMs: timeoutS * 1000,
      onProgress: progress.print,
    });
    progress.end();
    const report = await runPanda(cli, ['report', String(id)]);
    process.stdout.write(report.stdout);
    if (report.code !== 0) complain(`panda report ${id} failed (exit ${report.code}): ${report.stderr}`);
    const finished = normalizeState(final.state) === 'finished';
    say(`workflow ${id} ended ${final.state}: ${final.counts.finished}/${final.counts.total} jobs finished`);
    say(`monitor: ${cli.env['PANDA_MONITOR_URL']}/`);
    code = finished ? 0 : 1;
    if (stack && !exit) {
      printSummary(stack);
      say('the stack stays up; Ctrl-C stops everything');
      await untilAborted(signal);
    }
  } catch (err) {
    progress.end();
    if (signal.aborted) {
      code = 130;
    } else {
      complain((err as Error).message);
      complain(`service logs are in ${dir}/logs`);
      code = 1;
    }
  } finally {
    if (stack) await stack.stop();
  }
  return code;
}

const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      services: { type: 'string' },
      'log-level': { type: 'string' },
      file: { type: 'string' },
      exit: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
      env: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (command === 'sweep') {
    const [name, ...rest] = (values.env ?? '').split('=');
    if (!name || rest.length === 0) {
      complain('sweep needs --env NAME=VALUE');
      return 2;
    }
    const pids = findProcessesWithEnv(name, rest.join('='));
    for (const pid of pids) signal(pid, 'SIGKILL');
    if (pids.length > 0)
      say(`killed ${pids.length} leftover process(es) with ${values.env}: ${pids.join(' ')}`);
    return 0;
  }
  if (values.dir === undefined) {
    complain('--dir is required');
    return 2;
  }
  const dir = resolve(values.dir);

  switch (command) {
    case 'up': {
      const services = values.services?.split(',').map((s) => s.trim()) as ServiceName[] | undefined;
      return up(dir, services, values['log-level']);
    }
    case 'down': {
      const found = await stopStackFromFile(dir, { log: say });
      say(found ? 'stack stopped' : `no stack in ${dir}`);
      return 0;
    }
    case 'env':
    case 'status': {
      const info = readStackInfo(dir);
      if (info === undefined || !isStackRunning(dir)) {
        complain(`no stack is running in ${dir} (start one with ./dev up)`);
        return 1;
      }
      if (command === 'env') {
        for (const [k, v] of Object.entries(info.cliEnv))
          process.stdout.write(`export ${k}=${shellQuote(v)}\n`);
      } else {
        say(`state         ${info.state} (owner pid ${info.ownerPid}, since ${info.startedAt})`);
        if (info.postgres) say(`postgres      ${info.postgres.url}`);
        if (info.nats) say(`nats          ${info.nats.url}`);
        for (const [name, s] of Object.entries(info.services)) {
          say(`${name.padEnd(14)}${s.address}  pid ${s.pid}  ${s.state}`);
        }
      }
      return 0;
    }
    case 'demo': {
      if (values.file === undefined) {
        complain('demo needs --file');
        return 2;
      }
      const timeoutS = Number(values.timeout);
      if (!(timeoutS > 0)) {
        complain(`bad --timeout ${values.timeout}`);
        return 2;
      }
      return demo(dir, resolve(values.file), values.exit, timeoutS);
    }
    default:
      complain(`unknown command ${command}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    complain(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
