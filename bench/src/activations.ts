import { connectBus, createLogger } from '@panda/platform';
import { GateOpened, JobsChanged } from '@panda/proto';

/**
 * When each job became dispatchable, as this process received the news: the first
 * `panda.job.activated` event carrying it, or for a staged job, the server's
 * `panda.gate.activated` for its task and gate if that came first (from that commit on, pilots
 * get the jobs behind the gate). Both are published after their transaction committed, so a
 * latency measured to them cannot be flattered by a long transaction whose `activated_at` is
 * its start.
 */
export interface ActivationWatch {
  /** Epoch ms at which the job was known dispatchable, if it was seen at all. */
  at(job: { pandaId: number; taskId: number; gateNodeId: number }): number | undefined;
  stop(): Promise<void>;
}

export async function watchActivations(natsUrl: string): Promise<ActivationWatch> {
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const bus = await connectBus({ url: natsUrl, name: 'bench-activations', logger });
  const jobs = new Map<number, number>();
  const gates = new Map<string, number>();
  const jobSub = bus.nc.subscribe('panda.job.activated');
  const gateSub = bus.nc.subscribe('panda.gate.activated');
  const done = Promise.all([
    (async () => {
      for await (const msg of jobSub) {
        const at = Date.now();
        for (const j of JobsChanged.decode(msg.data).jobs) if (!jobs.has(j.pandaId)) jobs.set(j.pandaId, at);
      }
    })(),
    (async () => {
      for await (const msg of gateSub) {
        const at = Date.now();
        const gate = GateOpened.decode(msg.data);
        for (const t of gate.taskIds) gates.set(`${t}:${gate.gateNodeId}`, at);
      }
    })(),
  ]);
  await bus.nc.flush();
  return {
    at(job) {
      const direct = jobs.get(job.pandaId);
      const gated = job.gateNodeId > 0 ? gates.get(`${job.taskId}:${job.gateNodeId}`) : undefined;
      if (direct === undefined) return gated;
      return gated === undefined ? direct : Math.min(direct, gated);
    },
    async stop() {
      jobSub.unsubscribe();
      gateSub.unsubscribe();
      await done;
      await bus.nc.close();
    },
  };
}
