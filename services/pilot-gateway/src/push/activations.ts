import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '@panda/platform';
import { JobsChanged } from '@panda/proto';
import type { QueueWaiters } from './waiters.js';

/** server's event for jobs that became `activated` (inserted or re-activated). */
export const ACTIVATED_SUBJECT = 'panda.job.activated';

/**
 * Wakes waiting pilots as soon as jobs are activated on their queue: a core NATS
 * subscription on `panda.job.activated` (JetStream publishes reach core subscribers too; a
 * missed message only costs the fallback poll).
 */
export function subscribeActivations(
  nc: NatsConnection,
  waiters: QueueWaiters,
  logger: Logger,
  subject = ACTIVATED_SUBJECT,
): Subscription {
  return nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) {
        logger.warn({ err }, 'activation subscription error');
        return;
      }
      let event: JobsChanged;
      try {
        event = JobsChanged.decode(msg.data);
      } catch (e) {
        logger.warn({ err: e }, 'undecodable activation event');
        return;
      }
      const perQueue = new Map<string, number>();
      for (const job of event.jobs) perQueue.set(job.queue, (perQueue.get(job.queue) ?? 0) + 1);
      for (const [queue, n] of perQueue) {
        const woken = waiters.wake(queue, n);
        if (woken > 0) logger.debug({ queue, jobs: n, woken }, 'woke waiting pilots');
      }
    },
  });
}
