import type { PilotOptions } from '../config.js';

/**
 * Pilot options for tests: the given gateway and work dir, one core and 4000 MB offered, no job
 * limit, a 60 s heartbeat and monitoring interval, no cgroup; `over` sets the rest per case.
 */
export function testOptions(
  gatewayUrl: string,
  workDir: string,
  over: Partial<PilotOptions> = {},
): PilotOptions {
  return {
    logLevel: 'info',
    shutdownTimeoutMs: 10_000,
    healthHost: '127.0.0.1',
    healthPort: 0,
    queue: 'SLAC_Rubin',
    gatewayUrl,
    workerId: 'w-1',
    workDir,
    heartbeatS: 60,
    memoryMb: 4000,
    cores: 1,
    walltimeS: 0,
    maxJobs: 0,
    killGraceS: 1,
    memoryGrace: 2,
    memoryCgroup: '',
    cgroupMemoryGrace: 0,
    busyRetryS: 600,
    monitorIntervalS: 60,
    checkIntervalS: 60,
    walltimeGracePct: 0,
    loopingLimitS: 7200,
    lostHeartbeatS: 10800,
    realtimeLogs: true,
    logFiles: 'payload-log.json',
    logPollMs: 100,
    token: '',
    waitS: 0,
    idleS: 0,
    jobFile: '',
    ...over,
  };
}
