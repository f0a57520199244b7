import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ExitCode, usageError } from '../errors/cli-error.js';
import type { CommandContext } from './context.js';
import { registerGenRubin } from './gen-rubin.js';
import { parseId } from './ids.js';

export interface GenOptions {
  out?: string;
  name?: string;
  queue?: string;
  labels?: string;
  failEvery?: string;
  sleep?: string;
  maxAttempts?: string;
}

interface GenJob {
  name: string;
  label: string;
  command: string;
  parents?: string[];
}

/**
 * A synthetic workflow of `n` jobs: one `init` root, then chains through `labels` (each chain
 * one "visit"), like the Rubin demo. `failEvery` k makes every k-th non-root job exit 3.
 */
export function generateWorkflow(
  n: number,
  o: {
    name: string;
    queue: string;
    labels: string[];
    failEvery: number;
    sleepS: number;
    maxAttempts: number;
  },
): Record<string, unknown> {
  if (n < 1) throw usageError('gen: need at least 1 job');
  const jobs: GenJob[] = [{ name: 'init', label: 'pipetaskInit', command: 'echo init' }];
  const width = Math.max(1, Math.ceil((n - 1) / o.labels.length));
  for (let i = 1; i < n; i++) {
    const chain = (i - 1) % width;
    const step = Math.floor((i - 1) / width);
    const label = o.labels[Math.min(step, o.labels.length - 1)] ?? 'step';
    const fails = o.failEvery > 0 && i % o.failEvery === 0;
    const parent = step === 0 ? 'init' : `${o.labels[step - 1] ?? 'step'}_${chain}`;
    const work = o.sleepS > 0 ? `sleep ${o.sleepS}; ` : '';
    jobs.push({
      name: `${label}_${chain}`,
      label,
      command: fails
        ? `${work}echo "synthetic failure of ${label}_${chain}" >&2; exit 3`
        : `${work}echo ${label}_${chain}`,
      parents: [jobs.some((j) => j.name === parent) ? parent : 'init'],
    });
  }
  return { name: o.name, campaign: 'gen', user: 'gen', queue: o.queue, maxAttempts: o.maxAttempts, jobs };
}

export async function runGen(nText: string, options: GenOptions, ctx: CommandContext): Promise<ExitCode> {
  const n = parseId(nText, 'job count');
  if (n > 1_000_000) throw usageError('gen: at most 1000000 jobs');
  const spec = generateWorkflow(n, {
    name: options.name ?? `gen-${n}`,
    queue: options.queue ?? '',
    labels: (options.labels ?? 'isr,characterizeImage,calibrate').split(',').filter(Boolean),
    failEvery: options.failEvery === undefined ? 0 : parseId(options.failEvery, 'fail-every'),
    sleepS: options.sleep === undefined ? 0 : Number(options.sleep) || 0,
    maxAttempts: options.maxAttempts === undefined ? 0 : parseId(options.maxAttempts, 'max-attempts'),
  });
  const text = stringify(spec);
  if (options.out) {
    await writeFile(options.out, text);
    ctx.output.err(`wrote ${n} jobs to ${options.out}`);
  } else {
    ctx.output.out(text.trimEnd());
  }
  return ExitCode.Ok;
}

export function registerGen(program: Command, ctx: CommandContext, done: (code: ExitCode) => void): void {
  const gen = program
    .command('gen')
    // Options after `gen rubin` are rubin's own (the program has positional options too).
    .enablePositionalOptions()
    .description('generate a synthetic workflow file of <n> jobs (for tests and benchmarks)')
    .argument('<n>', 'number of jobs')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('--name <name>', 'workflow name (default gen-<n>)')
    .option('--queue <queue>', 'queue')
    .option('--labels <a,b,c>', 'labels of the chain after the root', 'isr,characterizeImage,calibrate')
    .option('--fail-every <k>', 'every k-th job exits 3')
    .option('--sleep <s>', 'each job sleeps s seconds')
    .option('--max-attempts <n>', 'attempts per job')
    .action(async (n: string, options: GenOptions) => done(await runGen(n, options, ctx)));
  registerGenRubin(gen, ctx, done);
}
