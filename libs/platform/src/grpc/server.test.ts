import { TaskServiceDefinition } from '@panda/proto';
import type { TaskServiceImplementation } from '@panda/proto';
import { Status } from 'nice-grpc';
import type { ClientError } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '../errors/errors.js';
import { createLogger } from '../logging/logger.js';
import { createGrpcClient, openChannel } from './client.js';
import { createGrpcServer, listenGrpc } from './server.js';

const logger = createLogger({ service: 'test', level: 'silent' });

const unused = () => Promise.reject(new Error('not used in this test'));

describe('gRPC error mapping', () => {
  const server = createGrpcServer(logger);
  const impl: TaskServiceImplementation = {
    // Every method not under test refuses; the three below are what this test calls.
    ...(Object.fromEntries(
      Object.keys(TaskServiceDefinition.methods).map((m) => [m, unused]),
    ) as unknown as TaskServiceImplementation),
    async createTasks() {
      throw new InvalidArgumentError('tasks[0].name', 'is empty');
    },
    async getTask(req) {
      throw new NotFoundError('task', req.taskId);
    },
    async listTasks() {
      throw new Error('password=hunter2 at db.internal:5432');
    },
  };
  server.add(TaskServiceDefinition, impl);
  let client: ReturnType<typeof createGrpcClient<typeof TaskServiceDefinition>>;
  let channel: ReturnType<typeof openChannel>;

  beforeAll(async () => {
    const port = await listenGrpc(server, '127.0.0.1', 0);
    channel = openChannel(`127.0.0.1:${port}`);
    client = createGrpcClient(TaskServiceDefinition, channel, { deadlineMs: 5000 });
  });
  afterAll(async () => {
    channel.close();
    await server.shutdown();
  });

  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return err as ClientError;
    }
    throw new Error('expected a failure');
  };

  it('keeps the status and message of typed errors', async () => {
    const e1 = await failure(client.createTasks({ workflowId: 1, workflowName: 'w', tasks: [] }));
    expect(e1.code).toBe(Status.INVALID_ARGUMENT);
    expect(e1.details).toBe('tasks[0].name: is empty');
    const e2 = await failure(client.getTask({ taskId: 42 }));
    expect(e2.code).toBe(Status.NOT_FOUND);
    expect(e2.details).toBe('task 42 not found');
  });

  it('turns anything else into INTERNAL without leaking it', async () => {
    const e = await failure(client.listTasks({ workflowId: 1 }));
    expect(e.code).toBe(Status.INTERNAL);
    expect(e.details).toBe('internal error');
  });

  it('honours an AbortSignal from the caller', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(client.getTask({ taskId: 1 }, { signal: ac.signal })).rejects.toThrow(/abort/i);
  });
});
