import type { JobSpec } from '@panda/proto';

export interface PlannedTask {
  name: string;
  label: string;
  chunk: number;
  jobs: JobSpec[];
}

/**
 * One task per label, in the order labels first appear in the topological order; a label
 * with more than `maxJobsPerTask` jobs is split into ceil(n/max) chunks of near-equal size.
 * Task name: `<workflow>_<taskNo:02>_<label>_<chunk:02>` as BPS names them.
 */
export function planTasks(workflowName: string, ordered: JobSpec[], maxJobsPerTask: number): PlannedTask[] {
  const byLabel = new Map<string, JobSpec[]>();
  for (const j of ordered) {
    const list = byLabel.get(j.label);
    if (list) list.push(j);
    else byLabel.set(j.label, [j]);
  }
  const tasks: PlannedTask[] = [];
  let taskNo = 0;
  for (const [label, jobs] of byLabel) {
    taskNo++;
    const chunks = Math.ceil(jobs.length / maxJobsPerTask);
    const size = Math.ceil(jobs.length / chunks);
    for (let c = 0; c < chunks; c++) {
      const pad = (n: number) => String(n).padStart(2, '0');
      tasks.push({
        name: `${workflowName}_${pad(taskNo)}_${label}_${pad(c + 1)}`,
        label,
        chunk: c + 1,
        jobs: jobs.slice(c * size, (c + 1) * size),
      });
    }
  }
  return tasks;
}
