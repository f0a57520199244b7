/** Pilot error codes, as in pilot3's `pilot/common/errorcodes.py`. */
export const PilotErrorCodes = {
  /** Failed during payload setup (work dir could not be made). */
  SETUP_FAILED: 1110,
  /** Killed by the PanDA server. */
  KILLED_BY_SERVER: 1144,
  /** Unknown kill signal. */
  KILL_SIGNAL: 1200,
  SIGTERM: 1201,
  SIGINT: 1208,
  /** Looping job killed by the pilot (no file changed in the work dir for the looping limit). */
  LOOPING: 1150,
  /** Payload ran out of memory (killed by the kernel's OOM killer). */
  OUT_OF_MEMORY: 1212,
  /** Reached the job's time limit. */
  WALLTIME: 1213,
  /** Payload exceeded the maximum allowed memory (killed by the pilot). */
  MEMORY_EXCEEDED: 1235,
  /** Failed to execute payload (non-zero exit). */
  PAYLOAD_FAILED: 1305,
  /** Exceeded max wait time: no heartbeat succeeded for the lost-heartbeat limit. */
  LOST_HEARTBEAT: 1317,
} as const;

/** The error code for a pilot stopped by `signal`. */
export function signalErrorCode(signal: string): number {
  if (signal === 'SIGTERM') return PilotErrorCodes.SIGTERM;
  if (signal === 'SIGINT') return PilotErrorCodes.SIGINT;
  return PilotErrorCodes.KILL_SIGNAL;
}

/** Why the pilot stops a payload: the error code and diagnostic it reports. */
export interface KillReason {
  errorCode: number;
  diag: string;
}
