import { describe, expect, it } from 'vitest';
import { ACTIVE_WORKER_STATES, FINAL_WORKER_STATES, isWorkerState, workerTransitions } from './states.js';

describe('worker transitions', () => {
  it('never goes back to submitted', () => {
    expect(workerTransitions.sourcesOf('submitted')).toEqual([]);
  });
  it('keeps final states final', () => {
    for (const state of FINAL_WORKER_STATES) {
      expect(workerTransitions.isFinal(state)).toBe(true);
      for (const to of workerTransitions.states) expect(workerTransitions.canMove(state, to)).toBe(false);
    }
  });
  it('lets every active state end in every final state', () => {
    for (const from of ACTIVE_WORKER_STATES) {
      expect(workerTransitions.isFinal(from)).toBe(false);
      for (const to of FINAL_WORKER_STATES) expect(workerTransitions.canMove(from, to)).toBe(true);
    }
  });
  it('moves between running and idle', () => {
    expect(workerTransitions.canMove('running', 'idle')).toBe(true);
    expect(workerTransitions.canMove('idle', 'running')).toBe(true);
    expect(() => workerTransitions.assertMove('finished', 'running')).toThrow(/illegal transition/);
  });
  it('knows its states', () => {
    expect(isWorkerState('idle')).toBe(true);
    expect(isWorkerState('ready')).toBe(false);
  });
});
