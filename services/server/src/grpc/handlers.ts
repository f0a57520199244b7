import { InvalidArgumentError, NotFoundError } from '@panda/platform';
import type {
  DispatchServiceImplementation,
  JobServiceImplementation,
  NewJob,
  QueueServiceImplementation,
} from '@panda/proto';
import { ERROR_CATALOGUE } from '../errors/catalogue.js';
import type { GateActivator } from '../jobs/gate-activation.js';
import type { JobCommands } from '../jobs/job-commands.js';
import type { JobQueries } from '../jobs/job-queries.js';
import type { JobStore } from '../jobs/job-store.js';
import type { QueueCatalogue } from '../queues/catalogue.js';
import { toProtoQueue } from '../queues/catalogue.js';

const MAX_BATCH = 10_000;

function checkNewJob(j: NewJob, i: number, catalogue: QueueCatalogue): void {
  const field = `jobs[${i}]`;
  if (!j.name) throw new InvalidArgumentError(`${field}.name`, 'is empty');
  if (!j.command) throw new InvalidArgumentError(`${field}.command`, `job ${j.name}: command is empty`);
  if (!catalogue.get(j.queue)) throw new InvalidArgumentError(`${field}.queue`, `unknown queue '${j.queue}'`);
  if (j.attemptNr < 1) throw new InvalidArgumentError(`${field}.attemptNr`, 'must be >= 1');
  if (j.memoryMb < 0 || j.cores < 0 || j.walltimeS < 0) {
    throw new InvalidArgumentError(field, `job ${j.name}: memory, cores and walltime must not be negative`);
  }
  if (j.gateNodeId < 0) throw new InvalidArgumentError(`${field}.gateNodeId`, 'must not be negative');
}

export function jobService(
  store: JobStore,
  gates: GateActivator,
  commands: JobCommands,
  queries: JobQueries,
  catalogue: QueueCatalogue,
): JobServiceImplementation {
  return {
    async insertJobs(req) {
      if (req.jobs.length > MAX_BATCH)
        throw new InvalidArgumentError('jobs', `at most ${MAX_BATCH} per call`);
      req.jobs.forEach((j, i) => checkNewJob(j, i, catalogue));
      return { jobs: await store.insertJobs(req.jobs) };
    },
    async getJob(req) {
      return queries.get(req.pandaId);
    },
    async listJobs(req) {
      return { jobs: await queries.list(req) };
    },
    async countJobs(req) {
      const [counts, exitCodes] = await Promise.all([
        queries.countByTaskAndState(req.taskIds),
        queries.exitCodesByTask(req.taskIds),
      ]);
      return { counts, exitCodes };
    },
    async errorCatalogue(req) {
      return { codes: ERROR_CATALOGUE.filter((e) => !req.source || e.source === req.source) };
    },
    async killJobs(req) {
      if (!req.taskId && req.pandaIds.length === 0) {
        throw new InvalidArgumentError('pandaIds', 'give job ids or a task id');
      }
      return { jobs: await commands.kill(req) };
    },
    async reassignJobs(req) {
      return { jobs: await commands.reassign(req.pandaIds) };
    },
    async pauseJobs(req) {
      return { changed: await commands.throttle(req.taskId, true) };
    },
    async resumeJobs(req) {
      return { changed: await commands.throttle(req.taskId, false) };
    },
    async setJobsPriority(req) {
      return { changed: await commands.setPriority(req.taskId, req.priority) };
    },
    async activateJobs(req) {
      if (req.taskId <= 0) throw new InvalidArgumentError('taskId', 'must be > 0');
      if (req.gateNodeId <= 0) throw new InvalidArgumentError('gateNodeId', 'must be > 0');
      return { changed: await gates.open(req.taskId, req.gateNodeId, req.held) };
    },
  };
}

export function dispatchService(store: JobStore, catalogue: QueueCatalogue): DispatchServiceImplementation {
  return {
    async acquireJobs(req) {
      const queue = catalogue.get(req.queue);
      if (!queue) throw new NotFoundError('queue', req.queue);
      if (queue.status === 'offline' || queue.status === 'paused') return { jobs: [] };
      return { jobs: await store.acquire(req) };
    },
    async updateJobs(req) {
      if (req.updates.length > MAX_BATCH)
        throw new InvalidArgumentError('updates', `at most ${MAX_BATCH} per call`);
      return { results: await store.update(req.updates) };
    },
  };
}

export function queueService(queries: JobQueries, catalogue: QueueCatalogue): QueueServiceImplementation {
  return {
    async listQueues() {
      return { queues: catalogue.list().map(toProtoQueue) };
    },
    async getQueue(req) {
      const queue = catalogue.get(req.name);
      if (!queue) throw new NotFoundError('queue', req.name);
      return toProtoQueue(queue);
    },
    async queueStats(req) {
      const names = req.queues.length ? req.queues : catalogue.list().map((q) => q.name);
      const stats = await queries.queueStats(names);
      return {
        stats: names.map((queue) => {
          const s = stats.get(queue) ?? {};
          return {
            queue,
            activated: s.activated ?? 0,
            sent: s.sent ?? 0,
            starting: s.starting ?? 0,
            running: s.running ?? 0,
            throttled: s.throttled ?? 0,
            holding: s.holding ?? 0,
          };
        }),
      };
    },
  };
}
