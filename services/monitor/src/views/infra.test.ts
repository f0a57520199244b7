import { describe, expect, it } from 'vitest';
import { workerFromRow } from '../db/infra.js';
import type { WorkerJson } from '../db/infra.js';
import { formatWalltime, logHint, renderWorker, renderWorkers } from './infra.js';

const worker = (over: Partial<WorkerJson>): WorkerJson => ({
  workerId: 'w-1',
  queue: 'SLAC_Rubin',
  state: 'running',
  submitter: 'slurm',
  batchId: '42',
  cores: 2,
  memoryMb: 4000,
  walltimeS: 86400,
  logUrl: 'file:///scratch/panda/workers/w-1/slurm-42.out',
  submittedAt: '2025-01-01T00:00:00.000Z',
  startedAt: null,
  endedAt: null,
  stateChangedAt: null,
  exitCode: null,
  diag: '',
  nativeStatus: 'RUNNING',
  ...over,
});

const podLog = '/api/v1/namespaces/panda-workers/pods/panda-w-2-x7k2p/log';
const pods = '/api/v1/namespaces/panda-workers/pods?labelSelector=panda%2Fworker%3Dw-3';

describe('workers pages: walltime and log', () => {
  it.each([
    [0, 'none'],
    [59, '00:00:59'],
    [7200, '02:00:00'],
    [86400, '1-00:00:00'],
    [95430, '1-02:30:30'],
  ])('walltime %s s is %s', (s, text) => expect(formatWalltime(s)).toBe(text));

  it('lists each worker with its walltime and its log URL as text, not as a link', () => {
    const page = renderWorkers(
      [
        worker({}),
        worker({ workerId: 'w-2', submitter: 'kubernetes', logUrl: podLog, walltimeS: 7200 }),
        worker({ workerId: 'w-3', submitter: 'local', logUrl: '', walltimeS: 0 }),
      ],
      { limit: 100 },
      null,
      '/workers?json',
    );
    expect(page).toContain('<th>walltime</th>');
    expect(page).toContain('<th>log</th>');
    expect(page).toContain('<td>1-00:00:00</td>');
    expect(page).toContain('<td>02:00:00</td>');
    expect(page).toContain('<td>none</td>');
    expect(page).toContain('<code class="log">file:///scratch/panda/workers/w-1/slurm-42.out</code>');
    expect(page).toContain(`<code class="log">${podLog}</code>`);
    expect(page).not.toContain('href="file:');
    expect(page).not.toContain(`href="${podLog}"`);
  });

  it("shows a worker's walltime in seconds too, its log, and how to read it", () => {
    const slurm = renderWorker(worker({}), [], '/workers/w-1?json');
    expect(slurm).toContain('<dt>walltime</dt>');
    expect(slurm).toContain('1-00:00:00 (86400 s)');
    expect(slurm).toContain('<code class="log">file:///scratch/panda/workers/w-1/slurm-42.out</code>');
    expect(slurm).toContain('a file on harvester&#39;s host or the batch nodes&#39; shared file system');

    const k8s = renderWorker(worker({ logUrl: pods, walltimeS: 0 }), [], '/workers/w-3?json');
    expect(k8s).toMatch(/<dt>walltime<\/dt>\s*<dd>none<\/dd>/);
    // (the selector's `%2F`/`%3D` are the URL's; the page escapes nothing else in it)
    expect(k8s).toContain(`<code class="log">${pods}</code>`);
    expect(k8s).toContain('kubectl -n panda-workers logs -l panda/worker=w-3');
  });

  it('escapes a log URL', () => {
    const page = renderWorker(worker({ logUrl: 'file:///x/<b>.out' }), [], '/w?json');
    expect(page).toContain('file:///x/&lt;b&gt;.out');
    expect(page).not.toContain('<b>.out');
  });

  it.each([
    ['file:///a/b.log', "a file on harvester's host or the batch nodes' shared file system"],
    [podLog, 'kubectl -n panda-workers logs panda-w-2-x7k2p'],
    [pods, 'kubectl -n panda-workers logs -l panda/worker=w-3 (pod not seen yet)'],
    ['', undefined],
    ['https://elsewhere/log', undefined],
  ])('log hint for %j', (url, hint) => expect(logHint(url)).toBe(hint));
});

describe('workers JSON', () => {
  it('carries walltimeS and logUrl from the row; a row from before they existed gives 0 and empty', () => {
    const row = {
      worker_id: 'w-1',
      queue: 'Q',
      state: 'finished',
      submitter: 'local',
      batch_id: '123',
      cores: 1,
      memory_mb: 2000,
      submitted_at: new Date('2025-01-01T00:00:00Z'),
      exit_code: 0,
      diag: '',
      native_status: 'exited 0',
    };
    expect(workerFromRow({ ...row, walltime_s: 3600, log_url: 'file:///w/pilot.log' })).toMatchObject({
      workerId: 'w-1',
      cores: 1,
      memoryMb: 2000,
      walltimeS: 3600,
      logUrl: 'file:///w/pilot.log',
      submittedAt: '2025-01-01T00:00:00.000Z',
    });
    expect(workerFromRow(row)).toMatchObject({ walltimeS: 0, logUrl: '' });
  });
});
