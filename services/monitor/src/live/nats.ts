import { closeBus, connectBus } from '@panda/platform';
import type { Logger } from '@panda/platform';
import { eventKeys } from './keys.js';
import type { LiveHub } from './hub.js';

/**
 * Core NATS subscription on `panda.>` (the PANDA stream's subjects): no consumer state, nothing
 * to acknowledge; a monitor that was down simply starts from now. Returns the closer.
 */
export async function startLiveFeed(url: string, hub: LiveHub, logger: Logger): Promise<() => Promise<void>> {
  const bus = await connectBus({ url, name: 'monitor', logger });
  const sub = bus.nc.subscribe('panda.>');
  const loop = (async () => {
    for await (const msg of sub) hub.publish(eventKeys(msg.subject, msg.data));
  })().catch((err: unknown) => logger.warn({ err }, 'live feed stopped'));
  return async () => {
    sub.unsubscribe();
    await loop;
    await closeBus(bus);
  };
}
