import type { DispatchServiceClient } from '@panda/proto';

/** The part of server's DispatchService the gateway calls (tests pass a fake). */
export type DispatchClient = Pick<DispatchServiceClient, 'acquireJobs' | 'updateJobs'>;

/** One pilot update as the gRPC client takes it. */
export type PilotUpdate = NonNullable<Parameters<DispatchClient['updateJobs']>[0]['updates']>[number];
