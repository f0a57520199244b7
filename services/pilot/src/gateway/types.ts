import { z } from 'zod';
import type { LogRecordJson } from '../logs/records.js';

/** The fields of a Job (panda.server.v1.Job as JSON) the pilot uses; others are ignored. */
export const pilotJob = z.object({
  pandaId: z.number().int().positive(),
  taskId: z.number().int().min(0).default(0),
  attemptNr: z.number().int().min(0),
  command: z.string(),
  name: z.string().default(''),
  queue: z.string().default(''),
  walltimeS: z.number().int().min(0).default(0),
  memoryMb: z.number().int().min(0).default(0),
  cores: z.number().int().min(0).default(0),
});
export type PilotJob = z.infer<typeof pilotJob>;

export const getJobResponse = z.object({ job: pilotJob.nullable() });

export interface GetJobRequest {
  queue: string;
  node: string;
  memoryMb: number;
  cores: number;
  remainingWalltimeS: number;
  workerId: string;
  /** Push mode: seconds the gateway may hold the request until a job comes (0: answer at once). */
  waitS?: number;
}

export type ReportedState = 'starting' | 'running' | 'finished' | 'failed';

export interface JobUpdate {
  pandaId: number;
  state: ReportedState;
  attemptNr: number;
  exitCode: number;
  errorCode: number;
  errorDiag: string;
  node: string;
  workerId: string;
  /** Further error pairs (source exe, sup, ...), final update only. */
  errors?: JobErrorJson[];
  /** What the pilot measured (panda.server.v1.JobMetrics), final update only. */
  metrics?: JobMetricsJson;
}

export interface JobErrorJson {
  source: string;
  code: number;
  diag: string;
}

/** panda.server.v1.JobMetrics as JSON: memory in kB, times in seconds. */
export interface JobMetricsJson {
  maxPssKb?: number;
  avgPssKb?: number;
  maxRssKb?: number;
  avgRssKb?: number;
  maxVmemKb?: number;
  avgVmemKb?: number;
  maxSwapKb?: number;
  avgSwapKb?: number;
  cpuTimeS?: number;
  maxProcesses?: number;
  maxThreads?: number;
  getjobS?: number;
  setupS?: number;
  payloadS?: number;
}

export const updateJobResponse = z.object({
  /** ok, alreadydone, badattemptnr, notfound or illegal */
  result: z.string(),
  state: z.string().default(''),
  commandToPilot: z.string().default(''),
  message: z.string().default(''),
});
export type UpdateReply = z.infer<typeof updateJobResponse>;

export const logsResponse = z.object({ accepted: z.number().int() });

/** Body of `POST /logs/v1/records`: records of one job. */
export interface LogBatchJson {
  pandaId: number;
  taskId: number;
  queue: string;
  workerId: string;
  records: LogRecordJson[];
  /** The job's last batch: readers following the job stop after it. */
  final: boolean;
}
