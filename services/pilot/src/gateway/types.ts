import { z } from 'zod';

/** The fields of a Job (panda.server.v1.Job as JSON) the pilot uses; others are ignored. */
export const pilotJob = z.object({
  pandaId: z.number().int().positive(),
  attemptNr: z.number().int().min(0),
  command: z.string(),
  name: z.string().default(''),
  queue: z.string().default(''),
  walltimeS: z.number().int().min(0).default(0),
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
}

export const updateJobResponse = z.object({
  /** ok, alreadydone, badattemptnr, notfound or illegal */
  result: z.string(),
  state: z.string().default(''),
  commandToPilot: z.string().default(''),
  message: z.string().default(''),
});
export type UpdateReply = z.infer<typeof updateJobResponse>;
