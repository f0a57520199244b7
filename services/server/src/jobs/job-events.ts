import { JobsChanged } from '@panda/proto';
import type { JobChange } from '@panda/proto';
import type { OutgoingEvent } from '@panda/platform';

/** One `panda.job.<state>` message per target state, carrying every job that moved there. */
export function jobEvents(changes: JobChange[], at = new Date()): OutgoingEvent[] {
  const byState = new Map<string, JobChange[]>();
  for (const c of changes) {
    const list = byState.get(c.state) ?? [];
    list.push(c);
    byState.set(c.state, list);
  }
  return [...byState].map(([state, jobs]) => ({
    subject: `panda.job.${state}`,
    payload: JobsChanged.encode({ state, jobs, at }).finish(),
  }));
}
