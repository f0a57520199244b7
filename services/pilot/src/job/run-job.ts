import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@panda/platform';
import type { JobErrorJson, JobMetricsJson, JobUpdate, PilotJob, UpdateReply } from '../gateway/types.js';
import { uploadJobArchive } from '../logs/archive.js';
import type { ArchiveSink } from '../logs/archive.js';
import { LogShipper } from '../logs/shipper.js';
import type { LogSink } from '../logs/shipper.js';
import { metricsOf, MONITOR_OUTPUT_FILE, MONITOR_SUMMARY_FILE } from '../monitor/memory-monitor.js';
import { PayloadCgroup } from '../payload/cgroup.js';
import { payloadDiag, truncateDiag } from '../payload/diag.js';
import { Payload, readTail, STDERR_FILE, STDOUT_FILE } from '../payload/process.js';
import { PilotErrorCodes, signalErrorCode } from './error-codes.js';
import type { KillReason } from './error-codes.js';
import type { JobLimits } from './limits.js';
import { cgroupOomReason, oomKillReason, readOomKills } from './oom.js';
import { JobWatch } from './watch.js';
import { payloadEnvironment } from '../config.js';

/** What runJob needs; the gateway is anything with these calls (tests pass a fake). */
export interface JobContext {
  gateway: { updateJob(update: JobUpdate, signal?: AbortSignal): Promise<UpdateReply> } & Partial<
    LogSink & ArchiveSink
  >;
  logger: Logger;
  /** The pilot's work dir; each job runs in `<workDir>/<pandaId>`. */
  workDir: string;
  node: string;
  workerId: string;
  heartbeatMs: number;
  killGraceMs: number;
  /** Aborted when the pilot must stop; its reason is the signal name (e.g. 'SIGTERM'). */
  stop: AbortSignal;
  /** Where payload output lines go, prefixed (the pilot's stdout). */
  echo?: (line: string) => void;
  /** Limits of this job (memory, walltime, looping, lost heartbeat). */
  limits?: JobLimits;
  monitorIntervalMs?: number;
  checkIntervalMs?: number;
  /** Real-time logging of stdout, stderr and these JSON log files; off when undefined. */
  realtimeLogs?: { files: string[]; pollMs: number };
  /** Upload the log archive at the end (needs `uploadArchive` on the gateway). */
  archive?: boolean;
  /** The pilot's own log file, whose lines about the job go into the archive. */
  pilotLogFile?: string;
  /** Seconds the getJob call took, reported in the metrics. */
  getjobS?: number;
  /**
   * Parent dir under which each payload gets its own memory cgroup (limit `limits.cgroupMemoryKb`,
   * OOM kills counted there); undefined: none.
   */
  memoryCgroup?: string;
}

export interface JobOutcome {
  /** `skipped`: the server refused the job at `starting`, nothing ran. */
  state: 'finished' | 'failed' | 'skipped';
  exitCode: number;
  errorCode: number;
  errorDiag: string;
  metrics?: JobMetricsJson;
  errors?: JobErrorJson[];
}

/** Results meaning the job is no longer this pilot's to run. */
const LOST = new Set(['alreadydone', 'badattemptnr', 'notfound']);

/** Why the server wants the payload stopped, if it does. */
export function serverKillReason(reply: UpdateReply): KillReason | undefined {
  if (reply.commandToPilot === 'tobekilled') {
    return { errorCode: PilotErrorCodes.KILLED_BY_SERVER, diag: 'job killed by the server (tobekilled)' };
  }
  if (LOST.has(reply.result)) {
    return {
      errorCode: PilotErrorCodes.KILLED_BY_SERVER,
      diag: `job no longer held by this pilot (${reply.result})`,
    };
  }
  return undefined;
}

function stopReason(stop: AbortSignal): KillReason {
  const signal = typeof stop.reason === 'string' ? stop.reason : 'SIGTERM';
  return { errorCode: signalErrorCode(signal), diag: `pilot received ${signal}` };
}

const seconds = (ms: number) => Math.round(ms) / 1000;

/**
 * Runs one job: work dir, `starting`, payload under the memory monitor and the limits,
 * `running` at once and then every heartbeat, kill on the server's command, a broken limit or
 * the pilot's stop signal, real-time logs, final `finished` or `failed` with metrics, then the
 * log archive.
 */
export async function runJob(ctx: JobContext, job: PilotJob): Promise<JobOutcome> {
  const log = ctx.logger.child({ pandaId: job.pandaId, attemptNr: job.attemptNr });
  const setupStarted = Date.now();
  let lastUpdateOk = Date.now();
  const update = async (
    state: JobUpdate['state'],
    extra: Partial<JobUpdate> = {},
    signal?: AbortSignal,
  ): Promise<UpdateReply | undefined> => {
    try {
      const reply = await ctx.gateway.updateJob(
        {
          pandaId: job.pandaId,
          state,
          attemptNr: job.attemptNr,
          exitCode: 0,
          errorCode: 0,
          errorDiag: '',
          node: ctx.node,
          workerId: ctx.workerId,
          ...extra,
        },
        signal,
      );
      lastUpdateOk = Date.now();
      if (reply.result !== 'ok') log.warn({ state, reply }, 'server did not accept the update');
      return reply;
    } catch (err) {
      if (signal?.aborted) log.debug({ state }, 'update given up: the job ended');
      else log.error({ err, state }, 'could not report job state');
      return undefined;
    }
  };
  const timings: JobMetricsJson = { getjobS: ctx.getjobS ?? 0 };
  const end = async (outcome: JobOutcome): Promise<JobOutcome> => {
    if (outcome.state === 'skipped') return outcome;
    const { state, exitCode, errorCode, errorDiag, errors } = outcome;
    const metrics = { ...outcome.metrics, ...timings };
    await update(state, { exitCode, errorCode, errorDiag, metrics, ...(errors ? { errors } : {}) });
    log.info({ state, exitCode, errorCode, errorDiag, metrics }, 'job done');
    return { ...outcome, metrics };
  };

  const dir = join(ctx.workDir, String(job.pandaId));
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const errorDiag = truncateDiag(`cannot create work dir ${dir}: ${(err as Error).message}`);
    return end({ state: 'failed', exitCode: -1, errorCode: PilotErrorCodes.SETUP_FAILED, errorDiag });
  }

  const starting = await update('starting');
  if (starting && (starting.result !== 'ok' || serverKillReason(starting))) {
    log.warn({ reply: starting }, 'server refused the job at starting; not running it');
    return end({ state: 'skipped', exitCode: 0, errorCode: 0, errorDiag: '' });
  }
  if (ctx.stop.aborted) {
    const reason = stopReason(ctx.stop);
    return end({ state: 'failed', exitCode: -1, errorCode: reason.errorCode, errorDiag: reason.diag });
  }

  log.info({ dir, command: job.command, limits: ctx.limits }, 'starting payload');
  timings.setupS = seconds(Date.now() - setupStarted);
  const oomBefore = await readOomKills();
  const cgroup = ctx.memoryCgroup
    ? await payloadCgroup(ctx.memoryCgroup, job, ctx.limits?.cgroupMemoryKb, log)
    : undefined;
  const logFiles = ctx.realtimeLogs?.files ?? [];
  const payloadStarted = Date.now();
  const prefix = `[${job.pandaId}`;
  const payload = Payload.start({
    command: job.command,
    cwd: dir,
    env: {
      ...payloadEnvironment(),
      PANDA_JOB_ID: String(job.pandaId),
      PANDA_TASK_ID: String(job.taskId),
      REALTIME_LOGFILES: logFiles.join(','),
    },
    echo: (stream, line) => ctx.echo?.(`${prefix} ${stream}] ${line}`),
    cgroupProcs: cgroup?.procsFile,
  });

  const { postLogs, uploadArchive } = ctx.gateway;
  const shipper =
    ctx.realtimeLogs && postLogs
      ? new LogShipper({
          sink: { postLogs: postLogs.bind(ctx.gateway) },
          logger: log,
          dir,
          files: [
            { name: STDOUT_FILE, source: 'stdout' },
            { name: STDERR_FILE, source: 'stderr' },
            ...logFiles.map((name) => ({ name })),
          ],
          job: { pandaId: job.pandaId, taskId: job.taskId, queue: job.queue },
          workerId: ctx.workerId,
          pollMs: ctx.realtimeLogs.pollMs,
        })
      : undefined;

  let killed: KillReason | undefined;
  const heartbeatStop = new AbortController();
  const kill = (reason: KillReason) => {
    if (killed) return;
    killed = reason;
    log.warn({ errorCode: reason.errorCode, reason: reason.diag }, 'killing payload');
    heartbeatStop.abort();
    void payload.kill(ctx.killGraceMs);
  };
  const onStop = () => kill(stopReason(ctx.stop));
  ctx.stop.addEventListener('abort', onStop, { once: true });

  const watch =
    payload.pid === undefined
      ? undefined
      : new JobWatch({
          pid: payload.pid,
          dir,
          limits: ctx.limits ?? {},
          monitorIntervalMs: ctx.monitorIntervalMs ?? 60_000,
          checkIntervalMs: ctx.checkIntervalMs ?? 60_000,
          lastUpdateOk: () => lastUpdateOk,
          onViolation: kill,
        });

  const heartbeats = (async () => {
    for (;;) {
      const reply = await update('running', {}, heartbeatStop.signal);
      const reason = reply && serverKillReason(reply);
      if (reason) kill(reason);
      if (heartbeatStop.signal.aborted) return;
      await sleep(ctx.heartbeatMs, undefined, { signal: heartbeatStop.signal }).catch(() => undefined);
      if (heartbeatStop.signal.aborted) return;
    }
  })();

  const exit = await payload.exited;
  timings.payloadS = seconds(Date.now() - payloadStarted);
  heartbeatStop.abort();
  await heartbeats;
  ctx.stop.removeEventListener('abort', onStop);
  const summary = await watch?.stop();
  const metrics = summary ? metricsOf(summary) : undefined;
  const shipped = await shipper?.stop();
  if (shipped) log.info(shipped, 'real-time log records sent');

  const outcome = await classify(exit, killed, dir, oomBefore, cgroup);
  await cgroup?.remove().catch((err: unknown) => log.warn({ err: String(err) }, 'memory cgroup left behind'));
  const result = await end({ ...outcome, metrics });
  if (ctx.archive && uploadArchive) {
    const stored = await uploadJobArchive({
      sink: { uploadArchive: uploadArchive.bind(ctx.gateway) },
      logger: log,
      pandaId: job.pandaId,
      dir,
      files: [STDOUT_FILE, STDERR_FILE, MONITOR_OUTPUT_FILE, MONITOR_SUMMARY_FILE, ...logFiles],
      pilotLogFile: ctx.pilotLogFile,
    });
    log.info({ files: stored }, 'log archive uploaded');
  }
  return result;
}

/** The payload's own memory cgroup, or undefined (logged) when it cannot be made. */
async function payloadCgroup(
  parent: string,
  job: PilotJob,
  limitKb: number | undefined,
  log: Logger,
): Promise<PayloadCgroup | undefined> {
  const name = `panda-${job.pandaId}-${job.attemptNr}-${process.pid}`;
  try {
    const cgroup = await PayloadCgroup.create(
      parent,
      name,
      limitKb === undefined ? undefined : limitKb * 1024,
    );
    log.info({ cgroup: cgroup.path, limitBytes: cgroup.limitBytes }, 'payload runs in its memory cgroup');
    return cgroup;
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'payload runs without a memory cgroup');
    return undefined;
  }
}

/**
 * Why a payload that failed on its own ran out of memory, if it did: from its cgroup's OOM
 * count when it had one, else from the node's heuristic.
 */
async function outOfMemory(
  exit: Awaited<Payload['exited']>,
  oomBefore: number | undefined,
  cgroup: PayloadCgroup | undefined,
): Promise<KillReason | undefined> {
  const kills = await cgroup?.oomKills();
  if (cgroup && kills !== undefined)
    return cgroupOomReason(kills, cgroup.limitBytes, await cgroup.peakBytes());
  return oomKillReason(exit, oomBefore, await readOomKills());
}

/** The final state, codes and diagnostic of a payload that has ended. */
async function classify(
  exit: Awaited<Payload['exited']>,
  killed: KillReason | undefined,
  dir: string,
  oomBefore: number | undefined,
  cgroup: PayloadCgroup | undefined,
): Promise<JobOutcome> {
  if (exit.spawnError) {
    const errorDiag = truncateDiag(`cannot start payload: ${exit.spawnError.message}`);
    return { state: 'failed', exitCode: exit.exitCode, errorCode: PilotErrorCodes.PAYLOAD_FAILED, errorDiag };
  }
  if (killed) {
    return {
      state: 'failed',
      exitCode: exit.exitCode,
      errorCode: killed.errorCode,
      errorDiag: truncateDiag(killed.diag),
    };
  }
  if (exit.exitCode === 0) return { state: 'finished', exitCode: 0, errorCode: 0, errorDiag: '' };
  const oom = await outOfMemory(exit, oomBefore, cgroup);
  if (oom) return { state: 'failed', exitCode: exit.exitCode, errorCode: oom.errorCode, errorDiag: oom.diag };
  const fallback = exit.signal
    ? `payload killed by ${exit.signal}`
    : `payload exited with code ${exit.exitCode}`;
  const errorDiag = payloadDiag(
    await readTail(join(dir, STDERR_FILE)),
    await readTail(join(dir, STDOUT_FILE)),
    fallback,
  );
  return { state: 'failed', exitCode: exit.exitCode, errorCode: PilotErrorCodes.PAYLOAD_FAILED, errorDiag };
}
