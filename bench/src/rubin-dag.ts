import type { JobSpec, SubmitWorkflowChunk, WorkflowSpec } from '@panda/proto';

/**
 * A Rubin DRP step-1 shaped DAG of exactly `nodes` nodes, made in memory batch by batch:
 * pipetaskInit -> per visit x detector isr -> characterizeImage -> calibrate ->
 * writePreSourceTable -> per visit transformPreSourceTable (parents: the visit's
 * writePreSourceTable) -> the final job. Payloads are `true` (the bench's pilots do not run
 * them anyway). Names are `<label>_<visit>_<detector>` and `transformPreSourceTable_<visit>`.
 */

const CHAIN = ['isr', 'characterizeImage', 'calibrate', 'writePreSourceTable'] as const;
const FIRST_VISIT = 2025061500101;

export interface RubinDag {
  /** Every node, with pipetaskInit and the final job. */
  nodes: number;
  /** Detectors of each visit (LSSTCam has 189; spread evenly to hit `nodes` exactly). */
  detectorsPerVisit: number[];
  name: string;
  finalJobName: string;
}

/**
 * Plans V visits of d_v detectors with 2 + sum(4 d_v + 1) = nodes: V is the fewest visits
 * of at most `maxDetectors` detectors, raised until (nodes - 2 - V) is a multiple of 4.
 */
export function planRubinDag(nodes: number, maxDetectors = 189, name = 'bench-dag'): RubinDag {
  if (!Number.isInteger(nodes) || nodes < 7)
    throw new Error(`a Rubin DAG needs at least 7 nodes, not ${nodes}`);
  const quanta = nodes - 2; // without pipetaskInit and the final job
  let visits = Math.max(1, Math.ceil(quanta / (4 * maxDetectors + 1)));
  while ((quanta - visits) % 4 !== 0) visits++;
  const detectors = (quanta - visits) / 4;
  if (detectors < visits) throw new Error(`cannot shape ${nodes} nodes as a Rubin DAG`);
  const detectorsPerVisit = Array.from(
    { length: visits },
    (_, v) => Math.floor(detectors / visits) + (v < detectors % visits ? 1 : 0),
  );
  return { nodes, detectorsPerVisit, name, finalJobName: `${name}_finalJob` };
}

const visitOf = (v: number) => FIRST_VISIT + v;

/** The parents of a node, from its name alone (the final job waits for every visit). */
export function parentsOf(dag: RubinDag, name: string): string[] {
  if (name === 'pipetaskInit') return [];
  if (name === dag.finalJobName)
    return dag.detectorsPerVisit.map((_, v) => `transformPreSourceTable_${visitOf(v)}`);
  const [label, visit, detector] = name.split('_');
  if (label === 'transformPreSourceTable') {
    const v = Number(visit) - FIRST_VISIT;
    return Array.from(
      { length: dag.detectorsPerVisit[v] ?? 0 },
      (_, d) => `writePreSourceTable_${visit}_${d}`,
    );
  }
  const step = CHAIN.indexOf(label as (typeof CHAIN)[number]);
  if (step < 0) throw new Error(`not a node of this DAG: ${name}`);
  return step === 0 ? ['pipetaskInit'] : [`${CHAIN[step - 1]}_${visit}_${detector}`];
}

const spec = (name: string, label: string, parents: string[]): JobSpec => ({
  name,
  label,
  command: 'true',
  parents,
  memoryMb: 0,
  cores: 0,
});

/** The workflow header (no jobs): one queue, one attempt, label defaults, a final job ALWAYS. */
export function rubinHeader(dag: RubinDag, queue: string): WorkflowSpec {
  const labels = Object.fromEntries(
    ['pipetaskInit', ...CHAIN, 'transformPreSourceTable'].map((l) => [
      l,
      {
        memoryMb: 2048,
        cores: 1,
        walltimeS: 0,
        queue: '',
        site: '',
        maxAttempts: 0,
        memoryMultiplier: 0,
        memoryMaxMb: 0,
        priority: 0,
        environment: {},
      },
    ]),
  );
  return {
    name: dag.name,
    campaign: 'bench',
    user: 'bench',
    queue,
    site: '',
    maxAttempts: 1,
    memoryMultiplier: 0,
    memoryMaxMb: 0,
    maxJobsPerTask: 0,
    priority: 0,
    labels,
    finalJob: { command: 'true', whenRun: 'ALWAYS', memoryMb: 0, cores: 0, queue: '', environment: {} },
    jobs: [],
  };
}

/** The header, then the jobs in batches of `batch`, parents first (memory: one batch). */
export async function* rubinChunks(
  dag: RubinDag,
  queue: string,
  batch = 5000,
): AsyncGenerator<SubmitWorkflowChunk> {
  yield { header: rubinHeader(dag, queue), jobs: [] };
  let jobs: JobSpec[] = [spec('pipetaskInit', 'pipetaskInit', [])];
  const flush = function* () {
    if (jobs.length >= batch) {
      yield { header: undefined, jobs };
      jobs = [];
    }
  };
  for (const [v, detectors] of dag.detectorsPerVisit.entries()) {
    const visit = visitOf(v);
    for (let d = 0; d < detectors; d++) {
      let parent = 'pipetaskInit';
      for (const label of CHAIN) {
        const name = `${label}_${visit}_${d}`;
        jobs.push(spec(name, label, [parent]));
        parent = name;
        yield* flush();
      }
    }
    const name = `transformPreSourceTable_${visit}`;
    jobs.push(spec(name, 'transformPreSourceTable', parentsOf(dag, name)));
    yield* flush();
  }
  if (jobs.length > 0) yield { header: undefined, jobs };
}
