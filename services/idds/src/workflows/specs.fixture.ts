import type { JobSpec, WorkflowSpec } from '@panda/proto';

/** Test fixtures (not built): a workflow spec with every field unset but those given. */
export const workflowSpec = (extra: Partial<WorkflowSpec> = {}): WorkflowSpec => ({
  name: 'w',
  campaign: '',
  user: 'u',
  queue: 'SLAC_Rubin',
  site: '',
  maxAttempts: 0,
  memoryMultiplier: 0,
  memoryMaxMb: 0,
  maxJobsPerTask: 0,
  priority: 0,
  labels: {},
  finalJob: undefined,
  jobs: [],
  ...extra,
});

/** A DAG node running `true`; its label is the name's part before the first `_` unless given. */
export const jobSpec = (name: string, parents: string[] = [], extra: Partial<JobSpec> = {}): JobSpec => ({
  name,
  label: name.split('_')[0]!,
  command: 'true',
  parents,
  memoryMb: 0,
  cores: 0,
  ...extra,
});
