import type { JobChange, JobError } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../retry/rules.js';
import type { TaskRow } from '../tasks/task-store.js';
import type { InputRow } from './input-row.js';
import { verdict } from './on-job-ended.js';

const change = (state: string, errors: JobError[] = []): JobChange => ({
  pandaId: 1,
  taskId: 1,
  inputId: 1,
  workflowId: 1,
  previousState: 'running',
  state,
  attemptNr: 1,
  exitCode: 0,
  errorCode: 0,
  errorDiag: '',
  queue: 'Q',
  errors,
  memoryMb: 2048,
  walltimeS: 3600,
});
const input = {
  attempt_nr: 1,
  failed_attempts: 0,
  oom_failures: 0,
  base_memory_mb: 2048,
  memory_mb: 2048,
  walltime_s: 0,
} as InputRow;
const task = (state = 'running') =>
  ({ state, max_attempts: 3, memory_multiplier: 2, memory_max_mb: 64_000, walltime_s: 3600 }) as TaskRow;

describe('input verdict when its job ends', () => {
  it('finishes on a finished job', () =>
    expect(verdict(change('finished'), input, task(), DEFAULT_RULES).kind).toBe('finished'));
  it('retries an out-of-memory failure with more memory', () => {
    expect(
      verdict(change('failed', [{ source: 'pilot', code: 1235, diag: '' }]), input, task(), DEFAULT_RULES),
    ).toMatchObject({
      kind: 'retry',
      memoryMb: 4096,
    });
  });
  it('retries a job closed by the system without charging an attempt', () => {
    expect(verdict(change('closed'), input, task(), DEFAULT_RULES)).toMatchObject({
      kind: 'retry',
      failedAttempts: 0,
    });
  });
  it('does not retry a job cancelled by hand, nor in a task that is winding down', () => {
    expect(verdict(change('cancelled'), input, task(), DEFAULT_RULES).kind).toBe('failed');
    expect(verdict(change('failed'), input, task('finishing'), DEFAULT_RULES).kind).toBe('failed');
  });
});
