import { ConfigError } from '@panda/platform';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './config.js';

const env = { PANDA_PILOT_QUEUE: 'SLAC_Rubin', PANDA_PILOT_GATEWAY_URL: 'http://127.0.0.1:8080' };

describe('parseCommandLine', () => {
  it('reads PANDA_PILOT_* variables and applies defaults', () => {
    const parsed = parseCommandLine([], {
      ...env,
      PANDA_PILOT_WORK_DIR: '/tmp/pilot',
      PANDA_PILOT_MEMORY_MB: '4000',
    });
    expect(parsed).toEqual({
      help: false,
      options: expect.objectContaining({
        queue: 'SLAC_Rubin',
        gatewayUrl: 'http://127.0.0.1:8080',
        workDir: '/tmp/pilot',
        memoryMb: 4000,
        heartbeatS: 1800,
        maxJobs: 0,
        workerId: '',
        jobFile: '',
        memoryCgroup: '',
        cgroupMemoryGrace: 0,
        busyRetryS: 600,
      }),
    });
  });

  it('lets flags win over variables and resolves the work dir', () => {
    const parsed = parseCommandLine(
      [
        '--queue',
        'Other',
        '--heartbeat-s',
        '60',
        '--max-jobs',
        '2',
        '--work-dir',
        'rel',
        '--worker-id',
        'w-1',
        '--job-file',
        'rel/pandaJobData.json',
        '--memory-cgroup',
        '/sys/fs/cgroup/memory/pilots',
        '--cgroup-memory-grace',
        '3',
      ],
      env,
    );
    if (parsed.help) throw new Error('unexpected help');
    expect(parsed.options.queue).toBe('Other');
    expect(parsed.options.heartbeatS).toBe(60);
    expect(parsed.options.maxJobs).toBe(2);
    expect(parsed.options.workerId).toBe('w-1');
    expect(parsed.options.workDir).toBe(`${process.cwd()}/rel`);
    expect(parsed.options.jobFile).toBe(`${process.cwd()}/rel/pandaJobData.json`);
    expect(parsed.options.memoryCgroup).toBe('/sys/fs/cgroup/memory/pilots');
    expect(parsed.options.cgroupMemoryGrace).toBe(3);
  });

  it('answers help', () => {
    expect(parseCommandLine(['--help'], {})).toEqual({ help: true });
  });

  it('names a missing or bad setting', () => {
    expect(() => parseCommandLine([], {})).toThrow(/PANDA_PILOT_QUEUE/);
    expect(() => parseCommandLine(['--cores', 'many'], env)).toThrow(/PANDA_PILOT_CORES/);
    expect(() => parseCommandLine(['--gateway-url', 'not a url'], env)).toThrow(ConfigError);
  });

  it('refuses unknown flags and positionals', () => {
    expect(() => parseCommandLine(['--bogus', 'x'], env)).toThrow(ConfigError);
    expect(() => parseCommandLine(['extra'], env)).toThrow(ConfigError);
  });
});
