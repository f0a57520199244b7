import { InvalidArgumentError } from '@panda/platform';
import type { JobSpec, WorkflowSpec } from '@panda/proto';

export const LIMITS = {
  maxNameLength: 4000,
  maxMemoryMb: 491_520,
  maxCores: 256,
  maxAttempts: 100,
};

export const jobField = (i: number, j: JobSpec) => `jobs[${i}] (${j.name ? j.name.slice(0, 80) : 'unnamed'})`;

/**
 * Checks a workflow before anything is stored. Throws InvalidArgumentError naming the
 * offending job for: empty or over-long names, duplicates, empty label or command, memory
 * or cores out of range, unknown or repeated parents, and cycles.
 * Returns the jobs in a topological order (parents before children).
 */
export function validateWorkflow(wf: WorkflowSpec | undefined): JobSpec[] {
  validateHeader(wf);
  if (wf!.jobs.length === 0) throw new InvalidArgumentError('workflow.jobs', 'has no jobs');
  const index = new Map<string, number>();
  wf!.jobs.forEach((j, i) => {
    if (index.has(j.name)) {
      throw new InvalidArgumentError(jobField(i, j), `duplicate job name (also jobs[${index.get(j.name)}])`);
    }
    validateJob(j, i);
    index.set(j.name, i);
  });
  wf!.jobs.forEach((j, i) => validateParents(j, i, (p) => index.has(p)));
  return topologicalOrder(wf!.jobs, index);
}

/** Everything about a workflow but its jobs. */
export function validateHeader(wf: WorkflowSpec | undefined): asserts wf is WorkflowSpec {
  if (!wf) throw new InvalidArgumentError('workflow', 'is missing');
  if (!wf.name.trim()) throw new InvalidArgumentError('workflow.name', 'is empty');
  if (wf.name.length > 255) throw new InvalidArgumentError('workflow.name', 'is longer than 255 characters');
  if (!wf.queue.trim() && !wf.site.trim())
    throw new InvalidArgumentError('workflow.queue', 'give a queue or a site');
  if (wf.memoryMultiplier < 0 || wf.memoryMultiplier > 100) {
    throw new InvalidArgumentError('workflow.memoryMultiplier', 'must be between 0 and 100');
  }
  if (wf.memoryMaxMb < 0 || wf.memoryMaxMb > LIMITS.maxMemoryMb) {
    throw new InvalidArgumentError('workflow.memoryMaxMb', `must be between 0 and ${LIMITS.maxMemoryMb}`);
  }
  if (wf.maxAttempts < 0 || wf.maxAttempts > LIMITS.maxAttempts) {
    throw new InvalidArgumentError('workflow.maxAttempts', `must be between 0 and ${LIMITS.maxAttempts}`);
  }
  if (wf.maxJobsPerTask < 0)
    throw new InvalidArgumentError('workflow.maxJobsPerTask', 'must not be negative');
  for (const [label, d] of Object.entries(wf.labels)) {
    const f = `workflow.labels.${label}`;
    if (d.memoryMb < 0 || d.memoryMb > LIMITS.maxMemoryMb)
      throw new InvalidArgumentError(f, `memoryMb ${d.memoryMb} is out of range`);
    if (d.cores < 0 || d.cores > LIMITS.maxCores)
      throw new InvalidArgumentError(f, `cores ${d.cores} is out of range`);
    if (d.maxAttempts < 0 || d.maxAttempts > LIMITS.maxAttempts)
      throw new InvalidArgumentError(f, 'maxAttempts is out of range');
    for (const k of Object.keys(d.environment)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
        throw new InvalidArgumentError(f, `environment name '${k}' is not valid`);
    }
  }
  if (wf.finalJob) {
    if (!wf.finalJob.command.trim()) throw new InvalidArgumentError('workflow.finalJob.command', 'is empty');
    if (!['ALWAYS', 'SUCCESS', 'NEVER', ''].includes(wf.finalJob.whenRun)) {
      throw new InvalidArgumentError(
        'workflow.finalJob.whenRun',
        `'${wf.finalJob.whenRun}' is not ALWAYS, SUCCESS or NEVER`,
      );
    }
  }
}

/** One job's own fields (not its parents). `i` is its position, used in the message. */
export function validateJob(j: JobSpec, i: number): void {
  const f = jobField(i, j);
  if (!j.name.trim()) throw new InvalidArgumentError(f, 'name is empty');
  if (j.name.length > LIMITS.maxNameLength) {
    throw new InvalidArgumentError(f, `name is longer than ${LIMITS.maxNameLength} characters`);
  }
  if (!j.label.trim()) throw new InvalidArgumentError(f, 'label is empty');
  if (j.label === 'finalJob')
    throw new InvalidArgumentError(f, "label 'finalJob' is reserved for the final job");
  if (!/^[A-Za-z0-9_.-]+$/.test(j.label)) {
    throw new InvalidArgumentError(f, `label '${j.label}' has characters other than letters, digits, _ . -`);
  }
  if (!j.command.trim()) throw new InvalidArgumentError(f, 'command is empty');
  if (j.memoryMb < 0 || j.memoryMb > LIMITS.maxMemoryMb) {
    throw new InvalidArgumentError(f, `memoryMb ${j.memoryMb} is out of range 0..${LIMITS.maxMemoryMb}`);
  }
  if (j.cores < 0 || j.cores > LIMITS.maxCores) {
    throw new InvalidArgumentError(f, `cores ${j.cores} is out of range 0..${LIMITS.maxCores}`);
  }
}

/** A job's parents: known (per `known`), not itself, not repeated. */
export function validateParents(j: JobSpec, i: number, known: (name: string) => boolean): void {
  const seen = new Set<string>();
  for (const p of j.parents) {
    if (p === j.name) throw new InvalidArgumentError(jobField(i, j), 'is its own parent');
    if (!known(p)) throw new InvalidArgumentError(jobField(i, j), `parent '${p}' does not exist`);
    if (seen.has(p)) throw new InvalidArgumentError(jobField(i, j), `parent '${p}' listed twice`);
    seen.add(p);
  }
}

function topologicalOrder(jobs: JobSpec[], index: Map<string, number>): JobSpec[] {
  const children: number[][] = jobs.map(() => []);
  const missing = jobs.map((j) => j.parents.length);
  jobs.forEach((j, i) => j.parents.forEach((p) => children[index.get(p)!]!.push(i)));
  const order: number[] = [];
  for (let i = 0; i < jobs.length; i++) if (missing[i] === 0) order.push(i);
  for (let k = 0; k < order.length; k++) {
    for (const c of children[order[k]!]!) if (--missing[c]! === 0) order.push(c);
  }
  if (order.length < jobs.length) {
    const cycle = findCycle(jobs, index, missing);
    const first = index.get(cycle[0]!)!;
    throw new InvalidArgumentError(
      jobField(first, jobs[first]!),
      `is in a dependency cycle: ${cycle.join(' -> ')}`,
    );
  }
  return order.map((i) => jobs[i]!);
}

/** Walks parent links among the jobs left over by Kahn's algorithm until one repeats. */
function findCycle(jobs: JobSpec[], index: Map<string, number>, missing: number[]): string[] {
  let at = missing.findIndex((m) => m > 0);
  const path: number[] = [];
  const onPath = new Map<number, number>();
  while (!onPath.has(at)) {
    onPath.set(at, path.length);
    path.push(at);
    const parent = jobs[at]!.parents.map((p) => index.get(p)!).find((p) => missing[p]! > 0);
    at = parent!;
  }
  const cycle = path.slice(onPath.get(at)).reverse();
  return [...cycle, cycle[0]!].map((i) => jobs[i]!.name);
}
