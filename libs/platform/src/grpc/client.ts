import { createChannel, createClientFactory } from 'nice-grpc';
import type { Channel, Client, CompatServiceDefinition } from 'nice-grpc';
import { deadlineMiddleware } from 'nice-grpc-client-middleware-deadline';

export interface GrpcClientOptions {
  /** Default deadline of every call in ms; a call may pass its own `deadline` and `signal`. */
  deadlineMs?: number;
}

/** One channel per target address; close them all at shutdown. */
export function openChannel(address: string): Channel {
  return createChannel(address, undefined, { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
}

/** A typed client whose calls carry a deadline and accept an AbortSignal. */
export function createGrpcClient<D extends CompatServiceDefinition>(
  definition: D,
  channel: Channel,
  options: GrpcClientOptions = {},
): Client<D> {
  return createClientFactory()
    .use(deadlineMiddleware)
    .create(definition, channel, { '*': { deadline: options.deadlineMs ?? 30_000 } }) as Client<D>;
}
