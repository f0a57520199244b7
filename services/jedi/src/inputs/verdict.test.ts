import type { JobChange } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import { verdict } from './on-job-ended.js';

const change = (state: string, attemptNr: number): JobChange => ({
  pandaId: 1,
  taskId: 1,
  inputId: 1,
  workflowId: 1,
  previousState: 'running',
  state,
  attemptNr,
  exitCode: 0,
  errorCode: 0,
  errorDiag: '',
  queue: 'Q',
});

describe('input verdict when its job ends', () => {
  it('finishes on a finished job', () => expect(verdict(change('finished', 1), 3)).toBe('finished'));
  it('retries a failed job while attempts are left', () => {
    expect(verdict(change('failed', 1), 3)).toBe('retry');
    expect(verdict(change('failed', 2), 3)).toBe('retry');
    expect(verdict(change('failed', 3), 3)).toBe('failed');
  });
  it('does not retry a job cancelled by hand', () =>
    expect(verdict(change('cancelled', 1), 3)).toBe('failed'));
});
