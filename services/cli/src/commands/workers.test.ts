import type { Worker } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import type { WorkerClient } from '../grpc/services.js';
import { runCli } from '../program.js';
import type { CommandContext } from './context.js';

const worker: Worker = {
  workerId: 'w-1',
  queue: 'SLAC_Rubin_Slurm',
  state: 'running',
  batchId: '42',
  submitter: 'slurm',
  exitCode: 0,
  diag: '',
  submittedAt: new Date('2025-01-01T00:00:00Z'),
  endedAt: undefined,
  errorCode: 0,
  nativeStatus: 'RUNNING',
  cores: 2,
  memoryMb: 4000,
  walltimeS: 86400,
  logUrl: 'file:///scratch/panda/workers/w-1/slurm-42.out',
};

function harness() {
  const out: string[] = [];
  const workers = {
    listWorkers: () => Promise.resolve({ workers: [worker] }),
  } as unknown as WorkerClient;
  const none = () => {
    throw new Error('not used');
  };
  const ctx: CommandContext = {
    services: {
      idds: none,
      jobs: none,
      queues: none,
      tasks: none,
      workers: () => ({ name: 'harvester', address: '127.0.0.1:1', client: workers }),
    },
    output: { out: (l) => out.push(l), err: () => undefined },
    signal: new AbortController().signal,
    sleep: () => Promise.resolve(),
    pollIntervalMs: 0,
  };
  return { out, run: (...args: string[]) => runCli(args, ctx) };
}

describe('panda workers', () => {
  it('keeps the table as it was; --wide adds cores, memory, walltime and the log URL last', async () => {
    const h = harness();
    expect(await h.run('workers')).toBe(0);
    const [header] = h.out.join('\n').split('\n');
    expect(header).toMatch(
      /^WORKER\s+QUEUE\s+STATE\s+SUBMITTER\s+BATCH\s+NATIVE\s+SUBMITTED\s+ENDED\s+EXIT\s+ERROR\s+DIAG$/,
    );
    expect(h.out.join('\n')).not.toContain('file://');

    const w = harness();
    expect(await w.run('workers', '--wide')).toBe(0);
    const [wideHeader, row] = w.out.join('\n').split('\n');
    expect(wideHeader).toMatch(/\s+DIAG\s+CORES\s+MEMORY_MB\s+WALLTIME_S\s+LOG$/);
    expect(row).toMatch(/\s2\s+4000\s+86400\s+file:\/\/\/scratch\/panda\/workers\/w-1\/slurm-42\.out$/);
  });

  it('--json carries every field', async () => {
    const h = harness();
    expect(await h.run('workers', '--json')).toBe(0);
    expect(JSON.parse(h.out.join('\n'))).toEqual({
      workers: [
        {
          ...worker,
          submittedAt: '2025-01-01T00:00:00.000Z',
        },
      ],
    });
  });
});
