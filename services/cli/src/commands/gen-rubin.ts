import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ExitCode, usageError } from '../errors/cli-error.js';
import { isNdjsonFile, writeNdjsonWorkflow } from '../workflow-file/ndjson.js';
import type { CommandContext } from './context.js';
import { dataId, finalJobCommand, jobRandom, payloadCommand } from './gen-rubin-payload.js';

/** The labels of Rubin DRP step 1, in pipeline order. */
export const RUBIN_LABELS = [
  'pipetaskInit',
  'isr',
  'characterizeImage',
  'calibrate',
  'writePreSourceTable',
  'transformPreSourceTable',
] as const;
export type RubinLabel = (typeof RUBIN_LABELS)[number];

/** Per-label defaults (the workflow's `labels:`), all within the SLAC_Rubin queue's 4000 MB. */
export const RUBIN_LABEL_DEFAULTS: Record<RubinLabel, { memoryMb: number; cores: number }> = {
  pipetaskInit: { memoryMb: 2048, cores: 1 },
  isr: { memoryMb: 2048, cores: 1 },
  characterizeImage: { memoryMb: 3072, cores: 1 },
  calibrate: { memoryMb: 4000, cores: 1 },
  writePreSourceTable: { memoryMb: 2048, cores: 1 },
  transformPreSourceTable: { memoryMb: 3072, cores: 1 },
};

/** The chain every visit x detector runs, after pipetaskInit. */
const DETECTOR_CHAIN = ['isr', 'characterizeImage', 'calibrate', 'writePreSourceTable'] as const;

/** LSSTCam-style visit ids: day_obs * 100000 + sequence number. */
export const FIRST_VISIT = 2025061500101;

export interface RubinOptions {
  visits: number;
  detectors: number;
  /** Fraction 0..1 of quantum jobs (not pipetaskInit, not the final job) that fail. */
  failRate: number;
  seed: number;
  sleepS: number;
  name: string;
  queue: string;
  /** 0 = the server's default. */
  maxAttempts: number;
}

export interface RubinJob {
  name: string;
  label: RubinLabel;
  command: string;
  parents: string[];
}

/** Jobs of a V x D step-1 workflow, without the final job. */
export const rubinJobCount = (visits: number, detectors: number): number => 1 + visits * (4 * detectors + 1);

/** Whether job `name` of a workflow made with `seed` fails (quantum jobs only). */
export const rubinJobFails = (seed: number, name: string, failRate: number): boolean =>
  failRate > 0 && jobRandom(seed, name)() < failRate;

/** Everything but the jobs: the YAML top level, and the first line of the NDJSON form. */
export function rubinHeader(o: RubinOptions): Record<string, unknown> {
  return {
    name: o.name,
    campaign: 'DRP-step1',
    user: 'gen',
    queue: o.queue,
    ...(o.maxAttempts > 0 ? { maxAttempts: o.maxAttempts } : {}),
    labels: RUBIN_LABEL_DEFAULTS,
    finalJob: { command: finalJobCommand(o.name, o.sleepS), whenRun: 'ALWAYS' },
  };
}

/**
 * The jobs in topological order (parents first): pipetaskInit; per visit, per detector
 * isr -> characterizeImage -> calibrate -> writePreSourceTable; then the visit's
 * transformPreSourceTable with every writePreSourceTable of that visit as parents.
 */
export function* rubinJobs(o: RubinOptions): Generator<RubinJob> {
  const job = (label: RubinLabel, name: string, id: string, parents: string[]): RubinJob => ({
    name,
    label,
    command: payloadCommand({
      label,
      name,
      id,
      fails: label !== 'pipetaskInit' && rubinJobFails(o.seed, name, o.failRate),
      sleepS: o.sleepS,
      seed: o.seed,
    }),
    parents,
  });
  yield job('pipetaskInit', 'pipetaskInit', dataId({ instrument: 'LSSTCam' }), []);
  for (let v = 0; v < o.visits; v++) {
    const visit = FIRST_VISIT + v;
    const sinks: string[] = [];
    for (let d = 0; d < o.detectors; d++) {
      let parent = 'pipetaskInit';
      for (const label of DETECTOR_CHAIN) {
        const name = `${label}_${visit}_${d}`;
        const id = dataId({
          instrument: 'LSSTCam',
          [label === 'isr' ? 'exposure' : 'visit']: visit,
          detector: d,
        });
        yield job(label, name, id, [parent]);
        parent = name;
      }
      sinks.push(parent);
    }
    const name = `transformPreSourceTable_${visit}`;
    yield job('transformPreSourceTable', name, dataId({ instrument: 'LSSTCam', visit }), sinks);
  }
}

export interface GenRubinOptions {
  visits?: string;
  detectors?: string;
  failRate?: string;
  seed?: string;
  sleep?: string;
  out?: string;
  format?: string;
  queue?: string;
  name?: string;
  maxAttempts?: string;
}

/** Largest workflow written as YAML (built in memory); NDJSON is written as it is made. */
const MAX_YAML_JOBS = 1_000_000;
const MAX_JOBS = 10_000_000;

const wholeNumber = (text: string | undefined, what: string, min: number): number => {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw usageError(`gen rubin: ${what} must be a whole number >= ${min}, not '${text ?? ''}'`);
  }
  return n;
};

/** Checks the command line and fills in the defaults. */
export function rubinOptionsOf(o: GenRubinOptions): RubinOptions & { format: 'yaml' | 'ndjson' } {
  const visits = wholeNumber(o.visits, '--visits', 1);
  const detectors = wholeNumber(o.detectors, '--detectors', 1);
  const failRate = Number(o.failRate ?? '0');
  if (!Number.isFinite(failRate) || failRate < 0 || failRate > 1) {
    throw usageError(`gen rubin: --fail-rate must be between 0 and 1, not '${o.failRate}'`);
  }
  const sleepS = Number(o.sleep ?? '0');
  if (!Number.isFinite(sleepS) || sleepS < 0 || sleepS > 3600) {
    throw usageError(`gen rubin: --sleep must be between 0 and 3600 seconds, not '${o.sleep}'`);
  }
  const format = o.format ?? (o.out && isNdjsonFile(o.out) ? 'ndjson' : 'yaml');
  if (format !== 'yaml' && format !== 'ndjson') {
    throw usageError(`gen rubin: --format must be yaml or ndjson, not '${format}'`);
  }
  const total = rubinJobCount(visits, detectors);
  if (total > MAX_JOBS) throw usageError(`gen rubin: ${total} jobs is more than ${MAX_JOBS}`);
  if (format === 'yaml' && total > MAX_YAML_JOBS) {
    throw usageError(`gen rubin: ${total} jobs is too many for YAML; use --format ndjson`);
  }
  const name = o.name ?? `rubin-step1-${visits}x${detectors}`;
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(name)) {
    throw usageError(`gen rubin: --name '${name}' may only have letters, digits, _ . - (at most 200)`);
  }
  return {
    visits,
    detectors,
    failRate,
    seed: o.seed === undefined ? 1 : wholeNumber(o.seed, '--seed', 0),
    sleepS,
    name,
    queue: o.queue ?? 'SLAC_Rubin',
    maxAttempts: o.maxAttempts === undefined ? 0 : wholeNumber(o.maxAttempts, '--max-attempts', 1),
    format,
  };
}

export async function runGenRubin(options: GenRubinOptions, ctx: CommandContext): Promise<ExitCode> {
  const o = rubinOptionsOf(options);
  const header = rubinHeader(o);
  const total = rubinJobCount(o.visits, o.detectors);
  let failing = 0;
  const counted = function* (): Generator<RubinJob> {
    for (const j of rubinJobs(o)) {
      if (j.label !== 'pipetaskInit' && rubinJobFails(o.seed, j.name, o.failRate)) failing++;
      yield j;
    }
  };
  if (o.format === 'ndjson') {
    await writeNdjsonWorkflow(options.out, header, counted(), ctx.output, ctx.signal);
  } else {
    const text = stringify({ ...header, jobs: [...counted()] }, { lineWidth: 0 });
    if (options.out) await writeFile(options.out, text);
    else ctx.output.out(text.trimEnd());
  }
  if (options.out) {
    ctx.output.err(
      `wrote ${total} jobs and a final job (${o.visits} visits x ${o.detectors} detectors, ${failing} failing) to ${options.out}`,
    );
  }
  return ExitCode.Ok;
}

export function registerGenRubin(gen: Command, ctx: CommandContext, done: (code: ExitCode) => void): void {
  gen
    .command('rubin')
    .description(
      'generate a Rubin DRP step-1 workflow: pipetaskInit -> per visit x detector isr -> characterizeImage ' +
        '-> calibrate -> writePreSourceTable -> per visit transformPreSourceTable -> final job',
    )
    .requiredOption('--visits <v>', 'number of visits')
    .requiredOption('--detectors <d>', 'detectors per visit (LSSTCam has 189)')
    .option('--fail-rate <r>', 'fraction 0..1 of quantum jobs that fail (deterministic per seed)', '0')
    .option('--seed <s>', 'seed of the failures and logged numbers', '1')
    .option('--sleep <s>', 'seconds each payload sleeps', '0')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .option('--format <f>', 'yaml or ndjson (default: ndjson for a .ndjson/.jsonl file, else yaml)')
    .option('--queue <queue>', 'queue', 'SLAC_Rubin')
    .option('--name <name>', 'workflow name (default rubin-step1-<V>x<D>)')
    .option('--max-attempts <n>', 'attempts per job (default: the server default)')
    .action(async (options: GenRubinOptions) => done(await runGenRubin(options, ctx)));
}
