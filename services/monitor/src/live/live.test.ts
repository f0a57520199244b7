import { JobsChanged, WorkflowChanged } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import { LiveHub } from './hub.js';
import { eventKeys } from './keys.js';

describe('live updates', () => {
  it('derives keys from the protobuf payload', () => {
    const wf = WorkflowChanged.encode({
      workflowId: 5,
      name: 'w',
      previousState: 'New',
      state: 'Transforming',
    }).finish();
    expect(eventKeys('panda.workflow.Transforming', wf).keys).toEqual(['workflows', 'workflow:5']);
    const jobs = JobsChanged.encode(
      JobsChanged.fromPartial({
        state: 'failed',
        jobs: [
          {
            pandaId: 9,
            taskId: 3,
            inputId: 1,
            workflowId: 5,
            previousState: 'running',
            state: 'failed',
            attemptNr: 1,
            exitCode: 3,
            errorCode: 1305,
            errorDiag: '',
            queue: 'Q',
          },
        ],
      }),
    ).finish();
    expect(eventKeys('panda.job.failed', jobs).keys).toEqual([
      'jobs',
      'job:9',
      'task:3',
      'workflow:5',
      'queue:Q',
    ]);
  });

  it('a garbled payload still gives the kind key', () => {
    expect(eventKeys('panda.worker.running', new Uint8Array([0xff, 0xff, 0xff])).keys).toEqual(['workers']);
  });

  it('delivers only matching events; * gets all; close ends every stream', () => {
    const hub = new LiveHub();
    const a: string[] = [];
    const all: string[] = [];
    let closed = 0;
    hub.subscribe(
      ['workflow:5'],
      (e) => a.push(e.subject),
      () => closed++,
    );
    const off = hub.subscribe(
      [],
      (e) => all.push(e.subject),
      () => closed++,
    );
    hub.publish({ subject: 'panda.workflow.Finished', keys: ['workflows', 'workflow:5'] });
    hub.publish({ subject: 'panda.workflow.Failed', keys: ['workflows', 'workflow:6'] });
    expect(a).toEqual(['panda.workflow.Finished']);
    expect(all).toHaveLength(2);
    off();
    expect(hub.size).toBe(1);
    hub.close();
    expect(closed).toBe(1);
    expect(hub.counts.get('panda.workflow')).toBe(2);
  });
});
