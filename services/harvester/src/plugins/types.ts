import type { WorkerState } from '../workers/states.js';

/** What a submitter needs to start one worker. */
export interface WorkerSpec {
  workerId: string;
  queue: string;
  cores: number;
  memoryMb: number;
  walltimeS: number;
  /** The queue's harvester params (plugin-specific). */
  params: Record<string, unknown>;
  /** Extra environment for the pilot. */
  env?: Record<string, string>;
  /** This worker's gateway token (the pilot's PANDA_PILOT_TOKEN); absent when none is signed. */
  token?: string;
  /**
   * Push mode: the job harvester acquired for this worker (already `starting` at the server),
   * as camelCase Job JSON; the plugin hands it over (pandaJobData.json + PANDA_PILOT_JOB_FILE).
   */
  job?: PushedJob;
}

/** A job handed to a push worker: its id and the JSON the pilot reads. */
export interface PushedJob {
  pandaId: number;
  json: Record<string, unknown>;
}

export interface SubmitResult {
  /** The batch system's id (a pid for local). */
  batchId: string;
  /** The state the worker is known to be in right after submission (default `submitted`). */
  state?: WorkerState;
  nativeStatus?: string;
  /**
   * The walltime the batch system will hold the worker to (s): what the plugin asked for (Slurm
   * `--time`, the Job's `activeDeadlineSeconds`); 0 = no limit. Default the spec's walltimeS.
   */
  walltimeS?: number;
  /** Where the worker's own log is (`file://<absolute path>` or a Kubernetes API path). */
  logUrl?: string;
}

/** A worker as a plugin sees it. */
export interface WorkerRef {
  workerId: string;
  queue: string;
  batchId: string;
  /** The log URL recorded at submission (SubmitResult.logUrl), when known. */
  logUrl?: string;
}

/** What `check` observed about one worker. */
export interface WorkerStatus {
  workerId: string;
  state: WorkerState;
  exitCode?: number;
  diag?: string;
  nativeStatus: string;
  /** A supervisor error code (e.g. WORKER_OOM_ERROR) when the batch system ended the worker. */
  errorCode?: number;
  /** A more precise log URL learned by looking (Kubernetes: the pod's log once it exists). */
  logUrl?: string;
}

/** Supervisor error 1212 'Worker out of memory' in server's error catalogue (source `sup`). */
export const WORKER_OOM_ERROR = 1212;

/**
 * A batch-system plugin: Harvester's submitter, monitor and sweeper in one
 * (`submit_workers`, `check_workers`, `kill_worker`, `sweep_worker`; reference §1.6).
 */
export interface SubmitterPlugin {
  /** The queue catalogue's `harvester.submitter` value this plugin serves. */
  readonly name: string;
  /** Sweep a worker as soon as its end is recorded (Kubernetes: delete the Job). */
  readonly sweepOnEnd?: boolean;
  /** Can hand a pushed job to a worker (`WorkerSpec.job`); push queues of others are skipped. */
  readonly supportsPush?: boolean;
  /** Starts a worker; throws when the batch system refused it. */
  submit(spec: WorkerSpec, signal?: AbortSignal): Promise<SubmitResult>;
  /** Current status of each worker (one entry per worker passed). */
  check(workers: WorkerRef[], signal?: AbortSignal): Promise<WorkerStatus[]>;
  /** Asks the worker to end; `check` reports it `cancelled` once gone. */
  kill(worker: WorkerRef): Promise<void>;
  /** Removes what the worker left behind (files, batch records). */
  sweep(worker: WorkerRef): Promise<void>;
}
