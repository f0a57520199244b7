import { describe, expect, it } from 'vitest';
import { decideUpdate, jobStates } from './job-state.js';
import type { JobState } from './job-state.js';

describe('job transition table', () => {
  it('final states never move', () => {
    for (const s of ['finished', 'failed', 'cancelled', 'closed'] as JobState[]) {
      expect(jobStates.isFinal(s)).toBe(true);
      for (const to of jobStates.states) expect(jobStates.canMove(s, to)).toBe(false);
    }
  });
  it('the normal pilot path is legal', () => {
    const path: JobState[] = ['activated', 'sent', 'starting', 'running', 'finished'];
    for (let i = 1; i < path.length; i++) expect(jobStates.canMove(path[i - 1]!, path[i]!)).toBe(true);
  });
  it('nothing goes back to activated from a pilot state', () => {
    for (const s of ['sent', 'starting', 'running', 'holding'] as JobState[]) {
      expect(jobStates.canMove(s, 'activated')).toBe(false);
    }
  });
  it('assertMove throws a named error', () => {
    expect(() => jobStates.assertMove('finished', 'running')).toThrow(
      'job: illegal transition finished -> running',
    );
  });
});

describe('decideUpdate', () => {
  it('refuses unknown jobs, wrong attempts and finished jobs', () => {
    expect(decideUpdate(undefined, { state: 'running', attemptNr: 1 })).toMatchObject({ result: 'notfound' });
    expect(decideUpdate({ state: 'sent', attemptNr: 2 }, { state: 'running', attemptNr: 1 })).toMatchObject({
      result: 'badattemptnr',
    });
    expect(decideUpdate({ state: 'failed', attemptNr: 1 }, { state: 'running', attemptNr: 1 })).toMatchObject(
      {
        result: 'alreadydone',
      },
    );
  });
  it('refuses states a pilot cannot set', () => {
    expect(decideUpdate({ state: 'sent', attemptNr: 1 }, { state: 'activated', attemptNr: 1 })).toMatchObject(
      {
        result: 'illegal',
      },
    );
    expect(decideUpdate({ state: 'sent', attemptNr: 1 }, { state: 'bogus', attemptNr: 1 })).toMatchObject({
      result: 'illegal',
    });
  });
  it('treats a repeat of the current state as a heartbeat and ignores a late starting', () => {
    expect(decideUpdate({ state: 'running', attemptNr: 1 }, { state: 'running', attemptNr: 1 })).toEqual({
      kind: 'heartbeat',
    });
    expect(decideUpdate({ state: 'running', attemptNr: 1 }, { state: 'starting', attemptNr: 1 }).kind).toBe(
      'ignore',
    );
  });
  it('moves along legal edges', () => {
    expect(decideUpdate({ state: 'sent', attemptNr: 1 }, { state: 'running', attemptNr: 0 })).toEqual({
      kind: 'move',
      to: 'running',
    });
    expect(decideUpdate({ state: 'running', attemptNr: 1 }, { state: 'failed', attemptNr: 1 })).toEqual({
      kind: 'move',
      to: 'failed',
    });
  });
});
