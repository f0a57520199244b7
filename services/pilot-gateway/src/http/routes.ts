import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Job } from '@panda/proto';
import type { z } from 'zod';
import { OverloadedError } from '../dispatch/limiter.js';
import type { CallLimiter } from '../dispatch/limiter.js';
import type { DispatchClient } from '../dispatch/types.js';
import type { UpdateBatcher } from '../dispatch/update-batcher.js';
import type { QueueWaiters } from '../push/waiters.js';
import { httpFailureOf } from './grpc-errors.js';
import { describeIssue, getJobBody, getJobsBody, updateJobBody, updateJobsBody } from './schemas.js';
import type { GetJobBody } from './schemas.js';

/** A Job as JSON: camelCase, timestamps as ISO strings or null. */
export function jobToJson(job: Job): Record<string, unknown> {
  const iso = (d: Date | undefined) => (d ? d.toISOString() : null);
  return {
    ...job,
    createdAt: iso(job.createdAt),
    activatedAt: iso(job.activatedAt),
    stateChangedAt: iso(job.stateChangedAt),
    startTime: iso(job.startTime),
    endTime: iso(job.endTime),
  };
}

function parseBody<S extends z.ZodType>(
  schema: S,
  request: FastifyRequest,
  reply: FastifyReply,
): z.infer<S> | undefined {
  const parsed = schema.safeParse(request.body ?? {});
  if (parsed.success) return parsed.data;
  void reply.code(400).send({ error: describeIssue(parsed.error) });
  return undefined;
}

/**
 * Aborted when the pilot goes away before the answer was sent, so the gRPC call is
 * cancelled too. (Fastify's `request.signal` also fires once the body has been read, on
 * the request's 'close', which would cancel every call.)
 */
export function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const res = reply.raw;
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client went away'));
  });
  return controller.signal;
}

export interface PilotRoutesOptions {
  dispatch: DispatchClient;
  /** Every call to the server goes through it (back-pressure). */
  limiter: CallLimiter;
  /** Single updates are coalesced into UpdateJobs batches. */
  updates: UpdateBatcher;
  /** Told the route of each request refused because the gateway is overloaded. */
  onRejected?: (route: string) => void;
  /** Push mode: held getJob calls, woken by activations. Without it `waitS` is ignored. */
  waiters?: QueueWaiters;
  /** A held getJob asks the server again this often even without an announcement. */
  fallbackPollMs: number;
  auth: preHandlerAsyncHookHandler;
}

function sendFailure(
  o: PilotRoutesOptions,
  err: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logged = false,
): FastifyReply {
  const failure = httpFailureOf(err);
  if (failure.log && !logged) request.log.warn({ err, status: failure.status }, 'server call failed');
  if (err instanceof OverloadedError) o.onRejected?.(request.routeOptions.url ?? request.url);
  if (failure.retryAfterS !== undefined) void reply.header('retry-after', String(failure.retryAfterS));
  return reply.code(failure.status).send({
    error: failure.error,
    ...(failure.retryAfterS !== undefined ? { retryAfterS: failure.retryAfterS } : {}),
  });
}

/**
 * One job for the pilot, or null. With `waitS` (push mode) the call is held: the waiter is
 * registered first, then the server asked; with no job it sleeps until a job is activated on
 * its queue (or the fallback poll), and asks again, until `waitS` is over. Each ask goes
 * through the limiter; a held call that finds the gateway overloaded on a later ask keeps
 * waiting instead of failing.
 */
async function acquireOne(
  o: PilotRoutesOptions,
  body: GetJobBody,
  signal: AbortSignal,
): Promise<Job | undefined> {
  const { waitS, ...request } = body;
  const ask = async () =>
    o.limiter.run(
      async () => (await o.dispatch.acquireJobs({ ...request, nJobs: 1 }, { signal })).jobs[0],
      signal,
    );
  if (!o.waiters || waitS <= 0) return ask();
  const deadline = Date.now() + waitS * 1000;
  const ticket = o.waiters.enter(body.queue);
  let first = true;
  try {
    for (;;) {
      let job: Job | undefined;
      try {
        job = await ask();
      } catch (err) {
        if (first || !(err instanceof OverloadedError)) throw err;
        o.onRejected?.('held getJob');
      }
      first = false;
      const left = deadline - Date.now();
      if (job || left <= 0 || signal.aborted || o.waiters.closed) return job;
      await ticket.wait(Math.min(left, o.fallbackPollMs), signal);
      if (signal.aborted) return undefined;
    }
  } finally {
    ticket.leave();
  }
}

/**
 * `POST /pilot/v1/getJob`, `updateJob`, `getJobs` and `updateJobs`, forwarded to
 * DispatchService through the limiter (single updates through the batcher).
 */
export function registerPilotRoutes(app: FastifyInstance, o: PilotRoutesOptions): void {
  const { dispatch, limiter } = o;
  app.post('/pilot/v1/getJob', { preHandler: o.auth }, async (request, reply) => {
    const body = parseBody(getJobBody, request, reply);
    if (!body) return reply;
    try {
      const job = await acquireOne(o, body, clientGoneSignal(reply));
      return { job: job ? jobToJson(job) : null };
    } catch (err) {
      return sendFailure(o, err, request, reply);
    }
  });

  app.post('/pilot/v1/updateJob', { preHandler: o.auth }, async (request, reply) => {
    const body = parseBody(updateJobBody, request, reply);
    if (!body) return reply;
    try {
      const result = await o.updates.submit(body, clientGoneSignal(reply));
      return {
        result: result.result,
        state: result.state,
        commandToPilot: result.commandToPilot,
        message: result.message,
      };
    } catch (err) {
      // A failed batch was logged once by the batcher, not once per pilot.
      return sendFailure(o, err, request, reply, true);
    }
  });

  app.post('/pilot/v1/getJobs', { preHandler: o.auth }, async (request, reply) => {
    const body = parseBody(getJobsBody, request, reply);
    if (!body) return reply;
    try {
      const signal = clientGoneSignal(reply);
      const { jobs } = await limiter.run(() => dispatch.acquireJobs(body, { signal }), signal);
      return { jobs: jobs.map(jobToJson) };
    } catch (err) {
      return sendFailure(o, err, request, reply);
    }
  });

  app.post('/pilot/v1/updateJobs', { preHandler: o.auth }, async (request, reply) => {
    const body = parseBody(updateJobsBody, request, reply);
    if (!body) return reply;
    try {
      const updates = body.updates.map((u) => ({ ...u, workerId: u.workerId || body.workerId }));
      const signal = clientGoneSignal(reply);
      const { results } = await limiter.run(() => dispatch.updateJobs({ updates }, { signal }), signal);
      return { results };
    } catch (err) {
      return sendFailure(o, err, request, reply);
    }
  });
}
