import { createGrpcClient, openChannel } from '@panda/platform';
import {
  JobServiceDefinition,
  JobSpec,
  LabelDefaults,
  ListJobsRequest,
  TaskServiceDefinition,
  WorkflowServiceDefinition,
  WorkflowSpec,
} from '@panda/proto';
import type { Job, ReportRow, Workflow } from '@panda/proto';
import { pollFor } from '@panda/testkit';
import type { Stack } from '@panda/testkit';

/** Job states after which nothing more happens to a job. */
export const FINAL_JOB_STATES = ['finished', 'failed', 'cancelled', 'closed'];
const ENDED_WORKFLOW_STATES = ['Finished', 'SubFinished', 'Failed', 'Cancelled'];

/** A DAG node; its label is the name's part before the first `_` unless given. */
export const jobSpec = (
  name: string,
  parents: string[],
  command = 'true',
  label = name.split('_')[0]!,
): JobSpec => JobSpec.fromPartial({ name, label, command, parents });

/** Per-label defaults with every field unset but those given. */
export const labelDefaults = (extra: Partial<LabelDefaults>): LabelDefaults =>
  LabelDefaults.fromPartial(extra);

/**
 * gRPC clients of a running stack's idds, server and jedi, and the few questions the workflow
 * suites ask of them: submit a small DAG, wait for it to end, list its jobs, read a report row.
 * Made at a suite's top level; the channels open on first use, once `beforeAll` started the stack.
 */
export function workflowKit(stackOf: () => Stack, pollMs = 250) {
  let open: ReturnType<typeof connect> | undefined;
  const clients = () => (open ??= connect(stackOf()));
  const idds = () => clients().idds;

  const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> =>
    pollFor(probe, what, { timeoutMs, intervalMs: pollMs });

  const submit = async (
    name: string,
    list: JobSpec[],
    extra: Partial<WorkflowSpec> = {},
  ): Promise<number> => {
    const workflow = WorkflowSpec.fromPartial({
      name,
      campaign: 'e2e',
      user: 'tester',
      queue: 'SLAC_Rubin',
      maxAttempts: 2,
      jobs: list,
      ...extra,
    });
    return (await idds().submitWorkflow({ workflow })).workflowId;
  };

  const ended = (workflowId: number): Promise<Workflow> =>
    until('the workflow to end', async () => {
      const wf = await idds().getWorkflow({ workflowId });
      return ENDED_WORKFLOW_STATES.includes(wf.state) ? wf : undefined;
    });

  const jobsOf = async (workflowId: number): Promise<Job[]> =>
    (await clients().jobs.listJobs(ListJobsRequest.fromPartial({ workflowId, limit: 1000 }))).jobs;

  const row = async (workflowId: number, label: string): Promise<ReportRow> => {
    const found = (await idds().getReport({ workflowId })).rows.find((r) => r.label === label);
    if (!found) throw new Error(`workflow ${workflowId}'s report has no row for label ${label}`);
    return found;
  };

  return {
    get idds() {
      return clients().idds;
    },
    get jobs() {
      return clients().jobs;
    },
    get tasks() {
      return clients().tasks;
    },
    until,
    submit,
    ended,
    jobsOf,
    row,
    close: () => open?.channels.forEach((c) => c.close()),
  };
}

function connect(stack: Stack) {
  const { iddsAddr, serverAddr, jediAddr } = stack.addresses;
  const channels = [openChannel(iddsAddr), openChannel(serverAddr), openChannel(jediAddr)] as const;
  return {
    channels,
    idds: createGrpcClient(WorkflowServiceDefinition, channels[0]),
    jobs: createGrpcClient(JobServiceDefinition, channels[1]),
    tasks: createGrpcClient(TaskServiceDefinition, channels[2]),
  };
}

export type WorkflowKit = ReturnType<typeof workflowKit>;
