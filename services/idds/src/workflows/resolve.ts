import type { JobSpec, LabelDefaults, WorkflowSpec } from '@panda/proto';

/** BPS defaults (requestMemory 2048 MB, requestCpus 1). */
export const JOB_DEFAULTS = { memoryMb: 2048, cores: 1 };
export const FINAL_LABEL = 'finalJob';

export interface TaskSettings {
  queue: string;
  site: string;
  maxAttempts: number;
  priority: number;
  walltimeS: number;
  memoryMultiplier: number;
  memoryMaxMb: number;
}

const none: LabelDefaults = {
  memoryMb: 0,
  cores: 0,
  walltimeS: 0,
  queue: '',
  site: '',
  maxAttempts: 0,
  memoryMultiplier: 0,
  memoryMaxMb: 0,
  priority: 0,
  environment: {},
};

/** `export A='x';` for each variable, values single-quoted for the shell. */
export function environmentPrefix(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'; `)
    .join('');
}

/** A job with its label's defaults applied: memory, cores and the environment in the command. */
export function resolveJob(wf: WorkflowSpec, job: JobSpec): JobSpec {
  const label = wf.labels[job.label] ?? none;
  return {
    ...job,
    memoryMb: job.memoryMb || label.memoryMb || JOB_DEFAULTS.memoryMb,
    cores: job.cores || label.cores || JOB_DEFAULTS.cores,
    command: environmentPrefix(label.environment) + job.command,
  };
}

/** The settings of a label's task(s): the label's own, else the workflow's. */
export function taskSettings(wf: WorkflowSpec, label: string, defaultMaxAttempts: number): TaskSettings {
  const l = wf.labels[label] ?? none;
  const isFinal = label === FINAL_LABEL;
  return {
    queue: (isFinal ? wf.finalJob?.queue : '') || l.queue || wf.queue,
    site: l.site || wf.site,
    maxAttempts: l.maxAttempts || wf.maxAttempts || defaultMaxAttempts,
    priority: l.priority || wf.priority,
    walltimeS: l.walltimeS,
    memoryMultiplier: l.memoryMultiplier || wf.memoryMultiplier,
    memoryMaxMb: l.memoryMaxMb || wf.memoryMaxMb,
  };
}

/** The final job as a node of its own label, or undefined when there is none or NEVER. */
export function finalJobNode(wf: WorkflowSpec): JobSpec | undefined {
  const f = wf.finalJob;
  if (!f || f.whenRun === 'NEVER') return undefined;
  return {
    name: `${wf.name}_finalJob`,
    label: FINAL_LABEL,
    command: environmentPrefix(f.environment) + f.command,
    parents: [],
    memoryMb: f.memoryMb || JOB_DEFAULTS.memoryMb,
    cores: f.cores || JOB_DEFAULTS.cores,
  };
}
