/** What brokerage knows of a queue: catalogue limits plus current load. */
export interface QueueInfo {
  name: string;
  site: string;
  status: string;
  corecount: number;
  minrssMb: number;
  maxrssMb: number;
  maxtimeS: number;
  running: number;
  activated: number;
}

/** What one job needs. `queue` pins it (pre-assigned); `site` narrows the candidates. */
export interface JobNeed {
  memoryMb: number;
  cores: number;
  walltimeS: number;
  queue: string;
  site: string;
}

export type BrokerResult = { queue: string } | { queue: undefined; reason: string };

/** Why a queue is refused for a need, or undefined when it fits (the generic broker's checks). */
export function refusal(q: QueueInfo, need: JobNeed, preassigned: boolean): string | undefined {
  if (!preassigned && q.status !== 'online') return `${q.name} is ${q.status}`;
  if (need.cores <= 1) {
    if (![0, 1, -1].includes(q.corecount)) return `${q.name} runs ${q.corecount}-core jobs only`;
  } else if (![0, -1].includes(q.corecount) && q.corecount < need.cores) {
    return `${q.name} has ${q.corecount} cores, job needs ${need.cores}`;
  }
  if (need.memoryMb > q.maxrssMb || need.memoryMb < q.minrssMb) {
    return `${q.name} takes ${q.minrssMb}-${q.maxrssMb} MB, job needs ${need.memoryMb} MB`;
  }
  if (need.walltimeS > q.maxtimeS) return `${q.name} allows ${q.maxtimeS} s, job needs ${need.walltimeS} s`;
  return undefined;
}

/** Generic broker weight: more running than queued work is better. */
export const weight = (q: QueueInfo): number => (q.running + 1) / (q.activated + 1);

/**
 * Chooses a queue. A pinned queue is taken when the job fits it (its status is not checked,
 * as for a pre-assigned site); otherwise, e.g. after a memory boost, the online queues of the
 * same site are brokered. Without a pin, the online queues of the site (or all) are brokered.
 * Highest weight wins, ties go to the lower memory window, then the name.
 */
export function broker(queues: readonly QueueInfo[], need: JobNeed): BrokerResult {
  const pinned = need.queue ? queues.find((q) => q.name === need.queue) : undefined;
  if (need.queue && !pinned)
    return { queue: undefined, reason: `queue ${need.queue} is not in the catalogue` };
  if (pinned && !refusal(pinned, need, true)) return { queue: pinned.name };
  const site = pinned?.site || need.site;
  const candidates = queues.filter((q) => !site || q.site === site);
  const reasons: string[] = [];
  const passed: QueueInfo[] = [];
  for (const q of candidates) {
    const why = refusal(q, need, false);
    if (why) reasons.push(why);
    else passed.push(q);
  }
  if (passed.length === 0) {
    const where = site ? `at site ${site}` : 'in the catalogue';
    return { queue: undefined, reason: `no queue ${where} fits: ${reasons.join('; ') || 'no queues'}` };
  }
  passed.sort((a, b) => weight(b) - weight(a) || a.maxrssMb - b.maxrssMb || a.name.localeCompare(b.name));
  return { queue: passed[0]!.name };
}
