import { describe, expect, it } from 'vitest';
import { broker } from './broker.js';
import type { JobNeed, QueueInfo } from './broker.js';

const q = (name: string, minrssMb: number, maxrssMb: number, extra: Partial<QueueInfo> = {}): QueueInfo => ({
  name,
  site: 'SLAC',
  status: 'online',
  corecount: 1,
  minrssMb,
  maxrssMb,
  maxtimeS: 172_800,
  running: 0,
  activated: 0,
  ...extra,
});
const SLAC = [
  q('SLAC_Rubin', 0, 4000),
  q('SLAC_Rubin_Medium', 4000, 8000),
  q('SLAC_Rubin_Himem', 8000, 18000),
  q('SLAC_Rubin_merge', 0, 32000, { status: 'brokeroff' }),
  q('OTHER', 0, 64000, { site: 'IN2P3' }),
];
const need = (memoryMb: number, extra: Partial<JobNeed> = {}): JobNeed => ({
  memoryMb,
  cores: 1,
  walltimeS: 3600,
  queue: '',
  site: '',
  ...extra,
});

describe('generic broker', () => {
  it('keeps a pinned queue while the job fits it', () => {
    expect(broker(SLAC, need(2048, { queue: 'SLAC_Rubin' }))).toEqual({ queue: 'SLAC_Rubin' });
  });
  it('moves a boosted job to the queue of the same site whose window fits', () => {
    expect(broker(SLAC, need(6000, { queue: 'SLAC_Rubin' }))).toEqual({ queue: 'SLAC_Rubin_Medium' });
    expect(broker(SLAC, need(12000, { queue: 'SLAC_Rubin' }))).toEqual({ queue: 'SLAC_Rubin_Himem' });
  });
  it('skips queues that are not online unless pinned', () => {
    expect(broker(SLAC, need(20000, { site: 'SLAC' })).queue).toBeUndefined();
    expect(broker(SLAC, need(20000, { queue: 'SLAC_Rubin_merge' }))).toEqual({ queue: 'SLAC_Rubin_merge' });
  });
  it('says why nothing fits', () => {
    const r = broker(SLAC, need(300_000, { site: 'SLAC' }));
    expect(r.queue).toBeUndefined();
    expect(r).toMatchObject({
      reason: expect.stringMatching(/no queue at site SLAC fits: .*SLAC_Rubin takes 0-4000 MB/),
    });
  });
  it('checks cores and walltime', () => {
    expect(broker(SLAC, need(1000, { site: 'SLAC', cores: 4 })).queue).toBeUndefined();
    expect(broker([q('MC', 0, 64000, { corecount: 8 })], need(1000, { cores: 4 }))).toEqual({ queue: 'MC' });
    expect(broker(SLAC, need(1000, { site: 'SLAC', walltimeS: 400_000 })).queue).toBeUndefined();
  });
  it('prefers the queue with more running than queued work', () => {
    const busy = [
      q('A', 0, 4000, { activated: 100, running: 10 }),
      q('B', 0, 4000, { activated: 1, running: 10 }),
    ];
    expect(broker(busy, need(1000))).toEqual({ queue: 'B' });
  });
});
