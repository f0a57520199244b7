import { createGrpcClient, envNameOf, openChannel } from '@panda/platform';
import { WorkflowServiceDefinition } from '@panda/proto';
import type { WorkflowServiceClient } from '@panda/proto';
import type { Channel } from 'nice-grpc';
import { usageError } from '../errors/cli-error.js';
import type { ServiceTarget } from './call.js';

/** The part of idds's WorkflowService the CLI uses (tests pass fakes of it). */
export type WorkflowClient = Pick<WorkflowServiceClient, 'submitWorkflow' | 'getWorkflow' | 'getReport'>;

/** The services commands talk to; each is resolved only when a command needs it. */
export interface Services {
  idds(): ServiceTarget<WorkflowClient>;
}

export interface GrpcServicesOptions {
  iddsAddr: string | undefined;
  /** Deadline of every call in ms. */
  deadlineMs: number;
}

/** Real gRPC clients; channels are opened on first use and closed by `close`. */
export class GrpcServices implements Services {
  private readonly channels: Channel[] = [];
  private iddsTarget: ServiceTarget<WorkflowClient> | undefined;

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
