import { JobSpec, WorkflowSpec } from '@panda/proto';

/** Test fixtures (not built): a workflow spec with every field unset but those given. */
export const workflowSpec = (extra: Partial<WorkflowSpec> = {}): WorkflowSpec =>
  WorkflowSpec.fromPartial({ name: 'w', user: 'u', queue: 'SLAC_Rubin', ...extra });

/** A DAG node running `true`; its label is the name's part before the first `_` unless given. */
export const jobSpec = (name: string, parents: string[] = [], extra: Partial<JobSpec> = {}): JobSpec =>
  JobSpec.fromPartial({ name, label: name.split('_')[0]!, command: 'true', parents, ...extra });
