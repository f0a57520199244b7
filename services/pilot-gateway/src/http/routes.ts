import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Job } from '@panda/proto';
import type { z } from 'zod';
import type { QueueWaiters } from '../push/waiters.js';
import type { DispatchClient } from './app.js';
import { httpFailureOf } from './grpc-errors.js';
import { describeIssue, getJobBody, getJobsBody, updateJobBody, updateJobsBody } from './schemas.js';
import type { GetJobBody } from './schemas.js';

/** A Job as JSON: camelCase, timestamps as ISO strings or null. */
export function jobToJson(job: Job): Record<string, unknown> {
  const iso = (d: Date | undefined) => (d ? d.toISOString() : null);
  return {
    ...job,
    createdAt: iso(job.createdAt),
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

function sendFailure(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const failure = httpFailureOf(err);
  if (failure.log) request.log.warn({ err, status: failure.status }, 'server call failed');
  return reply.code(failure.status).send({ error: failure.error });
}

export interface PilotRoutesOptions {
  dispatch: DispatchClient;
  /** Push mode: held getJob calls, woken by activations. Without it `waitS` is ignored. */
  waiters?: QueueWaiters;
  /** A held getJob asks the server again this often even without an announcement. */
  fallbackPollMs: number;
  auth: preHandlerAsyncHookHandler;
}

/**
 * One job for the pilot, or null. With `waitS` (push mode) the call is held: the waiter is
 * registered first, then the server asked; with no job it sleeps until a job is activated on
 * its queue (or the fallback poll), and asks again, until `waitS` is over.
 */
async function acquireOne(
  o: PilotRoutesOptions,
  body: GetJobBody,
  signal: AbortSignal,
): Promise<Job | undefined> {
  const { waitS, ...request } = body;
  const ask = async () => (await o.dispatch.acquireJobs({ ...request, nJobs: 1 }, { signal })).jobs[0];
  if (!o.waiters || waitS <= 0) return ask();
  const deadline = Date.now() + waitS * 1000;
  const ticket = o.waiters.enter(body.queue);
  try {
    for (;;) {
      const job = await ask();
      const left = deadline - Date.now();
      if (job || left <= 0 || signal.aborted || o.waiters.closed) return job;
      await ticket.wait(Math.min(left, o.fallbackPollMs), signal);
      if (signal.aborted) return undefined;
    }
  } finally {
    ticket.leave();
  }
}

/** `POST /pilot/v1/getJob` and `POST /pilot/v1/updateJob`, forwarded to DispatchService. */
export function registerPilotRoutes(app: FastifyInstance, o: PilotRoutesOptions): void {
  const { dispatch } = o;
  app.post('/pilot/v1/getJob', { preHandler: o.auth }, async (request, reply) => {
    const body = parseBody(getJobBody, request, reply);
    if (!body) return reply;
    try {
      const job = await acquireOne(o, body, clientGoneSignal(reply));
      return { job: job ? jobToJson(job) : null };
    } catch (err) {
      return sendFailure(err, request, reply);
    }
  });

  app.post('/pilot/v1/updateJob', { preHandler: o.auth }, async (request, reply) => {
    const body = parseBody(updateJobBody, request, reply);
    if (!body) return reply;
    try {
      const response = await dispatch.updateJobs({ updates: [body] }, { signal: clientGoneSignal(reply) });
      const result = response.results[0];
      if (!result) {
        request.log.error({ pandaId: body.pandaId }, 'server returned no result for an update');
        return reply.code(500).send({ error: 'internal error' });
      }
      return {
        result: result.result,
        state: result.state,
        commandToPilot: result.commandToPilot,
        message: result.message,
      };
    } catch (err) {
      return sendFailure(err, request, reply);
    }
  });

  app.post('/pilot/v1/getJobs', { preHandler: o.auth }, async (request, reply) => {
    const body = parseBody(getJobsBody, request, reply);
    if (!body) return reply;
    try {
      const { jobs } = await dispatch.acquireJobs(body, { signal: clientGoneSignal(reply) });
      return { jobs: jobs.map(jobToJson) };
    } catch (err) {
      return sendFailure(err, request, reply);
    }
  });

  app.post('/pilot/v1/updateJobs', { preHandler: o.auth }, async (request, reply) => {
    const body = parseBody(updateJobsBody, request, reply);
    if (!body) return reply;
    try {
      const updates = body.updates.map((u) => ({ ...u, workerId: u.workerId || body.workerId }));
      const { results } = await dispatch.updateJobs({ updates }, { signal: clientGoneSignal(reply) });
      return { results };
    } catch (err) {
      return sendFailure(err, request, reply);
    }
  });
}
