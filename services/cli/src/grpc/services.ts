import { createGrpcClient, envNameOf, openChannel } from '@panda/platform';
import {
  JobServiceDefinition,
  QueueServiceDefinition,
  TaskServiceDefinition,
  WorkerServiceDefinition,
  WorkflowServiceDefinition,
} from '@panda/proto';
import type {
  JobServiceClient,
  QueueServiceClient,
  TaskServiceClient,
  WorkerServiceClient,
  WorkflowServiceClient,
} from '@panda/proto';
import type { Channel } from 'nice-grpc';
import { usageError } from '../errors/cli-error.js';
import type { ServiceTarget } from './call.js';

/** The part of idds's WorkflowService the CLI uses (tests pass fakes of it). */
export type WorkflowClient = Pick<
  WorkflowServiceClient,
  | 'submitWorkflow'
  | 'submitWorkflowStream'
  | 'getWorkflow'
  | 'getReport'
  | 'cancelWorkflow'
  | 'restartWorkflow'
>;

export type JobClient = Pick<JobServiceClient, 'getJob' | 'listJobs' | 'countJobs' | 'errorCatalogue'>;
export type QueueClient = Pick<QueueServiceClient, 'listQueues' | 'queueStats'>;
export type TaskClient = Pick<TaskServiceClient, 'getTask' | 'listTasks'>;
export type WorkerClient = Pick<WorkerServiceClient, 'listWorkers' | 'getQueueLimits'>;

/** The services commands talk to; each is resolved only when a command needs it. */
export interface Services {
  idds(): ServiceTarget<WorkflowClient>;
  jobs(): ServiceTarget<JobClient>;
  queues(): ServiceTarget<QueueClient>;
  tasks(): ServiceTarget<TaskClient>;
  workers(): ServiceTarget<WorkerClient>;
}

export interface GrpcServicesOptions {
  iddsAddr: string | undefined;
  serverAddr?: string | undefined;
  jediAddr?: string | undefined;
  harvesterAddr?: string | undefined;
  /** Deadline of every call in ms. */
  deadlineMs: number;
}

/** Real gRPC clients; channels are opened on first use and closed by `close`. */
export class GrpcServices implements Services {
  private readonly channels: Channel[] = [];
  private iddsTarget: ServiceTarget<WorkflowClient> | undefined;
  private readonly targets = new Map<string, ServiceTarget<unknown>>();

  constructor(private readonly options: GrpcServicesOptions) {}

  idds(): ServiceTarget<WorkflowClient> {
    if (!this.iddsTarget) {
      const address = required('iddsAddr', this.options.iddsAddr, 'idds');
      const channel = this.open(address);
      this.iddsTarget = {
        name: 'idds',
        address,
        client: createGrpcClient(WorkflowServiceDefinition, channel, { deadlineMs: this.options.deadlineMs }),
      };
    }
    return this.iddsTarget;
  }

  jobs(): ServiceTarget<JobClient> {
    return this.target('server', 'serverAddr', this.options.serverAddr, (ch, o) =>
      createGrpcClient(JobServiceDefinition, ch, o),
    );
  }

  queues(): ServiceTarget<QueueClient> {
    return this.target(
      'server',
      'serverAddr',
      this.options.serverAddr,
      (ch, o) => createGrpcClient(QueueServiceDefinition, ch, o),
      'queues',
    );
  }

  tasks(): ServiceTarget<TaskClient> {
    return this.target('jedi', 'jediAddr', this.options.jediAddr, (ch, o) =>
      createGrpcClient(TaskServiceDefinition, ch, o),
    );
  }

  workers(): ServiceTarget<WorkerClient> {
    return this.target('harvester', 'harvesterAddr', this.options.harvesterAddr, (ch, o) =>
      createGrpcClient(WorkerServiceDefinition, ch, o),
    );
  }

  private target<C>(
    name: string,
    key: string,
    address: string | undefined,
    make: (channel: Channel, options: { deadlineMs: number }) => C,
    variant = '',
  ): ServiceTarget<C> {
    const id = `${name}/${variant}`;
    let t = this.targets.get(id) as ServiceTarget<C> | undefined;
    if (!t) {
      const addr = required(key, address, name);
      t = { name, address: addr, client: make(this.open(addr), { deadlineMs: this.options.deadlineMs }) };
      this.targets.set(id, t);
    }
    return t;
  }

  /** Closes every opened channel; safe to call twice. */
  close(): void {
    for (const channel of this.channels.splice(0)) channel.close();
  }

  private open(address: string): Channel {
    const channel = openChannel(address);
    this.channels.push(channel);
    return channel;
  }
}

function required(key: string, value: string | undefined, service: string): string {
  if (!value) throw usageError(`${envNameOf(key)} is not set: give the host:port of ${service}`);
  return value;
}
