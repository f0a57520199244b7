import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@panda/platform';
import type { JobUpdate, PilotJob, UpdateReply } from '../gateway/types.js';
import { payloadDiag, truncateDiag } from '../payload/diag.js';
import { Payload, readTail, STDERR_FILE, STDOUT_FILE } from '../payload/process.js';
import { PilotErrorCodes, signalErrorCode } from './error-codes.js';

/** What runJob needs; the gateway is anything with `updateJob` (tests pass a fake). */
export interface JobContext {
  gateway: { updateJob(update: JobUpdate): Promise<UpdateReply> };
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
}

export interface JobOutcome {
  /** `skipped`: the server refused the job at `starting`, nothing ran. */
  state: 'finished' | 'failed' | 'skipped';
  exitCode: number;
  errorCode: number;
  errorDiag: string;
}

interface KillReason {
  errorCode: number;
  diag: string;
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

/**
 * Runs one job: work dir, `starting`, payload, `running` at once and then every heartbeat,
 * kill on the server's command or the pilot's stop signal, final `finished` or `failed`.
 */
export async function runJob(ctx: JobContext, job: PilotJob): Promise<JobOutcome> {
  const log = ctx.logger.child({ pandaId: job.pandaId, attemptNr: job.attemptNr });
  const update = async (
    state: JobUpdate['state'],
    extra: Partial<JobUpdate> = {},
  ): Promise<UpdateReply | undefined> => {
    try {
      const reply = await ctx.gateway.updateJob({
        pandaId: job.pandaId,
        state,
        attemptNr: job.attemptNr,
        exitCode: 0,
        errorCode: 0,
        errorDiag: '',
        node: ctx.node,
        workerId: ctx.workerId,
        ...extra,
      });
      if (reply.result !== 'ok') log.warn({ state, reply }, 'server did not accept the update');
      return reply;
    } catch (err) {
      log.error({ err, state }, 'could not report job state');
      return undefined;
    }
  };
  const end = async (outcome: JobOutcome): Promise<JobOutcome> => {
    if (outcome.state !== 'skipped') {
      const { state, exitCode, errorCode, errorDiag } = outcome;
      await update(state, { exitCode, errorCode, errorDiag });
      log.info({ state, exitCode, errorCode, errorDiag }, 'job done');
    }
    return outcome;
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

  log.info({ dir, command: job.command }, 'starting payload');
  const prefix = `[${job.pandaId}`;
  const payload = Payload.start({
    command: job.command,
    cwd: dir,
    echo: (stream, line) => ctx.echo?.(`${prefix} ${stream}] ${line}`),
  });

  let killed: KillReason | undefined;
  const heartbeatStop = new AbortController();
  const kill = (reason: KillReason) => {
    if (killed) return;
    killed = reason;
    log.warn({ reason: reason.diag }, 'killing payload');
    heartbeatStop.abort();
    void payload.kill(ctx.killGraceMs);
  };
  const onStop = () => kill(stopReason(ctx.stop));
  ctx.stop.addEventListener('abort', onStop, { once: true });

  const heartbeats = (async () => {
    for (;;) {
      const reply = await update('running');
      const reason = reply && serverKillReason(reply);
      if (reason) kill(reason);
      if (heartbeatStop.signal.aborted) return;
      await sleep(ctx.heartbeatMs, undefined, { signal: heartbeatStop.signal }).catch(() => undefined);
      if (heartbeatStop.signal.aborted) return;
    }
  })();

  const exit = await payload.exited;
  heartbeatStop.abort();
  await heartbeats;
  ctx.stop.removeEventListener('abort', onStop);

  if (exit.spawnError) {
    const errorDiag = truncateDiag(`cannot start payload: ${exit.spawnError.message}`);
    return end({
      state: 'failed',
      exitCode: exit.exitCode,
      errorCode: PilotErrorCodes.PAYLOAD_FAILED,
      errorDiag,
    });
  }
  // Read through a local: `killed` is set in callbacks, which narrowing does not see.
  const killReason = killed as KillReason | undefined;
  if (killReason) {
    return end({
      state: 'failed',
      exitCode: exit.exitCode,
      errorCode: killReason.errorCode,
      errorDiag: killReason.diag,
    });
  }
  if (exit.exitCode === 0) return end({ state: 'finished', exitCode: 0, errorCode: 0, errorDiag: '' });
  const fallback = exit.signal
    ? `payload killed by ${exit.signal}`
    : `payload exited with code ${exit.exitCode}`;
  const errorDiag = payloadDiag(
    await readTail(join(dir, STDERR_FILE)),
    await readTail(join(dir, STDOUT_FILE)),
    fallback,
  );
  return end({
    state: 'failed',
    exitCode: exit.exitCode,
    errorCode: PilotErrorCodes.PAYLOAD_FAILED,
    errorDiag,
  });
}
