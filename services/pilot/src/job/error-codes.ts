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
  /** Failed to execute payload (non-zero exit). */
  PAYLOAD_FAILED: 1305,
} as const;

/** The error code for a pilot stopped by `signal`. */
export function signalErrorCode(signal: string): number {
  if (signal === 'SIGTERM') return PilotErrorCodes.SIGTERM;
  if (signal === 'SIGINT') return PilotErrorCodes.SIGINT;
  return PilotErrorCodes.KILL_SIGNAL;
}
