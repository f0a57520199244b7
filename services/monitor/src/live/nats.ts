import type { Bus, Logger } from '@panda/platform';
import { eventKeys } from './keys.js';
import type { LiveHub } from './hub.js';

/**
 * Core NATS subscription on `panda.>` (the PANDA stream's subjects): no consumer state, nothing
 * to acknowledge; a monitor that was down simply starts from now. Returns the closer (the bus
 * itself is the caller's).
 */
export function startLiveFeed(bus: Bus, hub: LiveHub, logger: Logger): () => Promise<void> {
  const sub = bus.nc.subscribe('panda.>');
  const loop = (async () => {
    for await (const msg of sub) hub.publish(eventKeys(msg.subject, msg.data));
  })().catch((err: unknown) => logger.warn({ err }, 'live feed stopped'));
  return async () => {
    sub.unsubscribe();
    await loop;
  };
}
