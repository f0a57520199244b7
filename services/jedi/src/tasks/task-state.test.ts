import { describe, expect, it } from 'vitest';
import { finalTaskState, taskStates } from './task-state.js';

describe('task lifecycle', () => {
  it('done and aborted only leave through a workflow restart', () => {
    expect(taskStates.canMove('done', 'running')).toBe(false);
    expect(taskStates.canMove('aborted', 'ready')).toBe(false);
    expect(taskStates.sourcesOf('toretry').sort()).toEqual([
      'aborted',
      'done',
      'exhausted',
      'failed',
      'finished',
    ]);
  });
  it('the thin path is legal', () => {
    expect(taskStates.canMove('ready', 'running')).toBe(true);
    expect(taskStates.canMove('running', 'prepared')).toBe(true);
    expect(taskStates.canMove('prepared', 'done')).toBe(true);
    expect(taskStates.canMove('done', 'running')).toBe(false);
  });
  it('computes the PostProcessor verdict', () => {
    expect(finalTaskState(3, 3)).toBe('done');
    expect(finalTaskState(3, 1)).toBe('finished');
    expect(finalTaskState(3, 0)).toBe('failed');
  });
});
