import type { WorkflowServiceClient } from '@panda/proto';

/** The read side of idds's WorkflowService the monitor uses (tests pass an in-memory fake). */
export type WorkflowReader = Pick<WorkflowServiceClient, 'getWorkflow' | 'listWorkflows' | 'getReport'>;

/** The idds client and its address, which error pages name. */
export interface IddsBackend {
  client: WorkflowReader;
  address: string;
}
