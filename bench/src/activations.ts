import { connectBus, createLogger } from '@panda/platform';
import { JobsChanged } from '@panda/proto';

/**
 * When each job's activation was published (`panda.job.activated`, after the activating
 * transaction committed), as this process received it: a job is dispatchable no later than
 * that. Release latency measured to this point cannot be flattered by a long transaction
 * whose `activated_at` is its start.
 */
export interface ActivationWatch {
  /** pandaId -> epoch ms of the first activation event carrying it. */
  seen: Map<number, number>;
  stop(): Promise<void>;
}

export async function watchActivations(natsUrl: string): Promise<ActivationWatch> {
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const bus = await connectBus({ url: natsUrl, name: 'bench-activations', logger });
  const seen = new Map<number, number>();
  const sub = bus.nc.subscribe('panda.job.activated');
  const done = (async () => {
    for await (const msg of sub) {
      const at = Date.now();
      for (const j of JobsChanged.decode(msg.data).jobs) if (!seen.has(j.pandaId)) seen.set(j.pandaId, at);
    }
  })();
  await bus.nc.flush();
  return {
    seen,
    async stop() {
      sub.unsubscribe();
      await done;
      await bus.nc.close();
    },
  };
}
