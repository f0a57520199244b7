import { createChannel, createClient, createServer, ServerError, Status } from 'nice-grpc';
import type { Channel, Server } from 'nice-grpc';
import { WorkflowServiceDefinition } from '@panda/proto';
import type { WorkflowServiceClient, WorkflowServiceImplementation } from '@panda/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../errors/cli-error.js';
import { call } from './call.js';
import type { ServiceTarget } from './call.js';

// A real gRPC server on a free port whose handlers fail in the ways idds can.
/** Every method of the service (new RPCs included) answers UNIMPLEMENTED unless listed below. */
const unimplemented = Object.fromEntries(
  Object.keys(WorkflowServiceDefinition.methods).map((name) => [
    name,
    () => {
      throw new ServerError(Status.UNIMPLEMENTED, 'not implemented');
    },
  ]),
) as Record<keyof WorkflowServiceImplementation, () => never>;

const impl: WorkflowServiceImplementation = {
  ...unimplemented,
  submitWorkflow: () => {
    throw new ServerError(Status.INVALID_ARGUMENT, 'jobs[1] (calib): unknown parent "nope"');
  },
  getWorkflow: (req) => {
    throw new ServerError(Status.NOT_FOUND, `workflow ${req.workflowId} not found`);
  },
  listWorkflows: () => {
    throw new ServerError(Status.UNAVAILABLE, 'a dependency is unavailable, retry later');
  },
  getReport: () => {
    throw new ServerError(Status.INTERNAL, 'internal error');
  },
};

let server: Server;
let channel: Channel;
let target: ServiceTarget<WorkflowServiceClient>;
const signal = new AbortController().signal;

async function failure(p: Promise<unknown>): Promise<CliError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CliError);
  return err as CliError;
}

beforeAll(async () => {
  server = createServer();
  server.add(WorkflowServiceDefinition, impl);
  const port = await server.listen('127.0.0.1:0');
  const address = `127.0.0.1:${port}`;
  channel = createChannel(address);
  target = { name: 'idds', address, client: createClient(WorkflowServiceDefinition, channel) };
});

afterAll(async () => {
  channel.close();
  await server.shutdown();
});

describe('call', () => {
  it('maps INVALID_ARGUMENT to exit 2 with the server message', async () => {
    const err = await failure(call(target, { signal }, (c, o) => c.submitWorkflow({}, o)));
    expect(err.exitCode).toBe(ExitCode.Usage);
    expect(err.message).toBe('jobs[1] (calib): unknown parent "nope"');
  });

  it('maps NOT_FOUND to exit 3 with the given message', async () => {
    const err = await failure(
      call(target, { signal, notFound: 'workflow 42 not found' }, (c, o) =>
        c.getWorkflow({ workflowId: 42 }, o),
      ),
    );
    expect(err.exitCode).toBe(ExitCode.NotFound);
    expect(err.message).toBe('workflow 42 not found');
  });

  it('maps UNAVAILABLE from the service to exit 4', async () => {
    const err = await failure(call(target, { signal }, (c, o) => c.listWorkflows({}, o)));
    expect(err.exitCode).toBe(ExitCode.Unavailable);
    expect(err.message).toContain(`idds at ${target.address} is unavailable`);
  });

  it('maps other failures to exit 1', async () => {
    const err = await failure(call(target, { signal }, (c, o) => c.getReport({ workflowId: 1 }, o)));
    expect(err.exitCode).toBe(ExitCode.NotOk);
    expect(err.message).toContain('INTERNAL');
  });

  it('maps a refused connection to exit 4 naming the address', async () => {
    // Bind a port, then free it, so that nothing listens there.
    const probe = createServer();
    const port = await probe.listen('127.0.0.1:0');
    await probe.shutdown();
    const address = `127.0.0.1:${port}`;
    const dead = createChannel(address);
    try {
      const err = await failure(
        call(
          { name: 'idds', address, client: createClient(WorkflowServiceDefinition, dead) },
          { signal },
          (c, o) => c.getWorkflow({ workflowId: 1 }, o),
        ),
      );
      expect(err.exitCode).toBe(ExitCode.Unavailable);
      expect(err.message).toBe(`cannot reach idds at ${address}`);
    } finally {
      dead.close();
    }
  });

  it('maps an aborted call to exit 130', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await failure(
      call(target, { signal: controller.signal }, (c, o) => c.getWorkflow({ workflowId: 1 }, o)),
    );
    expect(err.exitCode).toBe(ExitCode.Interrupted);
  });
});
