import type { WorkflowServiceImplementation } from '@panda/proto';
import type { WorkflowControl } from '../workflows/control.js';
import type { WorkflowQueries } from '../workflows/queries.js';
import type { WorkflowSubmitter } from '../workflows/submit.js';

export function workflowService(
  submitter: WorkflowSubmitter,
  queries: WorkflowQueries,
  control: WorkflowControl,
): WorkflowServiceImplementation {
  return {
    async submitWorkflow(req, ctx) {
      return { workflowId: await submitter.submit(req.workflow, ctx.signal) };
    },
    async submitWorkflowStream(chunks, ctx) {
      return { workflowId: await submitter.submitStream(chunks, ctx.signal) };
    },
    async getWorkflow(req) {
      return queries.get(req.workflowId);
    },
    async listWorkflows(req) {
      return { workflows: await queries.list(req) };
    },
    async cancelWorkflow(req, ctx) {
      return control.cancel(req.workflowId, ctx.signal);
    },
    async restartWorkflow(req, ctx) {
      return control.restart(req.workflowId, ctx.signal);
    },
    async getReport(req, ctx) {
      return queries.report(req.workflowId, ctx.signal);
    },
  };
}
