import { InvalidArgumentError, NotFoundError } from '@panda/platform';
import type { Sql } from '@panda/platform';
import type { JobServiceClient, ListWorkflowsRequest, Workflow, WorkflowReport } from '@panda/proto';
import { buildReport, withOpenedGates } from '../report/report.js';
import type { NodeStateCount } from '../report/report.js';
import type { WorkflowRow } from './workflow-row.js';
import { openStagedByLabel } from './staging.js';
import { toWorkflow } from './workflow-row.js';
import { workflowStates } from './workflow-state.js';

export class WorkflowQueries {
  constructor(
    private readonly sql: Sql,
    private readonly jobs: JobServiceClient,
  ) {}

  private async row(workflowId: number): Promise<WorkflowRow> {
    const [row] = await this.sql.query<WorkflowRow>(`SELECT * FROM idds.workflows WHERE workflow_id = $1`, [
      workflowId,
    ]);
    if (!row) throw new NotFoundError('workflow', workflowId);
    return row;
  }

  async get(workflowId: number): Promise<Workflow> {
    return toWorkflow(await this.row(workflowId));
  }

  async list(req: ListWorkflowsRequest): Promise<Workflow[]> {
    if (req.state && !workflowStates.isState(req.state)) {
      throw new InvalidArgumentError('state', `unknown workflow state '${req.state}'`);
    }
    const limit = Math.min(req.limit > 0 ? req.limit : 100, 1000);
    const rows = await this.sql.query<WorkflowRow>(
      `SELECT * FROM idds.workflows WHERE ($1 = '' OR user_name = $1) AND ($2 = '' OR state = $2)
       ORDER BY workflow_id DESC LIMIT $3`,
      [req.user, req.state, limit],
    );
    return rows.map(toWorkflow);
  }

  async report(workflowId: number, signal?: AbortSignal): Promise<WorkflowReport> {
    const wf = await this.row(workflowId);
    const tasks = await this.sql.query<{ label: string; jedi_task_id: string | null }>(
      `SELECT label, jedi_task_id FROM idds.tasks WHERE workflow_id = $1 ORDER BY task_ref`,
      [workflowId],
    );
    let nodes = await this.sql.query<NodeStateCount>(
      `SELECT label, state, count(*)::int AS count FROM idds.nodes WHERE workflow_id = $1 GROUP BY label, state`,
      [workflowId],
    );
    if (nodes.some((n) => n.state === 'staged')) {
      nodes = withOpenedGates(nodes, await openStagedByLabel(this.sql, workflowId));
    }
    const labelOf = new Map(
      tasks.filter((t) => t.jedi_task_id).map((t) => [Number(t.jedi_task_id), t.label]),
    );
    const { counts, exitCodes } = labelOf.size
      ? await this.jobs.countJobs({ taskIds: [...labelOf.keys()] }, { signal })
      : { counts: [], exitCodes: [] };
    const labels = [...new Set(tasks.map((t) => t.label))];
    const { rows, total } = buildReport(
      labels,
      nodes,
      counts.map((c) => ({ label: labelOf.get(c.taskId) ?? '', state: c.state, count: c.count })),
    );
    const byLabel = new Map<string, number>();
    for (const e of exitCodes) {
      const key = `${labelOf.get(e.taskId) ?? ''}\u0000${e.exitCode}`;
      byLabel.set(key, (byLabel.get(key) ?? 0) + e.count);
    }
    // In the workflow's label order, like the rows: jedi's task ids need not follow it.
    const position = new Map(labels.map((l, i) => [l, i]));
    const exitCodeCounts = [...byLabel]
      .map(([key, count]) => {
        const [label, code] = key.split('\u0000') as [string, string];
        return { label, exitCode: Number(code), count };
      })
      .sort(
        (a, b) =>
          (position.get(a.label) ?? labels.length) - (position.get(b.label) ?? labels.length) ||
          a.exitCode - b.exitCode,
      );
    return { workflow: toWorkflow(wf), rows, total, exitCodes: exitCodeCounts };
  }
}
