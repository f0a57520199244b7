/**
 * The shape of the data `./dev bench monitor` loads: 20 Rubin-like workflows of 15 labels each
 * (300 tasks), their DAG nodes, task inputs and exactly `jobs` jobs. Pure arithmetic, no SQL:
 * monitor-load.ts turns a plan into rows with generate_series.
 */

export interface LabelSpec {
  name: string;
  /** Indexes of parent labels (earlier in the list: the list is in topological order). */
  parents: number[];
  /** Relative number of nodes (pipetaskInit always has one). */
  weight: number;
  /** Queue override (memory-hungry labels); otherwise the workflow's queue. */
  queue?: string;
  memoryMb: number;
  /** Typical max PSS and run time, for metrics. */
  pssMb: number;
  durationS: number;
}

export const LABELS: readonly LabelSpec[] = [
  { name: 'pipetaskInit', parents: [], weight: 0, memoryMb: 2000, pssMb: 600, durationS: 120 },
  { name: 'isr', parents: [0], weight: 20, memoryMb: 2000, pssMb: 1100, durationS: 90 },
  { name: 'characterizeImage', parents: [1], weight: 20, memoryMb: 2000, pssMb: 1400, durationS: 160 },
  { name: 'calibrate', parents: [2], weight: 20, memoryMb: 2000, pssMb: 1700, durationS: 140 },
  { name: 'transformPreSourceTable', parents: [3], weight: 20, memoryMb: 2000, pssMb: 500, durationS: 25 },
  {
    name: 'consolidatePreSourceTable',
    parents: [4],
    weight: 0.12,
    memoryMb: 4000,
    pssMb: 2600,
    durationS: 80,
  },
  { name: 'consolidateVisitSummary', parents: [5], weight: 0.12, memoryMb: 4000, pssMb: 900, durationS: 40 },
  { name: 'makeWarp', parents: [3], weight: 5, memoryMb: 3000, pssMb: 2400, durationS: 300 },
  {
    name: 'assembleCoadd',
    parents: [7],
    weight: 1,
    queue: 'SLAC_Rubin_Medium',
    memoryMb: 6000,
    pssMb: 5200,
    durationS: 900,
  },
  { name: 'detection', parents: [8], weight: 1, memoryMb: 3000, pssMb: 1900, durationS: 120 },
  { name: 'mergeDetections', parents: [9], weight: 0.2, memoryMb: 3000, pssMb: 1500, durationS: 60 },
  {
    name: 'deblend',
    parents: [10],
    weight: 0.2,
    queue: 'SLAC_Rubin_Himem',
    memoryMb: 12000,
    pssMb: 9800,
    durationS: 1500,
  },
  {
    name: 'measure',
    parents: [11],
    weight: 1,
    queue: 'SLAC_Rubin_Medium',
    memoryMb: 6000,
    pssMb: 4100,
    durationS: 700,
  },
  { name: 'forcedPhotCcd', parents: [3, 12], weight: 20, memoryMb: 2000, pssMb: 1300, durationS: 110 },
  { name: 'analyzeObjectTable', parents: [12], weight: 0.2, memoryMb: 4000, pssMb: 3300, durationS: 200 },
];

export const USERS = ['jchiang', 'mgower', 'yanny', 'hchiang2', 'lsstsvc1'] as const;
export const CAMPAIGNS = ['DRP-RC2', 'DRP-DC2', 'HSC-PDR2'] as const;
export const WORKFLOW_QUEUES = ['SLAC_Rubin', 'SLAC_Rubin', 'SLAC_Rubin_Slurm', 'SLAC_Rubin_K8s'] as const;
export const SUBMITTER_OF: Record<string, string> = {
  SLAC_Rubin_Slurm: 'slurm',
  SLAC_Rubin_K8s: 'kubernetes',
};

export type WorkflowState = 'Finished' | 'SubFinished' | 'Failed' | 'Cancelled' | 'Transforming';

export interface PlanWorkflow {
  workflowId: number;
  name: string;
  user: string;
  campaign: string;
  queue: string;
  state: WorkflowState;
  /** Hours before the load that the workflow was created, and how long its jobs span. */
  createdHoursAgo: number;
  spanHours: number;
  /** panda_id of its first job and its number of jobs (panda ids are contiguous per workflow). */
  firstPandaId: number;
  jobs: number;
}

/** What happens to a task's nodes. */
export interface PlanTask {
  taskId: number;
  workflowId: number;
  labelIx: number;
  label: string;
  queue: string;
  memoryMb: number;
  /** First node id (= input id); the task's nodes are [nodeFirst, nodeFirst + nodes). */
  nodeFirst: number;
  nodes: number;
  /** The first `withJobs` nodes have jobs; the rest are unreleased (running workflow) or pruned. */
  withJobs: number;
  /** The last `active` of those have their last attempt still in the system (or cancelled). */
  active: number;
  jobs: number;
  /** Inputs with 3 and with 2 attempts, spread over the task by `mult` (coprime with withJobs). */
  n3: number;
  n2: number;
  mult: number;
  /** Per mille of single-attempt inputs that failed for good (non-retryable errors). */
  failPermille: number;
  /** Parent tasks (same workflow) for edges. */
  parentTaskIds: number[];
}

export interface Plan {
  workflows: PlanWorkflow[];
  tasks: PlanTask[];
  jobs: number;
  nodes: number;
}

/** Deterministic pseudo-random numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Rounds `values` to integers summing to `total` (largest remainder). */
export function apportion(values: readonly number[], total: number): number[] {
  const sum = values.reduce((s, v) => s + v, 0);
  if (sum <= 0) return values.map(() => 0);
  const exact = values.map((v) => (v * total) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((s, v) => s + v, 0);
  const order = exact.map((v, i) => [v - Math.floor(v), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i]! += 1;
    left -= 1;
  }
  return out;
}

/** Mean attempts per input: 1.0 + 8 % twice + 2 % three times (about 1.12, as in production). */
const ATTEMPTS_PER_INPUT = 1.12;

const STATES: readonly WorkflowState[] = [
  ...Array<WorkflowState>(13).fill('Finished'),
  'SubFinished',
  'SubFinished',
  'Failed',
  'Cancelled',
  'Transforming',
  'Transforming',
  'Transforming',
];

/** How much of each label has run, by workflow state: 1 everything, 0 nothing (pruned/unreleased). */
function ranFraction(state: WorkflowState, labelIx: number, w: number): number {
  switch (state) {
    case 'Finished':
      return 1;
    case 'SubFinished':
      return labelIx >= 9 ? 0.97 : 1; // a few coadd patches failed: their descendants pruned
    case 'Failed':
      return labelIx <= 8 ? 1 : 0; // assembleCoadd failed massively
    case 'Cancelled':
      return labelIx < 13 ? 1 : labelIx === 13 ? 0.7 : 0; // cancelled during forcedPhotCcd
    case 'Transforming': {
      const frontier = 3 + ((w * 5) % 10); // a label somewhere in the middle of the pipeline
      return labelIx < frontier ? 1 : labelIx === frontier ? 0.7 : 0;
    }
  }
}

/** The plan for `jobs` jobs (at least a few hundred). */
export function makePlan(jobs: number, seed = 7): Plan {
  const rnd = mulberry32(seed);
  const nWorkflows = STATES.length;
  const sizes = STATES.map(() => 0.4 + 1.2 * rnd());
  interface Raw {
    w: number;
    l: number;
    nominal: number;
    ran: number;
  }
  const raw: Raw[] = [];
  for (let w = 0; w < nWorkflows; w++) {
    for (let l = 0; l < LABELS.length; l++) {
      raw.push({ w, l, nominal: sizes[w]! * LABELS[l]!.weight, ran: ranFraction(STATES[w]!, l, w + 1) });
    }
  }
  // pipetaskInit: one node, one job, in every workflow; the rest is shared out by weight.
  const initJobs = nWorkflows;
  const shares = raw.map((r) => (r.l === 0 ? 0 : r.nominal * r.ran * ATTEMPTS_PER_INPUT));
  const jobCounts = apportion(shares, Math.max(0, jobs - initJobs));
  const scale = jobCounts.reduce((s, v) => s + v, 0) / shares.reduce((s, v) => s + v, 0);

  const tasks: PlanTask[] = [];
  let nodeFirst = 1;
  raw.forEach((r, i) => {
    const spec = LABELS[r.l]!;
    const state = STATES[r.w]!;
    const taskJobs = r.l === 0 ? 1 : jobCounts[i]!;
    const withJobs =
      taskJobs === 0 ? 0 : Math.max(Math.ceil(taskJobs / 3), Math.round(taskJobs / ATTEMPTS_PER_INPUT));
    const nominalNodes = r.l === 0 ? 1 : Math.round((r.nominal * scale) / ATTEMPTS_PER_INPUT);
    const nodes = r.ran >= 1 ? withJobs : Math.max(withJobs + 1, nominalNodes);
    const extra = taskJobs - withJobs;
    const n3 = Math.min(Math.floor(extra * 0.1), Math.floor(withJobs / 4));
    const n2 = extra - 2 * n3;
    let mult = 7919;
    while (withJobs > 0 && gcd(mult, withJobs) !== 1) mult += 2;
    const running = state === 'Transforming' || state === 'Cancelled';
    const active = running && r.ran > 0 && r.ran < 1 ? Math.round(withJobs * 0.15) : 0;
    const workflowQueue = WORKFLOW_QUEUES[r.w % WORKFLOW_QUEUES.length]!;
    tasks.push({
      taskId: i + 1,
      workflowId: r.w + 1,
      labelIx: r.l,
      label: spec.name,
      queue: spec.queue && workflowQueue === 'SLAC_Rubin' ? spec.queue : workflowQueue,
      memoryMb: spec.memoryMb,
      nodeFirst,
      nodes,
      withJobs,
      active,
      jobs: taskJobs,
      n3,
      n2,
      mult,
      failPermille: state === 'Failed' && r.l === 8 ? 600 : 4,
      parentTaskIds: spec.parents.map((p) => r.w * LABELS.length + p + 1),
    });
    nodeFirst += nodes;
  });

  const workflows: PlanWorkflow[] = [];
  let firstPandaId = 1;
  for (let w = 0; w < nWorkflows; w++) {
    const wfJobs = tasks.filter((t) => t.workflowId === w + 1).reduce((s, t) => s + t.jobs, 0);
    const state = STATES[w]!;
    // One workflow every ~36 h over the last month; the running ones are the newest.
    const createdHoursAgo = (nWorkflows - w) * 36 - 12 * rnd();
    workflows.push({
      workflowId: w + 1,
      name: `u_${USERS[w % USERS.length]}_${CAMPAIGNS[w % CAMPAIGNS.length]}_w_2024_${String(10 + w).padStart(2, '0')}_PREOPS-${4000 + 37 * w}`,
      user: USERS[w % USERS.length]!,
      campaign: CAMPAIGNS[w % CAMPAIGNS.length]!,
      queue: WORKFLOW_QUEUES[w % WORKFLOW_QUEUES.length]!,
      state,
      createdHoursAgo,
      spanHours: state === 'Transforming' ? createdHoursAgo - 0.1 : Math.min(30, createdHoursAgo - 0.1),
      firstPandaId,
      jobs: wfJobs,
    });
    firstPandaId += wfJobs;
  }
  return { workflows, tasks, jobs: firstPandaId - 1, nodes: nodeFirst - 1 };
}
